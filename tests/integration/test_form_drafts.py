"""Form drafts: unsaved input comes back to the same login, sealed at rest, gone on save, logout and after a day."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from core.auth import accounts, sessions
from core.auth import service as auth
from core.drafts import service as drafts
from core.drafts.models import FormDraft
from core.errors import AuthenticationError, ValidationError
from core.patients import retention

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
TIMEOUT = timedelta(minutes=30)
PASSWORD = "korrekt pferd batterie"
KEY = "test secret key for drafts, long enough"
VALUES = {"last_name": "Muster", "birth_date": date(1990, 5, 17), "symptoms": ["Angst"], "previous_therapy_end": None}


@pytest.fixture
def anna(session):
    return auth.create_user(session, email="anna@example.org", role="staff", password=PASSWORD)


def login(session, user, now=NOW) -> tuple[str, str]:
    """Return the login_session id of a fresh login of ``user`` (what the dashboard holds as ``login_id``)."""
    token = sessions.start(session, user=user, now=now)
    return sessions.check(session, token=token, now=now, timeout=TIMEOUT).login_id, token


def keep(session, user, login_id, form_key="patient_new", values=VALUES, now=NOW):
    drafts.save(session, login_id=login_id, user_id=user.id, form_key=form_key, values=values, now=now, secret_key=KEY)


def fetch(session, user, login_id, form_key="patient_new", now=NOW):
    return drafts.get(session, login_id=login_id, user_id=user.id, form_key=form_key, now=now, secret_key=KEY)


def test_save_then_get__the_same_login_gets_its_input_back_with_dates_and_empty_dates(session, anna):
    login_id, _ = login(session, anna)
    keep(session, anna, login_id)
    keep(session, anna, login_id, values={**VALUES, "last_name": "Musterfrau"}, now=NOW + timedelta(minutes=2))

    draft = fetch(session, anna, login_id, now=NOW + timedelta(minutes=3))

    assert draft.values == {**VALUES, "last_name": "Musterfrau"}  # the later change replaced the first
    assert draft.saved_at == NOW + timedelta(minutes=2)
    assert fetch(session, anna, login_id, form_key="therapist_new") is None  # another form has its own


def test_save__the_stored_row_reveals_no_input(session, anna):
    login_id, _ = login(session, anna)
    keep(session, anna, login_id)
    stored = session.execute(text("SELECT sealed_values FROM form_draft")).scalar_one()
    assert "Muster" not in stored
    assert "1990" not in stored


def test_get__another_user_or_another_login_reads_nothing(session, anna):
    ben = auth.create_user(session, email="ben@example.org", role="staff", password=PASSWORD)
    login_id, _ = login(session, anna)
    keep(session, anna, login_id)
    bens_login, _ = login(session, ben)
    annas_other_login, _ = login(session, anna)

    assert fetch(session, ben, login_id) is None  # Ben holding Anna's login id still gets nothing
    assert fetch(session, ben, bens_login) is None
    assert fetch(session, anna, annas_other_login) is None  # another browser of Anna's
    assert fetch(session, anna, login_id) is not None


def test_get__a_draft_older_than_a_day_is_gone(session, anna):
    login_id, _ = login(session, anna)
    keep(session, anna, login_id)
    assert fetch(session, anna, login_id, now=NOW + drafts.MAX_AGE + timedelta(seconds=1)) is None
    assert session.scalar(select(FormDraft.id)) is None


def test_purge__deletes_old_drafts_and_those_of_ended_logins_only(session, anna):
    old_login, _ = login(session, anna)
    keep(session, anna, old_login, now=NOW - timedelta(days=2))
    ended_login, ended_token = login(session, anna)
    keep(session, anna, ended_login)
    sessions.end(session, token=ended_token, now=NOW)
    keep(session, anna, ended_login)  # a late save of a tab that had not noticed the logout
    fresh_login, _ = login(session, anna)
    keep(session, anna, fresh_login)

    assert drafts.purge(session, now=NOW) == 2
    assert list(session.scalars(select(FormDraft.login_session_id))) == [fresh_login]


def test_discard__the_save_of_the_form_forgets_its_draft(session, anna):
    login_id, _ = login(session, anna)
    keep(session, anna, login_id)
    keep(session, anna, login_id, form_key="patient_edit:42")

    assert drafts.discard(session, login_id=login_id, form_key="patient_new") is True

    assert fetch(session, anna, login_id) is None
    assert fetch(session, anna, login_id, form_key="patient_edit:42") is not None


def test_logout__ends_the_logins_drafts(session, anna):
    login_id, token = login(session, anna)
    keep(session, anna, login_id)
    sessions.end(session, token=token, now=NOW + timedelta(minutes=1))
    assert session.scalar(select(FormDraft.id)) is None


def test_timeout_and_deactivation__end_the_drafts_too(session, anna):
    admin = auth.create_user(session, email="ada@example.org", role="admin", password=PASSWORD)
    idle_login, idle_token = login(session, anna)
    keep(session, anna, idle_login)
    with pytest.raises(AuthenticationError, match="timeout"):
        sessions.check(session, token=idle_token, now=NOW + TIMEOUT + timedelta(minutes=1), timeout=TIMEOUT)
    assert session.scalar(select(FormDraft.id)) is None

    other_login, _ = login(session, anna)
    keep(session, anna, other_login)
    accounts.deactivate(session, user_id=anna.id, actor=admin.email, actor_id=admin.id, now=NOW)
    assert session.scalar(select(FormDraft.id)) is None


def test_get__a_draft_sealed_under_another_secret_key_is_dropped(session, anna):
    login_id, _ = login(session, anna)
    keep(session, anna, login_id)
    found = drafts.get(session, login_id=login_id, user_id=anna.id, form_key="patient_new", now=NOW,
                       secret_key="another secret key entirely, also long")  # fmt: skip
    assert found is None
    assert session.scalar(select(FormDraft.id)) is None


def test_save__a_bad_form_key_is_refused_by_name(session, anna):
    login_id, _ = login(session, anna)
    with pytest.raises(ValidationError, match="Form key 'Patient New!' is not valid"):
        keep(session, anna, login_id, form_key="Patient New!")
    assert session.scalar(select(FormDraft.id)) is None


def test_retention_job__purges_stale_drafts(committed_db):
    with Session(committed_db) as session:
        anna = auth.create_user(session, email="anna@example.org", role="staff", password=PASSWORD)
        login_id, _ = login(session, anna, now=NOW - timedelta(days=3))
        keep(session, anna, login_id, now=NOW - timedelta(days=3))
        session.commit()
    report = retention.run(committed_db, now=NOW)
    assert report.drafts_purged == 1
    with Session(committed_db) as session:
        assert session.scalar(select(FormDraft.id)) is None
