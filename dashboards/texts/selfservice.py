"""Texts of inbound mail (replies, bounces) and the self-service pages "Mein Stand" and "Kapazität melden"."""

DE = {
    "job.fetch_mail": "Holt Antworten auf Anfragen und Unzustellbarkeitsmeldungen per IMAP ab und ordnet sie zu.",
}

EN = {
    "job.fetch_mail": "Fetches replies to inquiries and delivery-failure reports over IMAP and files them.",
}
