"""UI text catalogs, one module per area, each with a German ``DE`` and an English ``EN`` dict.

A new area adds a module here and lists it in ``AREAS``; keys are prefixed by the area ("patients.").
"""

from dashboards.texts import (
    admin,
    analytics,
    common,
    communication,
    directory,
    followup,
    geo,
    mail,
    matching,
    matching_pages,
    models,
    operations,
    patients,
    reports,
    selfservice,
    therapists,
    today,
)

AREAS = [
    common, admin, patients, geo, therapists, matching, matching_pages, communication, followup, mail, operations,
    analytics, reports, models, today, selfservice, directory,
]  # fmt: skip
