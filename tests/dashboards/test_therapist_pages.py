"""Therapist pages in Streamlit's AppTest: list, detail (status, edit), create with duplicates, practice view."""

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.therapists import practices
from core.therapists import service as therapists
from core.therapists.models import Practice, Therapist
from tests.dashboards.conftest import log_in, start_app
from tests.dashboards.conftest import texts as visible_texts

TODAY = date.today()


def add(engine, first="Mara", last="Beispiel", **changes) -> int:
    data = {"first_name": first, "last_name": last, "postcode": "10115", "city": "Berlin",
            "procedures": ["VT individual adults"], "phone_hours": "Mo-Fr 9-10", **changes}  # fmt: skip
    with Session(engine) as session:
        therapist = therapists.create(session, data=data, actor="seed@example.org", today=TODAY, allow_duplicate=True)
        session.commit()
        return therapist.id


def open_page(repo_root, make_user, page: str, *, role: str = "admin", **params):
    at = log_in(start_app(repo_root), make_user(email=f"{role}@example.org", role=role))
    for name, value in params.items():
        at.query_params[name] = str(value)
    at.switch_page(f"views/{page}")
    return at.run()


def texts(at) -> str:
    """Every visible text, captions included."""
    return visible_texts(at) + "\n" + "\n".join(str(c.value) for c in at.caption)


def button(at, label: str):
    return next(b for b in at.button if b.label == label)


def table(at, index_name: str | None = None):
    frames = [d.value for d in at.dataframe]
    return frames[0] if index_name is None else next(f for f in frames if f.index.name == index_name)


# -- list -------------------------------------------------------------------------------------------------


def test_list__empty_database_explains_how_to_start(repo_root, make_user):
    at = open_page(repo_root, make_user, "therapists.py")
    assert "Noch keine Therapeut/innen erfasst" in texts(at)


def test_list__shows_rows_and_status_filter_hides_blocked(repo_root, make_user, committed_db):
    add(committed_db, "Ada", "Abel")
    blocked = add(committed_db, "Ben", "Berg", postcode="20095")
    with Session(committed_db) as session:
        therapists.block(session, therapist_id=blocked, reason="Pause", actor="x@example.org", today=TODAY)
        session.commit()
    at = open_page(repo_root, make_user, "therapists.py")
    assert list(table(at)["Name"]) == ["Ada Abel", "Ben Berg"]
    assert list(table(at)["Status"]) == ["aktiv", "gesperrt"]
    at.selectbox(key="therapists_status").select("active").run()
    assert list(table(at)["Name"]) == ["Ada Abel"]
    assert "Seite 1 von 1 · 1 Therapeut/innen" in texts(at)


def test_list__filters_without_match_say_so(repo_root, make_user, committed_db):
    add(committed_db)
    at = open_page(repo_root, make_user, "therapists.py")
    at.text_input(key="therapists_plz").input("8").run()
    assert "Keine Therapeut/innen passen zu diesen Filtern" in texts(at)


def test_list__bad_postcode_prefix_is_explained(repo_root, make_user, committed_db):
    add(committed_db)
    at = open_page(repo_root, make_user, "therapists.py")
    at.text_input(key="therapists_plz").input("1a").run()
    assert "Der PLZ-Anfang „1a“ muss aus 1 bis 5 Ziffern bestehen" in texts(at)


def test_list__pages_through_many_therapists(repo_root, make_user, committed_db):
    with Session(committed_db) as session:
        for i in range(120):
            session.add(Therapist(first_name=f"T{i:03d}", last_name=f"Name{i:03d}", gender="unknown",
                                  postcode="10115", procedures=[]))  # fmt: skip
        session.commit()
    at = open_page(repo_root, make_user, "therapists.py")
    assert len(table(at)) == 50
    at.number_input(key="therapists_page_no").set_value(3).run()
    assert list(table(at)["Name"])[:2] == ["T100 Name100", "T101 Name101"]
    assert "Seite 3 von 3 · 120 Therapeut/innen" in texts(at)


# -- detail -----------------------------------------------------------------------------------------------


def test_detail__without_id_points_back_to_the_list(repo_root, make_user):
    at = open_page(repo_root, make_user, "therapist.py")
    assert "Keine Therapeut/in gewählt" in texts(at)


def test_detail__unknown_id_is_an_error_not_a_crash(repo_root, make_user):
    at = open_page(repo_root, make_user, "therapist.py", id=424242)
    assert "Therapeut/in 424242 gibt es nicht" in texts(at)
    assert not at.exception


def test_detail__shows_profile_phone_hours_grid_and_practice(repo_root, make_user, committed_db):
    mara = add(committed_db, title="Dr.", email="praxis@example.org", languages="de, en")
    colleague = add(committed_db, "Jan", "Kollege", email="praxis@example.org")
    at = open_page(repo_root, make_user, "therapist.py", id=mara)
    assert at.title[0].value == "Dr. Mara Beispiel"
    grid = next(tb.value for tb in at.table if tb.value.columns[0] == "Uhrzeit")
    weekdays = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag")
    assert grid.to_dict()["Uhrzeit"] == dict.fromkeys(weekdays, "09:00–10:00")
    assert "Sprachen: Deutsch, Englisch" in texts(at)
    links = [link.label for link in at.get("page_link")]
    assert any(label.startswith("Praxis Dr. Mara Beispiel") for label in links)
    assert any(label.startswith("Jan Kollege") for label in links), (links, colleague)


def test_detail__block_with_reason_changes_the_status(repo_root, make_user, committed_db):
    mara = add(committed_db)
    at = open_page(repo_root, make_user, "therapist.py", id=mara)
    at.text_input(key="therapist_block_reason").input("Elternzeit")
    button(at, "Sperren").click().run()
    assert "Therapeut/in gesperrt." in texts(at)
    assert "Grund: Elternzeit" in texts(at)
    with Session(committed_db) as session:
        assert session.get(Therapist, mara).status.value == "blocked"


def test_detail__block_without_reason_is_refused(repo_root, make_user, committed_db):
    mara = add(committed_db)
    at = open_page(repo_root, make_user, "therapist.py", id=mara)
    button(at, "Sperren").click().run()
    assert "Bitte einen Grund angeben („Sperren“)" in texts(at)
    with Session(committed_db) as session:
        assert session.get(Therapist, mara).status.value == "active"


def test_detail__manager_may_look_but_not_change(repo_root, make_user, committed_db):
    mara = add(committed_db)
    at = open_page(repo_root, make_user, "therapist.py", role="manager", id=mara)
    assert "Nur Vermittlung und Administration können den Status ändern." in texts(at)
    assert not [b for b in at.button if b.label in {"Sperren", "Speichern"}]


def test_edit__saves_a_change(repo_root, make_user, committed_db):
    mara = add(committed_db)
    key = f"edit_therapist_{mara}"
    at = open_page(repo_root, make_user, "therapist.py", id=mara)
    at.text_input(key=f"{key}_phone").input("030 7654321")
    button(at, "Speichern").click().run()
    assert "Änderungen gespeichert." in texts(at)
    with Session(committed_db) as session:
        assert session.get(Therapist, mara).phone == "+49307654321"


def test_edit__bad_input_is_marked_inline_and_the_input_kept(repo_root, make_user, committed_db):
    mara = add(committed_db)
    key = f"edit_therapist_{mara}"
    at = open_page(repo_root, make_user, "therapist.py", id=mara)
    at.text_input(key=f"{key}_email").input("praxis@")
    at.text_input(key=f"{key}_city").input("Berlin-Mitte")
    button(at, "Speichern").click().run()
    assert "Bitte die markierten Angaben korrigieren" in texts(at)
    assert "„praxis@“ ist keine gültige E-Mail-Adresse" in texts(at)
    assert (at.text_input(key=f"{key}_email").value, at.text_input(key=f"{key}_city").value) == (
        "praxis@",
        "Berlin-Mitte",
    )
    with Session(committed_db) as session:
        assert session.get(Therapist, mara).city == "Berlin"


def test_edit__someone_elses_save_meanwhile_is_named(repo_root, make_user, committed_db):
    mara = add(committed_db)
    key = f"edit_therapist_{mara}"
    at = open_page(repo_root, make_user, "therapist.py", id=mara)
    with Session(committed_db) as session:  # a colleague saves while the form is open
        other = session.get(Therapist, mara)
        therapists.update(session, therapist_id=mara, version=other.version, original=therapists.editable_values(other),
                          changes={"email": "neu@example.org"}, actor="ben@example.org", today=TODAY)  # fmt: skip
        session.commit()
    at.text_input(key=f"{key}_city").input("Potsdam")
    button(at, "Speichern").click().run()
    assert "Jemand anderes hat diese Therapeut/in inzwischen gespeichert. Geändert wurden: E-Mail." in texts(at)
    with Session(committed_db) as session:
        assert session.get(Therapist, mara).city == "Berlin"


# -- create -----------------------------------------------------------------------------------------------


def fill(at, key="new_therapist", **values):
    for field, value in values.items():
        if field == "procedures":
            at.multiselect(key=f"{key}_procedures").set_value(value)
        elif field == "phone_hours":
            at.text_area(key=f"{key}_phone_hours").input(value)
        else:
            at.text_input(key=f"{key}_{field}").input(value)
    return at


def test_create__empty_form_marks_every_required_field(repo_root, make_user, committed_db):
    at = open_page(repo_root, make_user, "therapist_new.py")
    fill(at, first_name="Mara")
    button(at, "Anlegen").click().run()
    page = texts(at)
    assert "Nachname: Pflichtfeld – bitte ausfüllen, z. B. Schmidt." in page
    assert "PLZ: Pflichtfeld – bitte ausfüllen, z. B. 10115." in page
    assert "Bitte mindestens ein Angebot wählen" in page
    assert at.text_input(key="new_therapist_first_name").value == "Mara"
    with Session(committed_db) as session:
        assert session.scalars(select(Therapist)).all() == []


def test_create__valid_input_opens_the_new_record(repo_root, make_user, committed_db):
    at = open_page(repo_root, make_user, "therapist_new.py")
    fill(at, first_name="Mara", last_name="Beispiel", postcode="10115", phone_hours="Mo 9-12, Di 14-15",
         procedures=["VT individual adults", "VT group adults"])  # fmt: skip
    button(at, "Anlegen").click().run()
    assert "Therapeut/in Mara Beispiel wurde angelegt." in texts(at)
    assert at.title[0].value == "Mara Beispiel"
    with Session(committed_db) as session:
        mara = session.scalars(select(Therapist)).one()
        assert mara.phone_hours == {"0": [["09:00", "12:00"]], "1": [["14:00", "15:00"]]}
        assert session.scalars(select(Practice)).one().id == mara.practice_id


def test_create__duplicate_shows_the_existing_record_and_saves_only_when_confirmed(repo_root, make_user, committed_db):
    existing = add(committed_db)
    at = open_page(repo_root, make_user, "therapist_new.py")
    fill(at, first_name="Mara", last_name="Beispiel", postcode="10115", procedures=["TP individual adults"])
    button(at, "Anlegen").click().run()
    assert "Diese Therapeut/in ist möglicherweise schon erfasst" in texts(at)
    assert "Bitte die markierten Angaben korrigieren" not in texts(at)  # no field is wrong, nothing is marked
    links = [link for link in at.get("page_link") if "gleicher Name und PLZ" in link.label]
    assert [link.proto.query_string for link in links] == [f"id={existing}"]
    with Session(committed_db) as session:
        assert len(session.scalars(select(Therapist)).all()) == 1
    button(at, "Trotzdem neu anlegen").click().run()
    assert "wurde angelegt" in texts(at)
    with Session(committed_db) as session:
        assert len(session.scalars(select(Therapist)).all()) == 2


# -- practice ---------------------------------------------------------------------------------------------


def test_practice__without_id_points_back(repo_root, make_user):
    at = open_page(repo_root, make_user, "practices.py")
    assert "Keine Praxis gewählt" in texts(at)


def test_practice__unknown_id_is_explained(repo_root, make_user):
    at = open_page(repo_root, make_user, "practices.py", id=777)
    assert "Praxis 777 gibt es nicht (mehr)" in texts(at)


@pytest.fixture
def team(committed_db) -> list[int]:
    return [add(committed_db, first, "Team", email="team@example.org", street="Am Markt 1") for first in ("Ada", "Ben")]


def test_practice__split_moves_a_member_out(repo_root, make_user, committed_db, team):
    with Session(committed_db) as session:
        practice_id = session.get(Therapist, team[0]).practice_id
    at = open_page(repo_root, make_user, "practices.py", id=practice_id)
    assert "Kontakt per E-Mail" in texts(at)
    at.selectbox(key="split_who").select(team[1])
    button(at, "Abspalten").click().run()
    assert "Ben Team hat jetzt eine eigene Praxis." in texts(at)
    with Session(committed_db) as session:
        assert [t.first_name for t in practices.members(session, practice_id)] == ["Ada"]


def test_practice__merge_needs_confirmation_then_merges(repo_root, make_user, committed_db, team):
    other = add(committed_db, "Cem", "Cohn", street="Ringweg 2")
    with Session(committed_db) as session:
        target, source = session.get(Therapist, team[0]).practice_id, session.get(Therapist, other).practice_id
    at = open_page(repo_root, make_user, "practices.py", id=target)
    at.selectbox(key="merge_candidate").select(source)
    button(at, "Zusammenführen").click().run()
    assert "Bitte eine Praxis wählen und das Zusammenführen bestätigen." in texts(at)
    at.selectbox(key="merge_candidate").select(source)
    at.checkbox(key="merge_confirm").check()
    button(at, "Zusammenführen").click().run()
    assert f"Praxis {source} wurde in diese Praxis übernommen." in texts(at)
    with Session(committed_db) as session:
        assert session.get(Practice, source) is None
        assert session.get(Therapist, other).practice_id == target


def visit(at, page: str, **params):
    """Navigate inside the same browser session (a link, the quick search)."""
    at.query_params.clear()
    for name, value in params.items():
        at.query_params[name] = str(value)
    at.switch_page(f"views/{page}")
    return at.run()


def test_edit__second_visit_shows_the_record_and_saving_keeps_every_value(repo_root, make_user, committed_db):
    mara = add(committed_db, phone="030 1234567", email="mara@example.org", pref_age_min=18,
               last_verified_on=date(2025, 3, 1))  # fmt: skip
    other = add(committed_db, first="Ben", last="Anders")
    key = f"edit_therapist_{mara}"
    at = open_page(repo_root, make_user, "therapist.py", id=mara)
    assert at.text_input(key=f"{key}_phone").value == "030 1234567"  # as dialled, not +49301234567
    visit(at, "therapist.py", id=other)
    visit(at, "therapist.py", id=mara)
    assert not at.exception
    assert (at.text_input(key=f"{key}_first_name").value, at.text_input(key=f"{key}_phone").value) == (
        "Mara",
        "030 1234567",
    )
    assert at.date_input(key=f"{key}_accepting_confirmed_on").value is None  # never confirmed: empty, not today
    assert at.date_input(key=f"{key}_last_verified_on").value == date(2025, 3, 1)
    at.text_input(key=f"{key}_city").input("Berlin-Mitte")
    button(at, "Speichern").click().run()
    assert "Änderungen gespeichert." in texts(at)
    with Session(committed_db) as session:
        saved = session.get(Therapist, mara)
        assert (saved.city, saved.phone, saved.email, saved.pref_age_min) == (
            "Berlin-Mitte",
            "+49301234567",
            "mara@example.org",
            18,
        )
        assert (saved.accepting_confirmed_on, saved.last_verified_on) == (None, date(2025, 3, 1))


def test_create__failed_save_keeps_the_input_across_pages_and_no_date_is_filled_in(repo_root, make_user, committed_db):
    at = open_page(repo_root, make_user, "therapist_new.py")
    fill(at, first_name="Mara", last_name="Neu", postcode="99999", procedures=["VT individual adults"])
    button(at, "Anlegen").click().run()
    assert "Die PLZ „99999“ gibt es in Deutschland nicht" in texts(at)
    visit(at, "therapists.py")
    visit(at, "therapist_new.py")
    assert (at.text_input(key="new_therapist_first_name").value, at.text_input(key="new_therapist_postcode").value) == (
        "Mara",
        "99999",
    )
    assert at.date_input(key="new_therapist_last_verified_on").value is None
    assert at.number_input(key="new_therapist_pref_age_min").value is None
    fill(at, postcode="10115")
    button(at, "Anlegen").click().run()
    with Session(committed_db) as session:
        saved = session.scalars(select(Therapist)).one()
        assert (saved.first_name, saved.last_verified_on, saved.accepting_confirmed_on, saved.pref_age_min) == (
            "Mara",
            None,
            None,
            None,
        )
