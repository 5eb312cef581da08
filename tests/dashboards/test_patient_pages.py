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


def save(at):
    """Press the form's submit button (after a failed save an "Eingaben verwerfen" button stands before it)."""
    next(b for b in at.button if b.label == "Speichern").click().run()


def as_staff(repo_root, staff, file, **query):
    user_id, email = staff
    return open_page(repo_root, file, user_id=user_id, email=email, role="staff", query=query)


def open_tab(at, patient_id: int, label: str):
    """Open a tab of the detail page, as a click on it does (only the open tab runs)."""
    at.session_state[f"patient_tabs_{patient_id}"] = label
    return at.run()


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
    assert "Filter bitte korrigieren: Der PLZ-Anfang „1o“ darf nur Ziffern enthalten, z. B. 10 für Berlin." in texts(at)


def test_new__bad_plz_and_email_are_marked_and_the_input_is_kept(repo_root, staff, committed_db):
    at = as_staff(repo_root, staff, "patient_new.py")
    at.text_input(key="new_patient_first_name").input("Mira")
    at.text_input(key="new_patient_last_name").input("Probe")
    at.date_input(key="new_patient_birth_date").set_value(date(1985, 6, 1))
    at.text_input(key="new_patient_postcode").input("1234")
    at.text_input(key="new_patient_email").input("mira@")
    save(at)
    page = texts(at)
    assert "Bitte die markierten Angaben korrigieren" in page
    assert "Die PLZ „1234“ muss 5 Ziffern haben, z. B. 10115." in page
    assert "„mira@“ ist keine gültige E-Mail-Adresse" in page
    assert at.text_input(key="new_patient_first_name").value == "Mira"  # nothing lost
    with Session(committed_db) as session:
        assert session.scalar(select(func.count()).select_from(Patient)) == 0
    at.text_input(key="new_patient_postcode").input("10115")
    at.text_input(key="new_patient_email").input("mira@example.org")
    save(at)
    with Session(committed_db) as session:
        assert session.scalar(select(Patient.email)) == "mira@example.org"


def test_new__possible_duplicate_is_shown_and_needs_confirmation(repo_root, staff, committed_db):
    make_patient(committed_db)
    at = as_staff(repo_root, staff, "patient_new.py")
    at.text_input(key="new_patient_first_name").input("Lea")
    at.text_input(key="new_patient_last_name").input("Beispiel")
    at.date_input(key="new_patient_birth_date").set_value(date(1990, 3, 1))
    at.text_input(key="new_patient_postcode").input("10115")
    save(at)
    assert "Diese Person ist möglicherweise schon erfasst" in texts(at)
    assert "Bitte die markierten Angaben korrigieren" not in texts(at)  # no field is wrong, nothing is marked
    at.checkbox(key="new_patient_confirm_duplicate").check()
    save(at)
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
    assert "Die Einwilligung in die Verarbeitung von Gesundheitsdaten fehlt." in page
    for _ in range(2):  # record both consents through the form
        next(b for b in at.button if b.label == "Einwilligung erfassen").click().run()
    at.button(key="search_start").click().run()
    assert "Platzsuche gestartet." in texts(at)
    with session_scope(committed_db) as session:
        assert patients.current_search(session, patient_id=pid).status == SearchStatus.ACTIVE


def test_edit__stale_form_is_refused_with_the_changed_fields(repo_root, staff, committed_db):
    pid = make_patient(committed_db)
    at = open_tab(as_staff(repo_root, staff, "patient.py", id=str(pid)), pid, "Bearbeiten")  # the form is open
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
    assert "Therapeut/innen im Umkreis" not in texts(at)  # the map runs only once its tab is opened
    at.session_state[f"patient_tabs_{pid}"] = "Karte"  # the user opens the map tab
    at.run()
    assert "2 aktive Therapeut/innen im Umkreis von 15 km" in texts(at)  # 200 km away and inactive are left out


def visit(at, file: str, **query):
    """Navigate inside the same browser session, as the sidebar's quick search or a page link does."""
    at.query_params.clear()
    for name, value in query.items():
        at.query_params[name] = value
    at.switch_page(f"views/{file}")
    return at.run()


def test_edit__second_visit_after_another_patient_shows_the_record_and_saving_keeps_it(repo_root, staff, committed_db):
    a = make_patient(committed_db, phone="030 1234567", previous_therapy_end=date(2019, 5, 1))
    b = make_patient(committed_db, first_name="Ben", last_name="Anders", email="ben@example.org")
    key = f"edit_patient_{a}"
    at = open_tab(as_staff(repo_root, staff, "patient.py", id=str(a)), a, "Bearbeiten")
    assert at.text_input(key=f"{key}_first_name").value == "Lea"
    assert at.text_input(key=f"{key}_phone").value == "030 1234567"  # as dialled, not +49301234567
    visit(at, "patient.py", id=str(b))
    visit(at, "patient.py", id=str(a))
    open_tab(at, a, "Bearbeiten")
    assert not at.exception
    shown = {f: at.text_input(key=f"{key}_{f}").value for f in ("first_name", "last_name", "postcode", "phone")}
    assert shown == {"first_name": "Lea", "last_name": "Beispiel", "postcode": "10115", "phone": "030 1234567"}
    assert at.date_input(key=f"{key}_birth_date").value == date(1990, 3, 1)
    assert at.date_input(key=f"{key}_previous_therapy_end").value == date(2019, 5, 1)
    at.text_input(key=f"{key}_first_name").input("Leah")
    next(b for b in at.button if b.label == "Speichern").click().run()
    assert "Änderungen gespeichert" in texts(at)
    with Session(committed_db) as session:
        saved = session.get(Patient, a)
        assert (saved.first_name, saved.phone, saved.birth_date, saved.previous_therapy_end) == (
            "Leah",
            "+49301234567",
            date(1990, 3, 1),
            date(2019, 5, 1),
        )


def test_new__failed_save_keeps_the_input_across_pages_and_no_date_is_filled_in(repo_root, staff, committed_db):
    at = as_staff(repo_root, staff, "patient_new.py")
    at.text_input(key="new_patient_first_name").input("Mira")
    at.text_input(key="new_patient_last_name").input("Probe")
    at.date_input(key="new_patient_birth_date").set_value(date(1985, 6, 1))
    at.text_input(key="new_patient_postcode").input("99999")
    at.text_input(key="new_patient_day0").input("08:00-13:00")
    save(at)
    assert "Die PLZ „99999“ gibt es in Deutschland nicht" in texts(at)
    visit(at, "patients.py")
    visit(at, "patient_new.py")
    assert not at.exception
    assert at.text_input(key="new_patient_first_name").value == "Mira"
    assert at.text_input(key="new_patient_day0").value == "08:00-13:00"
    assert at.date_input(key="new_patient_birth_date").value == date(1985, 6, 1)
    assert at.date_input(key="new_patient_previous_therapy_end").value is None
    assert "Die PLZ „99999“ gibt es in Deutschland nicht" in texts(at)  # the user still sees why it was not saved
    at.text_input(key="new_patient_postcode").input("10115")
    save(at)
    with Session(committed_db) as session:
        saved = session.scalars(select(Patient)).one()
        assert (saved.first_name, saved.birth_date, saved.previous_therapy_end) == ("Mira", date(1985, 6, 1), None)


def test_new__a_future_birth_date_is_refused_by_name_and_nothing_is_saved(repo_root, staff, committed_db):
    at = as_staff(repo_root, staff, "patient_new.py")
    assert at.date_input(key="new_patient_birth_date").value is None  # empty, not today
    at.text_input(key="new_patient_first_name").input("Mira")
    at.text_input(key="new_patient_last_name").input("Probe")
    at.date_input(key="new_patient_birth_date").set_value(date(TODAY.year + 1, 1, 1))
    at.text_input(key="new_patient_postcode").input("10115")
    save(at)
    assert f"Das Geburtsdatum 01.01.{TODAY.year + 1} liegt in der Zukunft." in texts(at)
    with Session(committed_db) as session:
        assert session.scalar(select(func.count()).select_from(Patient)) == 0


def test_edit__coming_back_shows_what_a_colleague_saved_meanwhile_and_saves_over_it(repo_root, staff, committed_db):
    a = make_patient(committed_db)
    b = make_patient(committed_db, first_name="Ben", last_name="Anders", email="ben@example.org")
    key = f"edit_patient_{a}"
    at = as_staff(repo_root, staff, "patient.py", id=str(a))
    visit(at, "patient.py", id=str(b))
    with session_scope(committed_db) as session:  # a colleague saves while this user looks at someone else
        p = session.get(Patient, a)
        patients.update(
            session,
            patient_id=a,
            version=p.version,
            original=patients.form_values(p),
            changes={"city": "Berlin"},
            actor="ben@example.org",
            today=TODAY,
        )
    open_tab(visit(at, "patient.py", id=str(a)), a, "Bearbeiten")
    assert at.text_input(key=f"{key}_city").value == "Berlin"
    at.text_input(key=f"{key}_street").input("Lindenstraße 4")
    next(b for b in at.button if b.label == "Speichern").click().run()
    assert "Änderungen gespeichert" in texts(at)
    with Session(committed_db) as session:
        assert (session.get(Patient, a).city, session.get(Patient, a).street) == ("Berlin", "Lindenstraße 4")


def test_edit__failed_save_keeps_the_input_after_visiting_another_patient(repo_root, staff, committed_db):
    a = make_patient(committed_db)
    b = make_patient(committed_db, first_name="Ben", last_name="Anders", email="ben@example.org")
    key = f"edit_patient_{a}"
    at = open_tab(as_staff(repo_root, staff, "patient.py", id=str(a)), a, "Bearbeiten")
    at.text_input(key=f"{key}_city").input("Berlin-Mitte")
    at.text_input(key=f"{key}_postcode").input("99999")
    next(b for b in at.button if b.label == "Speichern").click().run()
    assert "Die PLZ „99999“ gibt es in Deutschland nicht" in texts(at)
    visit(at, "patient.py", id=str(b))
    open_tab(visit(at, "patient.py", id=str(a)), a, "Bearbeiten")
    assert (at.text_input(key=f"{key}_city").value, at.text_input(key=f"{key}_postcode").value) == (
        "Berlin-Mitte",
        "99999",
    )
    at.text_input(key=f"{key}_postcode").input("10117")
    next(b for b in at.button if b.label == "Speichern").click().run()
    with Session(committed_db) as session:
        assert (session.get(Patient, a).city, session.get(Patient, a).postcode) == ("Berlin-Mitte", "10117")


def test_new__input_of_a_failed_save_can_be_discarded(repo_root, staff, committed_db):
    at = as_staff(repo_root, staff, "patient_new.py")
    assert not [b for b in at.button if b.label == "Eingaben verwerfen"]  # nothing to discard yet
    at.text_input(key="new_patient_first_name").input("Mira")
    save(at)
    next(b for b in at.button if b.label == "Eingaben verwerfen").click().run()
    assert at.text_input(key="new_patient_first_name").value == ""
    assert "Bitte die markierten Angaben korrigieren" not in texts(at)


def test_detail__only_the_open_tab_runs_and_input_survives_a_change_of_tab(repo_root, staff, committed_db):
    pid = make_patient(committed_db)
    key = f"edit_patient_{pid}"
    at = as_staff(repo_root, staff, "patient.py", id=str(pid))
    assert "Noch keine Praxis kontaktiert" in texts(at)  # the first tab, Profil
    assert not [w for w in at.text_input if w.key == f"{key}_city"]  # the edit form waits for its tab
    open_tab(at, pid, "Bearbeiten")
    assert "Noch keine Praxis kontaktiert" not in texts(at)
    at.text_input(key=f"{key}_city").input("Berlin-Mitte").run()  # typed, not saved
    open_tab(at, pid, "Protokoll")  # a look at another tab
    open_tab(at, pid, "Bearbeiten")
    assert at.text_input(key=f"{key}_city").value == "Berlin-Mitte"
    save(at)
    assert "Änderungen gespeichert" in texts(at)
    with Session(committed_db) as session:
        assert session.get(Patient, pid).city == "Berlin-Mitte"
