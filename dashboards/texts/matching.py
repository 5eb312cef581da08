"""UI text of matching: the run_matching job now; the proposal, answer and conflict pages add their keys here.

Keys start with "matching." (pages) or "job." (job descriptions on the status page).
"""

DE = {
    "job.run_matching": "Schlägt für alle wartenden Patient/innen Therapeutenanfragen vor; ersetzt nur Vorschläge, "
    "die noch niemand geprüft hat.",
}

EN = {
    "job.run_matching": "Proposes inquiries for every waiting patient; replaces only proposals nobody has reviewed yet.",
}
