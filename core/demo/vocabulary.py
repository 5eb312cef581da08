"""Fixed German vocabulary of the demo data: diagnoses, streets, reasons and answers.

Symptoms are the product's own vocabulary: core.patients.vocabulary.SYMPTOMS.
"""

from __future__ import annotations

# ICD-10 chapter V codes that outpatient psychotherapy sees most
DIAGNOSES = (
    "F32.0", "F32.1", "F32.2", "F33.0", "F33.1", "F34.1", "F40.0", "F40.1", "F41.0", "F41.1",
    "F41.2", "F42.0", "F42.1", "F43.1", "F43.2", "F45.0", "F50.0", "F50.2", "F60.3", "F93.0",
)  # fmt: skip

# Therapists' diagnosis preferences are categories: F40 covers F40.1 (DESIGN 3.2).
DIAGNOSIS_FOCUS = (("F40", "F41"), ("F32", "F33"), ("F50",), ("F43",), ("F42",))

# Common German street names, so no address points at a real person's name.
STREETS = (
    "Hauptstraße", "Schulstraße", "Gartenstraße", "Bahnhofstraße", "Dorfstraße", "Bergstraße",
    "Birkenweg", "Lindenstraße", "Kirchstraße", "Waldstraße", "Ringstraße", "Schillerstraße",
    "Goethestraße", "Wiesenweg", "Jahnstraße", "Am Markt", "Mühlenweg", "Parkstraße",
    "Rosenstraße", "Friedhofstraße", "Lessingstraße", "Feldstraße", "Eichenweg", "Talstraße",
    "Kastanienallee", "Sonnenstraße", "Poststraße", "Uferstraße",
)  # fmt: skip

# geonames names a few big cities in English; addresses should read German
CITY_NAMES = {"Munich": "München", "Nuremberg": "Nürnberg"}

THERAPIST_TITLES = {None: 45, "Dipl.-Psych.": 25, "Dr.": 15, "Dr. phil.": 6, "M.Sc. Psych.": 7, "Prof. Dr.": 2}

# Spoken besides German; shares are rough guesses for a big-city practice landscape.
THERAPIST_EXTRA_LANGUAGES = {
    "en": 0.18, "fr": 0.03, "es": 0.02, "tr": 0.03, "ru": 0.03, "ar": 0.02,
    "pl": 0.02, "it": 0.01, "fa": 0.01, "uk": 0.01,
}  # fmt: skip
PATIENT_LANGUAGES = {
    ("de",): 86, ("de", "en"): 5, ("en",): 2, ("de", "tr"): 2, ("de", "ru"): 1.5,
    ("ar",): 1, ("uk", "ru"): 1, ("de", "pl"): 1, ("fa",): 0.5,
}  # fmt: skip

STATUTORY_INSURERS = (
    "AOK Nordost", "AOK Bayern", "AOK Rheinland/Hamburg", "Techniker Krankenkasse", "BARMER",
    "DAK-Gesundheit", "IKK classic", "KKH", "hkk", "Knappschaft", "BKK firmus",
)  # fmt: skip
PRIVATE_INSURERS = ("Debeka", "Allianz Private Krankenversicherung", "AXA", "Signal Iduna", "HUK-Coburg")
SUBSIDY_BODIES = ("Beihilfe Bund", "Beihilfe Nordrhein-Westfalen", "Beihilfe Bayern", "Beihilfe Berlin")

BLOCK_REASONS = (
    "Bittet um eine Pause bei Anfragen",
    "Möchte nur noch telefonisch kontaktiert werden, Rückmeldung ausstehend",
    "Beschwerde über zu viele Anfragen, vorerst gesperrt",
    "Elternzeit",
)
INACTIVE_REASONS = (
    "Praxis geschlossen",
    "Ruhestand",
    "Unter der Adresse nicht mehr erreichbar",
    "Kassensitz abgegeben",
)
CANCEL_REASONS = (
    "Platz selbst gefunden",
    "Kein Bedarf mehr",
    "Umzug in eine andere Stadt",
    "Nicht mehr erreichbar",
    "Stationäre Behandlung begonnen",
)
PAUSE_REASONS = ("Klinikaufenthalt", "Urlaub", "Prüfungszeit", "Erkrankung")
RELAX_REASONS = ("Ländliche Region, wenige Praxen in der Nähe", "Patientin ist bereit, weiter zu fahren")
DISCARD_REASONS = (
    "Praxis hat telefonisch mitgeteilt, dass sie keine Plätze hat",
    "Therapeut/in ist laut Website im Urlaub",
    "Doppelte Anfrage an dieselbe Praxis",
)
OVERRIDE_REASONS = ("Praxis hat ausdrücklich um weitere Anfragen gebeten",)

ANSWER_MESSAGES = {
    "accepted": ("Gern, Erstgespräch möglich.", "Wir haben einen Platz frei, bitte Termin vereinbaren."),
    "declined_capacity": (
        "Leider derzeit keine freien Plätze.",
        "Warteliste geschlossen, bitte in sechs Monaten erneut anfragen.",
        "Keine Kapazitäten bis Jahresende.",
    ),
    "declined_unsuitable": (
        "Die Symptomatik passt nicht zu unserem Schwerpunkt.",
        "Wir behandeln diese Diagnose nicht ambulant.",
    ),
    "declined_other": ("Praxis zieht um, keine Neuaufnahmen.", "Elternzeit, keine Neuaufnahmen."),
}
