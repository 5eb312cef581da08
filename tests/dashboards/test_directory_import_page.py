"""The directory import page in Streamlit's AppTest: the page for staff, the import history with its report."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.directory import service as directory
from core.directory.reading import Source
from core.therapists import service as therapists
from core.therapists.models import Therapist
from tests.dashboards.conftest import log_in, start_app, texts

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "directory"


def open_import_page(repo_root, make_user, role: str = "staff"):  # the menu offers it to staff and admins only
    at = log_in(start_app(repo_root), make_user(email=f"{role}@example.org", role=role))
    at.switch_page("views/directory_import.py")
    return at.run()


def test_import_page__staff_see_upload_and_an_empty_history(repo_root, make_user):
    at = open_import_page(repo_root, make_user)
    assert not at.exception
    assert "Verzeichnisimport" in texts(at)
    assert "Noch kein Import." in texts(at)


def test_import_page__history_shows_each_import_with_its_report(repo_root, make_user, committed_db):
    with Session(committed_db) as session:
        directory.commit(session, sources=[Source.from_path(FIXTURES / "html_name.json"),
                                           Source.from_path(FIXTURES / "new_format.json")],
                         actor="anna@example.org", today=date(2026, 12, 1))  # fmt: skip
        session.commit()
    at = open_import_page(repo_root, make_user)
    assert not at.exception
    [history, report_tables] = at.dataframe[0], at.dataframe[1:]
    assert history.value.iloc[0].to_dict()["Dateien"] == "html_name.json, new_format.json"
    assert "Neu: 2" in texts(at)
    assert "Abgelehnt: 1" in texts(at)
    problems = report_tables[-1].value
    assert "enthält HTML" in problems.iloc[0]["Meldung"]  # the stored problem, said in German
    assert problems.iloc[0]["Wo"] == "html_name.json, Zeile 3, SYN-5005, name"


def test_import_page__a_broken_file_is_refused_in_german_naming_file_and_line(repo_root, make_user):
    at = open_import_page(repo_root, make_user)
    at.file_uploader(key="directory_import_files").set_value(
        ("truncated.json", (FIXTURES / "truncated.json").read_bytes(), "application/json")
    )
    at.run()
    at.button(key="directory_import_preview").click().run()
    assert not at.exception
    [error] = at.error
    assert error.value.startswith("truncated.json, Zeile ")
    assert "kein gültiges JSON, die Datei endet mittendrin" in error.value
    assert "Bitte die Suchantwort erneut aus dem Browser speichern" in error.value


def queue_a_review(committed_db) -> int:
    """Anna as we hold her, at another street than the directory lists: the import queues her for review."""
    with Session(committed_db) as session:
        ours = therapists.create(session, data={
            "first_name": "Anna", "last_name": "Beispiel", "gender": "female", "street": "Ganz andere Straße 99",
            "postcode": "10115", "city": "Berlin", "procedures": ["VT individual adults"],
        }, actor="anna@example.org", today=date(2026, 12, 1))  # fmt: skip
        directory.commit(session, sources=[Source.from_path(FIXTURES / "new_format.json")], actor="anna@example.org",
                         today=date(2026, 12, 1))  # fmt: skip
        session.commit()
        return ours.id


def test_review_section__empty_state_when_no_match_is_uncertain(repo_root, make_user):
    at = open_import_page(repo_root, make_user)
    assert "Unsichere Zuordnungen" in texts(at)
    assert "Keine offenen Zuordnungen" in texts(at)


def test_review_section__shows_both_sides_and_merging_links_the_therapist(repo_root, make_user, committed_db):
    ours_id = queue_a_review(committed_db)
    at = open_import_page(repo_root, make_user)
    assert "**Dr. Anna Beispiel** (Verzeichnis-ID SYN-1001) – abweichend: Straße" in texts(at)
    [comparison] = [table.value for table in at.table]
    street = comparison.loc["Straße ≠"]
    assert (street["Im Verzeichnis"], street["Bei uns"]) == ("Musterstraße 1", "Ganz andere Straße 99")
    [merge] = [b for b in at.button if b.label == "Derselbe Therapeut (zusammenführen)"]
    merge.click().run()
    assert not at.exception
    # merged as an import updates: the directory's title and street replace ours (staff edited neither)
    assert "Zusammengeführt: Dr. Anna Beispiel trägt jetzt die Verzeichnis-ID" in texts(at)
    assert "Keine offenen Zuordnungen" in texts(at)
    with Session(committed_db) as session:
        merged = session.get(Therapist, ours_id)
        assert (merged.external_id, merged.street) == ("SYN-1001", "Musterstraße 1")


def test_review_section__another_person_is_created_new(repo_root, make_user, committed_db):
    queue_a_review(committed_db)
    at = open_import_page(repo_root, make_user)
    [separate] = [b for b in at.button if b.label == "Andere Person (neu anlegen)"]
    separate.click().run()
    assert not at.exception
    assert "Neu angelegt: Dr. Anna Beispiel." in texts(at)
    with Session(committed_db) as session:
        annas = session.scalars(select(Therapist.street).where(Therapist.last_name == "Beispiel")).all()
    assert sorted(annas) == ["Ganz andere Straße 99", "Musterstraße 1"]
