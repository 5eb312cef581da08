"""UI text of operations: the database outage message and the configuration checks of the status page."""

DE = {
    "operations.database_down": (
        "**Datenbank nicht erreichbar.** Gespeicherte Daten sind nicht verloren. Bitte in einer Minute die "
        "Seite neu laden; bleibt die Meldung, bitte die Administration verständigen."
    ),
    "operations.checks": "Konfiguration",
    "operations.check.mail_ok": "Ausgehende E-Mails gehen an {target}; dort nimmt ein Server an.",
    "operations.check.mail_nobody": (
        "Ausgehende E-Mails gehen an {target}, aber dort nimmt niemand an. SMTP_PORT (oder SMTP_HOST) "
        "prüfen; für den lokalen Mail-Catcher SMTP_PORT leer lassen oder gleich MAIL_CATCHER_PORT ({catcher}) setzen."
    ),
    "operations.check.links_ok": "Antwort-Links zeigen auf {url}.",
    "operations.check.links_elsewhere": (
        "Antwort-Links zeigen auf {url}, die App läuft aber auf Port {port}. PUBLIC_BASE_URL anpassen "
        "oder leer lassen (dann folgt sie APP_PORT)."
    ),
}

EN = {
    "operations.database_down": (
        "**Database not reachable.** Saved data is not lost. Please reload the page in a minute; if the "
        "message stays, please tell your administrator."
    ),
    "operations.checks": "Configuration",
    "operations.check.mail_ok": "Outgoing mail goes to {target}; a server accepts it there.",
    "operations.check.mail_nobody": (
        "Outgoing mail goes to {target}, but nothing listens there. Check SMTP_PORT (or SMTP_HOST); for the "
        "local mail catcher leave SMTP_PORT empty or set it to MAIL_CATCHER_PORT ({catcher})."
    ),
    "operations.check.links_ok": "Answer links point to {url}.",
    "operations.check.links_elsewhere": (
        "Answer links point to {url}, but the app runs on port {port}. Fix PUBLIC_BASE_URL or leave it "
        "empty (it then follows APP_PORT)."
    ),
}
