"""Unsaved input of the patient edit tab and the new-therapist form comes back in a new tab of the same login."""

from datetime import date
from pathlib import Path

from streamlit.testing.v1 import AppTest

from core.db import session_scope
from core.patients import service as patients
from tests.dashboards.conftest import APP, TIMEOUT, open_page, texts

TODAY = date.today()
REPO_ROOT = Path(__file__).resolve().parents[2]


def make_patient(committed_db) -> int:
    data = {"first_name": "Lea", "last_name": "Beispiel", "gender": "female", "birth_date": date(1990, 3, 1),
            "postcode": "10115", "insurance_type": "statutory",
            "availability": [{"weekday": d, "start": "08:00", "end": "13:00"} for d in range(5)]}  # fmt: skip
    with session_scope(committed_db) as session:
        return patients.create(session, data=data, actor="t@example.org", today=TODAY).id


def new_tab(at: AppTest, file: str, query: dict | None = None) -> AppTest:
    """Open ``file`` in a fresh Streamlit session of the same login (what a reload or a new tab gets)."""
    other = AppTest.from_file(str(REPO_ROOT / APP), default_timeout=TIMEOUT)
    other.session_state["login_token"] = at.session_state["login_token"]
    for name, value in (query or {}).items():
        other.query_params[name] = value
    other.switch_page(f"views/{file}")
    other.run()
    if file == "patient.py":  # the user opens the edit tab (only the open tab runs)
        other.session_state[f"patient_tabs_{query['id']}"] = "Bearbeiten"
        other.run()
    return other


def test_edit_tab__typed_input_comes_back_in_a_new_tab_and_is_gone_after_the_save(repo_root, staff, committed_db):
    patient_id = make_patient(committed_db)
    key = f"edit_patient_{patient_id}"
    at = open_page(repo_root, "patient.py", user_id=staff[0], email=staff[1], role="staff",
                   query={"id": str(patient_id)})  # fmt: skip
    at.session_state[f"patient_tabs_{patient_id}"] = "Bearbeiten"  # the user opens the edit tab
    at.run()
    at.text_input(key=f"{key}_city").input("Berlin-Mitte").run()

    again = new_tab(at, "patient.py", {"id": str(patient_id)})

    assert again.text_input(key=f"{key}_city").value == "Berlin-Mitte"
    assert again.text_input(key=f"{key}_first_name").value == "Lea"  # the untouched fields show the record
    assert again.date_input(key=f"{key}_previous_therapy_end").value is None  # an optional date stays empty
    assert "Entwurf wiederhergestellt vom" in texts(again)
    next(b for b in again.button if b.label == "Speichern").click().run()
    assert "Änderungen gespeichert." in texts(again)

    third = new_tab(at, "patient.py", {"id": str(patient_id)})
    assert third.text_input(key=f"{key}_city").value == "Berlin-Mitte"  # now the record's value
    assert "Entwurf wiederhergestellt" not in texts(third)


def test_new_therapist__draft_can_be_discarded(repo_root, staff, committed_db):
    at = open_page(repo_root, "therapist_new.py", user_id=staff[0], email=staff[1], role="staff")
    at.text_input(key="new_therapist_last_name").input("Entwurfmann").run()

    again = new_tab(at, "therapist_new.py")
    assert again.text_input(key="new_therapist_last_name").value == "Entwurfmann"
    next(b for b in again.button if b.label == "Entwurf verwerfen").click().run()

    assert again.text_input(key="new_therapist_last_name").value == ""
    assert new_tab(at, "therapist_new.py").text_input(key="new_therapist_last_name").value == ""
