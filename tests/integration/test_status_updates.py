"""The weekly status mail: to every patient with an active search who wants it, once a week, with their link."""

from datetime import date, timedelta

from sqlalchemy import select

from core.communication import selfservice_links, status_updates
from core.communication import selfservice_patient as mein_stand
from core.communication.models import Email
from core.patients.models import Patient, Search, SearchStatus
from tests.support.matching import NOW, searching_patient


def _patient(session, name: str, **values) -> Patient:
    return session.get(Patient, searching_patient(session, name, **values).patient_id)


def test_status_updates__go_to_active_searches_that_want_them_once_a_week(session):
    lea = _patient(session, "Beispiel", email="lea@example.org", contact_language="en")
    _patient(session, "Ohnemail")  # no address
    quiet = _patient(session, "Ruhig", email="ruhig@example.org")
    quiet.wants_status_updates = False
    paused = searching_patient(session, "Pause", email="pause@example.org")
    paused.status, paused.paused_until = SearchStatus.PAUSED, date(2027, 1, 1)
    erased = _patient(session, "Geloescht", email="weg@example.org")
    erased.erased_at = NOW
    session.flush()

    counts = status_updates.send_weekly(session, now=NOW)

    mails = session.scalars(select(Email).where(Email.template == "status_update")).all()
    assert counts["queued"] == 1
    assert [(m.patient_id, m.to_address, m.language) for m in mails] == [(lea.id, "lea@example.org", "en")]
    assert "/mein_stand?token=" in mails[0].body_text
    again = status_updates.send_weekly(session, now=NOW + timedelta(days=2))  # a second run the same week
    assert (again["queued"], again["skipped_recent"]) == (0, 1)
    next_week = status_updates.send_weekly(session, now=NOW + timedelta(days=7))
    assert next_week["queued"] == 1


def test_status_updates__a_patient_turns_them_off_on_mein_stand(session):
    lea = _patient(session, "Beispiel", email="lea@example.org")
    token = selfservice_links.patient_url(lea.id, now=NOW).split("token=")[1]
    view = mein_stand.set_status_updates(session, token=token, now=NOW, wanted=False)
    assert view.changed
    assert not view.wants_status_updates
    assert status_updates.send_weekly(session, now=NOW)["queued"] == 0
    assert session.scalar(select(Search.status).where(Search.patient_id == lea.id)) == SearchStatus.ACTIVE
