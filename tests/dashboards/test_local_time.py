"""Half past midnight in Berlin (23:30 UTC): every page and export shows the service's local date and time.

The clock is frozen with time-machine at 2026-12-01 23:30 UTC = 2026-12-02 00:30 Europe/Berlin, the hour in
which the UTC date is still yesterday. Postgres keeps its own clock, so rows carry that moment explicitly.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from sqlalchemy import select
from sqlalchemy.orm import Session
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import app_test

from core.audit.models import AuditEvent
from core.communication.models import Email, EmailStatus
from core.db import session_scope
from core.matching import service as matching
from core.patients.models import Patient
from tests.dashboards.conftest import open_page, texts
from tests.support.matching import STAFF, searching_patient, sent, therapist

LATE = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)  # 00:30 on 2 December in Berlin
LOCAL_DAY = "02.12.2026"
LOCAL_MOMENT = "02.12.2026, 00:30"


@pytest.fixture
def half_past_midnight():
    with time_machine.travel(LATE):  # ticking: AppTest's own timeouts need a moving clock
        yield


def as_staff(repo_root, staff, file, **query):
    user_id, email = staff
    return open_page(repo_root, file, user_id=user_id, email=email, role="staff", query=query)


def late_acceptances(committed_db) -> int:
    """Lea is asked by Kraus and Lorenz at LATE; both accept at LATE (Lorenz's is a conflict); return her id."""
    with session_scope(committed_db) as session:
        lea = searching_patient(session, "Beispiel")
        first = sent(session, therapist(session, "Kraus"), [lea], now=LATE)
        second = sent(session, therapist(session, "Lorenz"), [lea], now=LATE)
        for inquiry in (first, second):
            matching.record_answer(session, item_id=inquiry.items[0].id, outcome="accepted", actor=STAFF, now=LATE)
        return lea.patient_id


def test_new_patient__a_birth_date_of_the_local_today_is_accepted(repo_root, staff, committed_db, half_past_midnight):
    at = as_staff(repo_root, staff, "patient_new.py")
    at.text_input(key="new_patient_first_name").input("Mira")
    at.text_input(key="new_patient_last_name").input("Probe")
    at.date_input(key="new_patient_birth_date").set_value(date(2026, 12, 2))  # born tonight, local time
    at.text_input(key="new_patient_postcode").input("10115")
    at.text_input(key="new_patient_day0").input("08:00-18:00")
    next(b for b in at.button if b.label == "Speichern").click().run()
    assert "lies in the future" not in texts(at)
    with Session(committed_db) as session:
        assert session.scalars(select(Patient.birth_date)).one() == date(2026, 12, 2)


def test_rejection_list__download_carries_the_local_date(
    repo_root, staff, committed_db, half_past_midnight, media_stores
):
    patient_id = late_acceptances(committed_db)
    at = as_staff(repo_root, staff, "patient.py", id=str(patient_id))
    assert not at.exception
    (html, html_name), (csv, csv_name) = (download(media_stores[-1], b) for b in at.get("download_button")[:2])
    with Session(committed_db) as session:
        stem = f"absagenliste-{session.get(Patient, patient_id).reference}-2026-12-02"  # dated with the local day
    assert (html_name, csv_name) == (f"{stem}.html", f"{stem}.csv")
    assert f"Stand {LOCAL_DAY}" in html  # the list's own date
    assert csv.splitlines()[1].startswith(f"{LOCAL_DAY};")  # contacted on
    assert csv.splitlines()[1].split(";")[5] == LOCAL_DAY  # answered on
    assert "01.12.2026" not in html + csv


def test_conflicts__the_late_acceptance_and_the_placement_carry_the_same_local_day(
    repo_root, staff, committed_db, half_past_midnight
):
    late_acceptances(committed_db)
    page = texts(as_staff(repo_root, staff, "conflicts.py"))
    assert f"am {LOCAL_DAY} zugesagt" in page
    assert f"({LOCAL_DAY})" in page  # placed on the same local day, not "accepted the day before it was placed"


def test_patient_tabs__protokoll_and_kommunikation_show_one_event_at_one_local_time(
    repo_root, staff, committed_db, half_past_midnight
):
    patient_id = late_acceptances(committed_db)
    with session_scope(committed_db) as session:
        patient = session.get(Patient, patient_id)
        session.add(Email(patient_id=patient_id, to_address="lea@example.org", subject="Ihre Platzsuche", body_text="-",
                          template="patient_update", message_id="<tz@example.org>", status=EmailStatus.SENT,
                          sent_at=LATE))  # fmt: skip
        session.add(AuditEvent(occurred_at=LATE, actor=STAFF, action="patient.mailed", entity_type="patient",
                               entity_id=str(patient.id)))  # fmt: skip
    at = as_staff(repo_root, staff, "patient.py", id=str(patient_id))
    assert not at.exception
    at.session_state[f"patient_tabs_{patient_id}"] = "Protokoll"  # only the open tab runs
    audit = frame_with(at.run(), "Wer")  # the Protokoll tab: Zeitpunkt, Wer, Aktion, ...
    at.session_state[f"patient_tabs_{patient_id}"] = "Kommunikation"
    communication = frame_with(at.run(), "Zeitpunkt", without="Wer")
    assert LOCAL_MOMENT in list(audit["Zeitpunkt"])
    assert LOCAL_MOMENT in list(communication["Zeitpunkt"])  # the same moment written the same way in both tabs
    assert "01.12.2026, 23:30" not in [*audit["Zeitpunkt"], *communication["Zeitpunkt"]]  # UTC, an hour off


def frame_with(at, column: str, *, without: str | None = None):
    return next(f.value for f in at.dataframe if column in f.value.columns and without not in f.value.columns)


@pytest.fixture
def media_stores(monkeypatch):
    """Keep the in-memory media store of each AppTest run (AppTest drops it after the run) to read downloads."""
    stores = []

    class KeptStorage(MemoryMediaFileStorage):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            stores.append(self)

    monkeypatch.setattr(app_test, "MemoryMediaFileStorage", KeptStorage)
    return stores


def download(store, button) -> tuple[str, str]:
    """The text and file name a download button hands out, read back from the run's media store."""
    file = store.get_file(button.proto.url.rsplit("/", 1)[-1].split(".", 1)[0])
    return file.content.decode("utf-8"), file.filename
