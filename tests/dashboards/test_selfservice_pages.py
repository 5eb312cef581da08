"""The public self-service pages work without login, in German and English, and refuse bad links."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from core.communication import inbound, inbound_store, links, selfservice_links
from core.communication.inbound_models import InboundMail
from core.communication.selfservice_models import CapacityReport
from core.config import get_settings
from core.patients.models import Search, SearchStatus
from core.therapists.models import Therapist
from tests.dashboards.conftest import APP, TIMEOUT, texts
from tests.dashboards.test_calls_page import as_staff
from tests.support.matching import searching_patient, sent, therapist

REPO = Path(__file__).resolve().parents[2]


def token_for(record_id: int, purpose: bytes, *, days: int = 42) -> str:
    expires = datetime.now(UTC) + timedelta(days=days)
    return links.make_token(record_id, secret=get_settings().resolved_secret_key(), expires_at=expires, purpose=purpose)


def open_page(page: str, token: str | None) -> AppTest:
    at = AppTest.from_file(str(REPO / APP), default_timeout=TIMEOUT)
    if token is not None:
        at.query_params["token"] = token
    at.switch_page(f"views/{page}")
    return at.run()


@pytest.fixture
def search(committed_db) -> Search:
    with Session(committed_db, expire_on_commit=False) as session:
        row = searching_patient(session, "Geheim", first_name="Lea", email="lea@example.org")
        session.commit()
    return row


@pytest.fixture
def doctor(committed_db) -> Therapist:
    with Session(committed_db, expire_on_commit=False) as session:
        row = therapist(session, "Kraus", accepting_patients=None)
        session.commit()
    return row


def test_mein_stand_page__shows_the_search_and_pauses_it_without_login(committed_db, search):
    at = open_page("mein_stand.py", token_for(search.patient_id, selfservice_links.PATIENT_PURPOSE))
    assert not at.exception
    assert not [w for w in at.text_input if w.key == "login_email"]  # no login form in the way
    assert "Guten Tag Lea" in texts(at)
    assert "Wir suchen seit dem 01.06.2026" in texts(at)
    at.date_input[0].set_value(date.today() + timedelta(days=30))
    at.button(key="FormSubmitter:mein_stand_pause-Suche pausieren").click()
    at.run()
    assert "Gespeichert. Vielen Dank!" in texts(at)
    assert "Ihre Suche ist pausiert bis" in texts(at)
    with Session(committed_db) as session:
        assert session.get(Search, search.id).status == SearchStatus.PAUSED


def test_mein_stand_page__speaks_english_after_the_switch(committed_db, search):
    at = open_page("mein_stand.py", token_for(search.patient_id, selfservice_links.PATIENT_PURPOSE))
    at.selectbox(key="mein_stand_language").set_value("en").run()
    assert "My status" in texts(at)
    assert "We have been searching for you since" in texts(at)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda pid: token_for(pid, selfservice_links.PATIENT_PURPOSE)[:-2] + "xx",
            "unvollständig oder wurde verändert",
        ),
        (lambda pid: token_for(pid, selfservice_links.PATIENT_PURPOSE, days=-1), "abgelaufen"),
        (lambda pid: None, "genau so, wie er in unserer E-Mail steht"),
    ],
)
def test_mein_stand_page__a_bad_link_says_so_and_shows_nothing(committed_db, search, make, message):
    at = open_page("mein_stand.py", make(search.patient_id))
    assert not at.exception
    assert message in texts(at)
    assert "Lea" not in texts(at)
    assert not at.form


def test_kapazitaet_page__records_a_report_without_login(committed_db, doctor):
    at = open_page("kapazitaet.py", token_for(doctor.id, selfservice_links.THERAPIST_PURPOSE))
    assert not at.exception
    assert "Kapazität melden" in texts(at)
    at.radio[0].set_value(True)
    at.number_input[0].set_value(4)
    at.button[0].click()
    at.run()
    assert "Gespeichert. Vielen Dank!" in texts(at)
    with Session(committed_db) as session:
        report = session.scalar(select(CapacityReport))
        assert (report.accepting, report.hours_per_week) == (True, 4)
        assert session.get(Therapist, doctor.id).accepting_patients is True


def test_kapazitaet_page__a_patients_link_does_not_open_it(committed_db, doctor):
    at = open_page("kapazitaet.py", token_for(doctor.id, selfservice_links.PATIENT_PURPOSE))
    assert "unvollständig oder wurde verändert" in texts(at)
    assert not at.form


def test_inquiry_thread__shows_a_reply_and_staff_mark_it_handled(repo_root, staff, committed_db):
    with Session(committed_db, expire_on_commit=False) as session:
        inquiry = sent(session, therapist(session, "Kraus"), [searching_patient(session)])
        raw = (f"From: praxis@example.org\r\nTo: vermittlung@example.org\r\nSubject: AW: Anfrage {inquiry.reference}"
               "\r\nMessage-ID: <r1@example.org>\r\n\r\nAb Januar haben wir einen Platz.\r\n").encode()  # fmt: skip
        inbound_store.file_mail(session, parsed=inbound.parse(raw), now=datetime.now(UTC))
        session.commit()
    at = as_staff(repo_root, staff, "inquiry_thread.py", id=str(inquiry.id))
    assert not at.exception
    assert "Ab Januar haben wir einen Platz." in "\n".join(str(e.value) for e in at.text)
    at.button(key=next(b.key for b in at.button if b.key and b.key.startswith("inbound_handled_"))).click().run()
    with Session(committed_db) as session:
        assert session.scalar(select(InboundMail.handled_by)) == "sam@example.org"
        assert inbound_store.open_inbound_counts(session)["replies"] == 0


def test_mein_stand_page__the_empty_day_choice_asks_in_german(committed_db, search):
    at = open_page("mein_stand.py", token_for(search.patient_id, selfservice_links.PATIENT_PURPOSE))
    [days] = at.multiselect
    assert days.proto.placeholder == "Auswählen …"  # not Streamlit's own "Choose options"
