"""Patient pages in AppTest: list, create (inline errors keep the input), detail tabs and actions, edit conflict."""

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit.models import AuditEvent
from core.db import session_scope
from core.demo import seed
from core.patients import service as patients
from core.patients.models import Patient, SearchStatus
from tests.dashboards.conftest import open_page, texts

TODAY = date.today()


def as_staff(repo_root, staff, file, **query):
    user_id, email = staff
    return open_page(repo_root, file, user_id=user_id, email=email, role="staff", query=query)


def make_patient(committed_db, **changes) -> int:
    data = {
        "first_name": "Lea",
        "last_name": "Beispiel",
        "gender": "female",
        "birth_date": date(1990, 3, 1),
        "postcode": "10115",
        "email": "lea@example.org",
        "insurance_type": "statutory",
        "availability": [{"weekday": d, "start": "08:00", "end": "13:00"} for d in range(5)],
    }
    data.update(changes)
    with session_scope(committed_db) as session:
        return patients.create(session, data=data, actor="t@example.org", today=TODAY).id


def test_list__empty_state_says_how_to_start(repo_root, staff):
    at = as_staff(repo_root, staff, "patients.py")
    assert not at.exception
    assert "Noch keine Patient/innen erfasst" in texts(at)


def test_list__shows_a_page_of_demo_patients_and_filters(repo_root, staff, committed_db):
    with session_scope(committed_db) as session:
        seed(session, therapists=60, patients=30, seed=3, today=TODAY)
    at = as_staff(repo_root, staff, "patients.py")
    assert "Seite 1 von 1 · 30 Patient/innen" in texts(at)
    assert len(at.dataframe[0].value) == 30
    at.text_input(key="patients_text").input("niemand-heißt-so").run()
    assert "Keine Patient/innen gefunden" in texts(at)


def test_list__bad_postcode_prefix_is_explained(repo_root, staff):
    at = as_staff(repo_root, staff, "patients.py")
    at.text_input(key="patients_prefix").input("1o").run()
    assert "Filter bitte korrigieren: PLZ prefix '1o' must contain digits only, e.g. 10 for Berlin" in texts(at)


def test_new__bad_plz_and_email_are_marked_and_the_input_is_kept(repo_root, staff, committed_db):
    at = as_staff(repo_root, staff, "patient_new.py")
    at.text_input(key="new_patient_first_name").input("Mira")
    at.text_input(key="new_patient_last_name").input("Probe")
    at.date_input(key="new_patient_birth_date").set_value(date(1985, 6, 1))
    at.text_input(key="new_patient_postcode").input("1234")
    at.text_input(key="new_patient_email").input("mira@")
    at.button[0].click().run()
    page = texts(at)
    assert "Bitte die markierten Angaben korrigieren" in page
    assert "PLZ '1234' must have 5 digits, e.g. 10115" in page
    assert "E-mail 'mira@' is not a valid address" in page
    assert at.text_input(key="new_patient_first_name").value == "Mira"  # nothing lost
    with Session(committed_db) as session:
        assert session.scalar(select(func.count()).select_from(Patient)) == 0
    at.text_input(key="new_patient_postcode").input("10115")
    at.text_input(key="new_patient_email").input("mira@example.org")
    at.button[0].click().run()
    with Session(committed_db) as session:
        assert session.scalar(select(Patient.email)) == "mira@example.org"


def test_new__possible_duplicate_is_shown_and_needs_confirmation(repo_root, staff, committed_db):
    make_patient(committed_db)
    at = as_staff(repo_root, staff, "patient_new.py")
    at.text_input(key="new_patient_first_name").input("Lea")
    at.text_input(key="new_patient_last_name").input("Beispiel")
    at.date_input(key="new_patient_birth_date").set_value(date(1990, 3, 1))
    at.text_input(key="new_patient_postcode").input("10115")
    at.button[0].click().run()
    assert "Diese Person ist möglicherweise schon erfasst" in texts(at)
    at.checkbox(key="new_patient_confirm_duplicate").check()
    at.button[0].click().run()
    with Session(committed_db) as session:
        assert session.scalar(select(func.count()).select_from(Patient)) == 2


def test_detail__without_or_with_unknown_id(repo_root, staff):
    assert "Keine Patient/in ausgewählt" in texts(as_staff(repo_root, staff, "patient.py"))
    assert "Patient/in 999999 gibt es nicht" in texts(as_staff(repo_root, staff, "patient.py", id="999999"))


def test_detail__opening_is_audited_once_and_tabs_render(repo_root, staff, committed_db):
    pid = make_patient(committed_db)
    at = as_staff(repo_root, staff, "patient.py", id=str(pid))
    assert not at.exception
    assert [tab.label for tab in at.tabs][:4] == ["Profil", "Wünsche & Verfügbarkeit", "Karte", "Suche & Anfragen"]
    assert "Noch keine Praxis kontaktiert" in texts(at)  # empty Absagenliste
    at.run()
    with Session(committed_db) as session:
        assert session.scalar(select(func.count()).where(AuditEvent.action == "patient.viewed")) == 1


def test_detail__search_start_lists_missing_consents_then_starts(repo_root, staff, committed_db):
    pid = make_patient(committed_db)
    at = as_staff(repo_root, staff, "patient.py", id=str(pid))
    at.button(key="search_start").click().run()
    page = texts(at)
    assert "Die Suche kann noch nicht starten" in page
    assert "Consent to the processing of health data is missing" in page
    for _ in range(2):  # record both consents through the form
        next(b for b in at.button if b.label == "Einwilligung erfassen").click().run()
    at.button(key="search_start").click().run()
    assert "Platzsuche gestartet." in texts(at)
    with session_scope(committed_db) as session:
        assert patients.current_search(session, patient_id=pid).status == SearchStatus.ACTIVE


def test_edit__stale_form_is_refused_with_the_changed_fields(repo_root, staff, committed_db):
    pid = make_patient(committed_db)
    at = as_staff(repo_root, staff, "patient.py", id=str(pid))
    with session_scope(committed_db) as session:  # a colleague saves first
        p = session.get(Patient, pid)
        patients.update(
            session,
            patient_id=pid,
            version=p.version,
            original=patients.form_values(p),
            changes={"city": "Berlin"},
            actor="ben@example.org",
            today=TODAY,
        )
    key = f"edit_patient_{pid}"
    at.text_input(key=f"{key}_phone").input("030 1234567")
    next(b for b in at.button if b.label == "Speichern").click().run()
    assert "Jemand anderes hat diese Akte inzwischen gespeichert. Geändert wurden: Ort" in texts(at)
    with Session(committed_db) as session:
        assert session.get(Patient, pid).phone is None


def test_detail__erasure_needs_admin_and_explicit_confirmation(repo_root, staff, committed_db):
    pid = make_patient(committed_db)
    assert "Betroffenenrechte" not in str(
        [e.label for e in as_staff(repo_root, staff, "patient.py", id=str(pid)).expander]
    )
    user_id, email = staff
    at = open_page(repo_root, "patient.py", user_id=user_id, email=email, role="admin", query={"id": str(pid)})
    at.text_input(key=None) if False else None
    form_button = next(b for b in at.button if b.label == "Unwiderruflich anonymisieren")
    form_button.click().run()
    assert "Bitte die Anonymisierung ausdrücklich bestätigen." in texts(at)
    with Session(committed_db) as session:
        assert session.get(Patient, pid).erased_at is None


def test_detail__map_tab_lists_the_nearest_active_therapists(repo_root, staff, committed_db):
    from core.therapists.models import Therapist

    with session_scope(committed_db) as session:
        for i, (lat, status) in enumerate(
            [(52.535, "active"), (52.60, "active"), (53.5, "active"), (52.54, "inactive")]
        ):
            session.add(
                Therapist(
                    first_name="T",
                    last_name=f"Nah{i}",
                    gender="female",
                    postcode="10115",
                    latitude=lat,
                    longitude=13.385,
                    status=status,
                    status_reason=None if status == "active" else "Ruhestand",
                )
            )
    pid = make_patient(committed_db, max_distance_km=15)
    at = as_staff(repo_root, staff, "patient.py", id=str(pid))
    assert "2 aktive Therapeut/innen im Umkreis von 15 km" in texts(at)  # 200 km away and inactive are left out
