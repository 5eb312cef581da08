"""UI text of the patient pages: list, detail, forms, consent, search, Absagenliste, data-subject rights."""

DE = {
    "job.reactivate_searches": "Setzt pausierte Platzsuchen am Ende der Pause automatisch fort.",
}

EN = {
    "job.reactivate_searches": "Resumes paused searches automatically when their pause ends.",
}
