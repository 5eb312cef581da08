"""The public answer page works without login; the mail preview renders every template for staff."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from core.communication import links
from core.config import get_settings
from core.matching.models import InquiryItem, ItemOutcome
from tests.dashboards.conftest import APP, TIMEOUT, open_page, texts
from tests.support.matching import searching_patient, sent, therapist

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def item_ids(committed_db) -> list[int]:
    with Session(committed_db) as session:
        doctor = therapist(session, "Kraus")
        inquiry = sent(session, doctor, [searching_patient(session, "Geheim"), searching_patient(session, "Muster")])
        ids = [item.id for item in inquiry.items]
        session.commit()
    return ids


def token_for(item_id: int, *, days: int = 42) -> str:
    expires = datetime.now(UTC) + timedelta(days=days)
    return links.make_token(item_id, secret=get_settings().resolved_secret_key(), expires_at=expires)


def open_logged_out(token: str | None) -> AppTest:
    at = AppTest.from_file(str(REPO / APP), default_timeout=TIMEOUT)
    if token is not None:
        at.query_params["token"] = token
    at.switch_page("views/answer.py")
    return at.run()


def outcome_of(engine, item_id: int) -> ItemOutcome:
    with Session(engine) as session:
        return session.get(InquiryItem, item_id).outcome


def test_answer_page__records_an_acceptance_without_login(committed_db, item_ids):
    at = open_logged_out(token_for(item_ids[0]))
    assert not at.exception
    assert "Antwort auf unsere Anfrage" in texts(at)
    assert not [w for w in at.text_input if w.key == "login_email"]  # no login form in the way
    assert "Geheim" not in texts(at)
    assert "Muster" not in texts(at)
    at.radio[0].set_value(ItemOutcome.ACCEPTED)
    at.text_area[0].input("Wir melden uns für einen Termin.")
    at.button[0].click()
    at.run()
    assert "Vielen Dank! Ihre Antwort ist gespeichert: Ich biete einen Platz an." in texts(at)
    assert outcome_of(committed_db, item_ids[0]) == ItemOutcome.ACCEPTED


def test_answer_page__a_reused_link_shows_the_recorded_answer(committed_db, item_ids):
    at = open_logged_out(token_for(item_ids[1]))
    at.radio[0].set_value(ItemOutcome.DECLINED_CAPACITY)
    at.button[0].click()
    at.run()
    again = open_logged_out(token_for(item_ids[1]))
    assert "bereits eine Antwort gespeichert: Kein Platz frei" in texts(again)
    assert not again.radio  # no form: the link changes nothing any more


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (lambda i: token_for(i)[:-3] + "abc", "ungültig oder wurde verändert"),  # tampered
        (lambda i: token_for(i, days=-2), "abgelaufen"),  # expired
        (lambda i: None, "fehlt der Antwort-Link"),  # opened without a token
    ],
)
def test_answer_page__a_bad_link_says_so_and_shows_no_form(committed_db, item_ids, token, message):
    at = open_logged_out(token(item_ids[0]))
    assert message in texts(at)
    assert not at.radio
    assert outcome_of(committed_db, item_ids[0]) == ItemOutcome.PENDING


def test_answer_page__asks_for_a_choice_before_saving(committed_db, item_ids):
    at = open_logged_out(token_for(item_ids[0]))
    at.button[0].click()
    at.run()
    assert "Bitte wählen Sie eine Antwort aus" in texts(at)
    assert outcome_of(committed_db, item_ids[0]) == ItemOutcome.PENDING


def test_mail_preview__renders_every_template_in_both_languages(repo_root, staff):
    from core.communication.templates import TEMPLATES

    user_id, email = staff
    at = open_page(repo_root, "mail_preview.py", user_id=user_id, email=email, role="staff")
    assert "Betreff: Anfrage A-2026-000123" in texts(at)
    for template in TEMPLATES:
        for language in ("de", "en"):
            at.selectbox(key="preview_template").set_value(template)
            at.radio(key="preview_language").set_value(language)
            at.run()
            assert not at.exception, (template, language)
            assert not at.error, (template, language)
            assert "Betreff:" in texts(at)
    assert "Update on your search" in texts(at)  # the last one: status_update in English


def test_mail_preview__is_not_open_to_analysts(repo_root, committed_db):
    at = open_page(repo_root, "mail_preview.py", user_id=1, email="ana@example.org", role="analyst")
    assert "Mail-Vorschau" not in texts(at)
    assert "Betreff:" not in texts(at)


def test_answer_page__a_first_appointment_in_the_past_is_refused_in_german(committed_db, item_ids):
    at = open_logged_out(token_for(item_ids[0]))
    at.radio[0].set_value(ItemOutcome.ACCEPTED)
    at.date_input[0].set_value(datetime.now(UTC).date() - timedelta(days=3))
    at.button[0].click()
    at.run()
    page = texts(at)
    assert "Der erste Termin am " in page
    assert "liegt in der Vergangenheit; bitte ein späteres Datum wählen." in page
    assert "lies in the past" not in page
    assert outcome_of(committed_db, item_ids[0]) == ItemOutcome.PENDING


def test_mail_preview__names_the_template_for_people_and_shows_no_source_paths(repo_root, staff):
    user_id, email = staff
    at = open_page(repo_root, "mail_preview.py", user_id=user_id, email=email, role="staff")
    at.selectbox(key="preview_template").set_value("reminder").run()
    page = texts(at)
    assert "Vorlage: Erinnerung an Praxis" in page  # what staff call it
    for source_detail in ("core/", "templates/", ".md", "reminder.de"):
        assert source_detail not in page, source_detail
