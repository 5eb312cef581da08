"""Directory import on real PostgreSQL: identity, field-by-field changes, staff edits win, vanished therapists."""

from __future__ import annotations

import gc
import json
import random
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.audit.models import AuditEvent
from core.directory import placing
from core.directory import service as directory
from core.directory.models import DirectoryImport, DirectoryListing, DirectoryReview
from core.directory.reading import Source, read_sources
from core.errors import IllegalTransition, ValidationError
from core.therapists import service as therapists
from core.therapists.models import Practice, Therapist, TherapistStatus

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "directory"
TODAY = date(2026, 12, 1)
STAFF = "anna@example.org"


def sources(*names: str) -> list[Source]:
    return [Source.from_path(FIXTURES / name) for name in names]


def entries_file(tmp_path: Path, name: str, entries: list[dict]) -> Source:
    path = tmp_path / name
    path.write_text(json.dumps({"arztPraxisDatas": entries, "moreResults": False}, ensure_ascii=False))
    return Source.from_path(path)


def fixture_entries(name: str = "new_format.json") -> list[dict]:
    return json.loads((FIXTURES / name).read_text())["arztPraxisDatas"]


def commit(session, srcs, today=TODAY) -> DirectoryImport:
    return directory.commit(session, sources=srcs, actor=STAFF, today=today)


def by_external_id(session, external_id: str) -> Therapist:
    return session.scalars(select(Therapist).where(Therapist.external_id == external_id)).one()


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_commit__imports_both_json_formats_and_both_csv_layouts_field_by_field(session):
    record = commit(session, sources("new_format.json", "old_format.json", "layout_a.csv", "layout_b.csv"))
    assert record.counts["new"] == 6
    anna = by_external_id(session, "SYN-1001")
    assert (anna.title, anna.first_name, anna.last_name, anna.gender.value) == ("Dr.", "Anna", "Beispiel", "female")
    assert (anna.street, anna.postcode, anna.city) == ("Musterstraße 1", "10115", "Berlin")
    assert (anna.latitude, anna.longitude, anna.location_source) == (52.5321, 13.3849, "directory")
    assert (anna.phone, anna.email, anna.languages) == ("+49301234567", "praxis.beispiel@example.org", ["de", "en"])
    assert anna.phone_hours == {"0": [["09:00", "10:00"]], "2": [["14:00", "15:00"]]}
    assert (anna.source.value, anna.last_verified_on, anna.status) == ("116117", TODAY, TherapistStatus.ACTIVE)
    assert session.get(DirectoryListing, anna.id).consultation_hours["consultation"] == {"0": [["10:00", "13:00"]]}
    assert by_external_id(session, "SYN-1002").postcode == "01067"
    assert by_external_id(session, "SYN-2001").phone_hours == {"0": [["12:00", "12:30"]], "4": [["12:00", "12:30"]]}
    assert by_external_id(session, "CSV-3001").phone_hours["3"] == [["09:00", "10:00"]]
    assert by_external_id(session, "CSV-4001").street == "Erfundene Str. 5"
    assert anna.practice_id is not None  # grouped into a practice like a therapist typed in


def test_commit__the_same_files_again_report_zero_changes(session):
    files = ("new_format.json", "old_format.json", "layout_a.csv", "layout_b.csv")
    commit(session, sources(*files))
    again = commit(session, sources(*files))
    assert again.counts["changes"] == 0
    assert (again.counts["new"], again.counts["changed"], again.counts["unchanged"]) == (0, 0, 6)
    assert count(session, Therapist) == 6


def test_commit__keeps_each_changed_field_with_its_import_and_in_the_therapist_history(session, tmp_path):
    commit(session, sources("new_format.json"))
    entries = fixture_entries()
    entries[0]["tel"] = "030 9999999"
    entries[0]["email"] = "neu@example.org"
    record = commit(session, [entries_file(tmp_path, "neu.json", entries)], today=TODAY + timedelta(days=7))
    anna = by_external_id(session, "SYN-1001")
    assert (anna.phone, anna.email, anna.last_verified_on) == ("+49309999999", "neu@example.org", TODAY + timedelta(7))
    changes = {(c.field, c.old_value, c.new_value) for c in directory.changes_of(session, therapist_id=anna.id)
               if c.import_id == record.id}  # fmt: skip
    assert changes == {("phone", "+49301234567", "+49309999999"), ("email", "praxis.beispiel@example.org",
                                                                     "neu@example.org")}  # fmt: skip
    audit = session.scalars(select(AuditEvent).where(AuditEvent.entity_id == str(anna.id),
                                                     AuditEvent.action == "therapist.imported")).one()  # fmt: skip
    assert (audit.details["fields"], audit.reason) == (["email", "phone"], f"Verzeichnisimport #{record.id}")
    assert record.counts["changed"] == 1


def test_commit__a_field_staff_edited_keeps_its_value_and_the_conflict_is_listed(session, tmp_path):
    commit(session, sources("new_format.json"))
    anna = by_external_id(session, "SYN-1001")
    therapists.update(session, therapist_id=anna.id, version=anna.version, original=therapists.editable_values(anna),
                      changes={"phone": "030 5555555"}, actor=STAFF, today=TODAY)  # fmt: skip
    entries = fixture_entries()
    entries[0]["tel"] = "030 9999999"
    entries[0]["ort"] = "Berlin-Mitte"
    record = commit(session, [entries_file(tmp_path, "neu.json", entries)], today=TODAY + timedelta(days=1))
    session.refresh(anna)
    assert anna.phone == "+49305555555"  # staff's number, not the directory's
    assert anna.city == "Berlin-Mitte"  # a field nobody edited follows the directory
    assert record.report["conflicts"] == [{"therapist_id": anna.id, "name": "Dr. Anna Beispiel", "field": "phone",
                                           "kept": "+49305555555", "imported": "+49309999999"}]  # fmt: skip
    kinds = {(c.kind, c.field) for c in directory.changes_of(session, therapist_id=anna.id) if c.import_id == record.id}
    assert kinds == {("conflict", "phone"), ("changed", "city")}


def test_commit__a_match_on_name_and_address_links_the_directory_id(session):
    mara = therapists.create(session, data={
        "first_name": "Anna", "last_name": "Beispiel", "gender": "female", "street": "Musterstr. 1",
        "postcode": "10115", "city": "Berlin", "procedures": ["VT individual adults"],
    }, actor=STAFF, today=TODAY)  # fmt: skip
    commit(session, sources("new_format.json"))
    assert by_external_id(session, "SYN-1001").id == mara.id
    assert count(session, Therapist) == 2  # Anna matched, Bernd new


def test_commit__an_uncertain_match_goes_to_review_and_is_never_merged(session):
    moved = therapists.create(session, data={
        "first_name": "Anna", "last_name": "Beispiel", "gender": "female", "street": "Ganz andere Straße 99",
        "postcode": "10115", "city": "Berlin", "procedures": ["VT individual adults"],
    }, actor=STAFF, today=TODAY)  # fmt: skip
    record = commit(session, sources("new_format.json"))
    [review] = directory.open_reviews(session)
    assert (review.therapist_id, review.differs, review.external_id) == (moved.id, "street", "SYN-1001")
    session.refresh(moved)
    assert (moved.street, moved.external_id) == ("Ganz andere Straße 99", None)
    assert record.counts["review"] == 1
    commit(session, sources("new_format.json"))
    assert count(session, DirectoryReview) == 1  # the same pair is not queued twice


def test_vanish__three_successive_imports_mark_not_seen_then_inactive_and_seeing_again_brings_back(session, tmp_path):
    commit(session, sources("new_format.json"))  # import 1: Anna (10115) and Bernd (01067)
    anna = by_external_id(session, "SYN-1001")
    only_bernd_and_neighbour = [fixture_entries()[1], {**fixture_entries()[0], "id": "SYN-1003", "vorname": "Nina",
                                                       "name": "Nachbar", "strasse": "Nebenweg"}]  # fmt: skip
    second = commit(session, [entries_file(tmp_path, "2.json", only_bernd_and_neighbour)], today=TODAY + timedelta(7))
    session.refresh(anna)
    listing = session.get(DirectoryListing, anna.id)
    assert (listing.not_seen_since, listing.missed_imports, anna.status) == (TODAY + timedelta(7), 1,
                                                                            TherapistStatus.ACTIVE)  # fmt: skip
    assert second.counts["not_seen"] == 1
    third = commit(session, [entries_file(tmp_path, "3.json", only_bernd_and_neighbour)], today=TODAY + timedelta(14))
    session.refresh(anna)
    assert anna.status == TherapistStatus.INACTIVE
    assert anna.status_reason == "Seit 08.12.2026 nicht mehr im 116117-Verzeichnis (2 Importe ohne Eintrag)"
    assert third.counts["inactive"] == 1
    fourth = commit(session, sources("new_format.json"), today=TODAY + timedelta(21))
    session.refresh(anna)
    assert (anna.status, anna.status_reason, fourth.counts["back"]) == (TherapistStatus.ACTIVE, None, 1)
    assert session.get(DirectoryListing, anna.id).not_seen_since is None


def test_vanish__an_import_of_another_area_does_not_count_against_them(session):
    commit(session, sources("new_format.json"))  # Berlin 10115 and Dresden 01067
    commit(session, sources("layout_b.csv"), today=TODAY + timedelta(7))  # 10115 only: Anna missing
    commit(session, sources("old_format.json"), today=TODAY + timedelta(14))  # 10117: not Anna's area
    listing = session.get(DirectoryListing, by_external_id(session, "SYN-1001").id)
    assert listing.missed_imports == 1
    assert by_external_id(session, "SYN-1002").status == TherapistStatus.ACTIVE  # Dresden was never covered again


def test_vanish__importing_the_same_file_twice_on_one_day_counts_once(session):
    commit(session, sources("new_format.json"))
    commit(session, sources("layout_b.csv"), today=TODAY + timedelta(7))
    again = commit(session, sources("layout_b.csv"), today=TODAY + timedelta(7))
    assert again.counts["changes"] == 0
    assert by_external_id(session, "SYN-1001").status == TherapistStatus.ACTIVE


def test_confirm_vanished__makes_inactive_with_the_reason_and_needs_a_not_seen_mark(session):
    commit(session, sources("new_format.json"))
    bernd = by_external_id(session, "SYN-1002")
    with pytest.raises(IllegalTransition, match="not marked 'not seen'"):
        directory.confirm_vanished(session, therapist_id=bernd.id, actor=STAFF, today=TODAY)
    commit(session, sources("layout_b.csv"), today=TODAY + timedelta(7))
    anna = by_external_id(session, "SYN-1001")
    directory.confirm_vanished(session, therapist_id=anna.id, actor=STAFF, today=TODAY + timedelta(7))
    assert anna.status == TherapistStatus.INACTIVE
    assert anna.status_reason.endswith("bestätigt")


def test_commit__a_broken_file_among_good_ones_writes_nothing(session):
    with pytest.raises(ValidationError, match=r"truncated\.json, line"):
        commit(session, sources("new_format.json", "truncated.json"))
    assert count(session, Therapist) == count(session, DirectoryImport) == count(session, AuditEvent) == 0


def test_commit__leaves_python_cycle_collection_on_after_an_import_and_after_a_broken_file(session):
    # the import pauses the collector while it builds its objects; the process must not stay without it
    commit(session, sources("new_format.json"))
    assert gc.isenabled()
    with pytest.raises(ValidationError):
        commit(session, sources("truncated.json"))
    assert gc.isenabled()


def test_commit__rejected_entries_are_reported_and_not_written(session):
    record = commit(session, sources("missing_name.json"))
    assert [t.last_name for t in session.scalars(select(Therapist))] == ["Gültig"]
    [problem] = record.report["problems"]
    assert (problem["file"], problem["entry"], problem["field"]) == ("missing_name.json", "SYN-5002", "name")


def test_preview__writes_nothing_and_lists_what_commit_would_do(session):
    result = directory.preview(session, sources=sources("new_format.json"), today=TODAY)
    assert result.report["counts"]["new"] == 2
    assert [n["name"] for n in result.report["new"]] == ["Dr. Anna Beispiel", "Bernd Muster"]
    assert count(session, Therapist) == count(session, DirectoryImport) == 0


def test_layout__a_mapping_is_remembered_per_header_signature(session):
    [source] = sources("layout_b.csv")
    headers, mapping, remembered = directory.mapping_for(session, source=source)
    assert not remembered
    directory.remember_mapping(session, headers=headers, mapping={**mapping, "web": ""}, actor=STAFF)
    _, again, remembered = directory.mapping_for(session, source=source)
    assert remembered
    assert again["web"] == ""


def held_colleague(session) -> Therapist:
    """Olga, whom we hold at Anna's address in the directory files (written "Musterstr." there), in a practice."""
    return therapists.create(session, data={
        "first_name": "Olga", "last_name": "Kollegin", "gender": "female", "street": "Musterstr. 1",
        "postcode": "10115", "city": "Berlin", "procedures": ["VT individual adults"],
    }, actor=STAFF, today=TODAY)  # fmt: skip


def test_commit__new_therapists_join_the_practice_at_their_address_or_share_a_new_one(session, tmp_path):
    colleague = held_colleague(session)
    anna, bernd = fixture_entries()
    pair = [{**bernd, "id": "SYN-7001"}, {**bernd, "id": "SYN-7002", "vorname": "Berta"}]  # one address in Dresden
    commit(session, [entries_file(tmp_path, "praxen.json", [anna, *pair])])
    assert by_external_id(session, "SYN-1001").practice_id == colleague.practice_id
    assert by_external_id(session, "SYN-7001").practice_id == by_external_id(session, "SYN-7002").practice_id
    assert by_external_id(session, "SYN-7001").practice.name == "Praxis Muster, Muster"


def queued_review(session) -> tuple[Therapist, DirectoryReview]:
    """Anna as we hold her, at another street than the directory lists: the import queues a review."""
    ours = therapists.create(session, data={
        "first_name": "Anna", "last_name": "Beispiel", "gender": "female", "street": "Ganz andere Straße 99",
        "postcode": "10115", "city": "Berlin", "procedures": ["VT individual adults"],
    }, actor=STAFF, today=TODAY)  # fmt: skip
    commit(session, sources("new_format.json"))
    [review] = directory.open_reviews(session)
    return ours, review


def test_review_same_therapist__links_the_directory_id_and_later_imports_match_her(session):
    ours, review = queued_review(session)
    directory.merge_review(session, review_id=review.id, actor=STAFF, today=TODAY)
    session.refresh(ours)
    assert (ours.external_id, ours.last_verified_on) == ("SYN-1001", TODAY)
    assert (review.status, review.resolved_by) == ("merged", STAFF)
    assert directory.open_reviews(session) == []
    [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "directory.review_merged")).all()
    assert (event.entity_id, event.details["external_id"]) == (str(ours.id), "SYN-1001")
    later = commit(session, sources("new_format.json"), today=TODAY + timedelta(days=1))
    assert (later.counts["new"], later.counts["review"]) == (0, 0)
    assert count(session, Therapist) == 2  # Anna (ours) and Bernd


def test_review_other_person__creates_the_directory_entry_as_a_new_therapist(session):
    ours, review = queued_review(session)
    created = directory.separate_review(session, review_id=review.id, actor=STAFF, today=TODAY)
    assert (created.external_id, created.street, created.postcode) == ("SYN-1001", "Musterstraße 1", "10115")
    assert created.id != ours.id
    session.refresh(ours)
    assert (ours.street, ours.external_id) == ("Ganz andere Straße 99", None)
    assert review.status == "separate"
    [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "directory.review_separate")).all()
    assert event.entity_id == str(created.id)
    later = commit(session, sources("new_format.json"), today=TODAY + timedelta(days=1))
    assert (later.counts["new"], later.counts["review"]) == (0, 0)
    assert count(session, Therapist) == 3


def test_review__a_decided_review_cannot_be_decided_again(session):
    _, review = queued_review(session)
    directory.merge_review(session, review_id=review.id, actor=STAFF, today=TODAY)
    with pytest.raises(IllegalTransition, match="already decided"):
        directory.separate_review(session, review_id=review.id, actor=STAFF, today=TODAY)
    assert count(session, Therapist) == 2


def test_review_same_therapist__takes_the_entrys_fields_staff_did_not_edit_and_records_them(session):
    ours, review = queued_review(session)
    therapists.update(session, therapist_id=ours.id, version=ours.version, original=therapists.editable_values(ours),
                      changes={"phone": "030 5555555"}, actor=STAFF, today=TODAY)  # fmt: skip
    directory.merge_review(session, review_id=review.id, actor=STAFF, today=TODAY)
    session.refresh(ours)
    assert (ours.title, ours.street, ours.email) == ("Dr.", "Musterstraße 1", "praxis.beispiel@example.org")
    assert ours.phone_hours == {"0": [["09:00", "10:00"]], "2": [["14:00", "15:00"]]}
    assert ours.phone == "+49305555555"  # staff's own number wins, as in an import
    assert session.get(DirectoryListing, ours.id).consultation_hours["consultation"] == {"0": [["10:00", "13:00"]]}
    rows = {(c.kind, c.field): (c.old_value, c.new_value) for c in directory.changes_of(session, therapist_id=ours.id)}
    assert rows[("changed", "street")] == ("Ganz andere Straße 99", "Musterstraße 1")
    assert rows[("changed", "title")] == (None, "Dr.")
    assert rows[("conflict", "phone")] == ("+49305555555", "+49301234567")
    assert rows[("changed", "external_id")] == (None, "SYN-1001")
    audit = session.scalars(select(AuditEvent).where(AuditEvent.entity_id == str(ours.id),
                                                     AuditEvent.action == "therapist.imported")).one()  # fmt: skip
    assert {"street", "title", "email", "external_id"} <= set(audit.details["fields"])


def test_review_other_person__the_new_therapist_has_the_entrys_consultation_hours(session):
    _, review = queued_review(session)
    created = directory.separate_review(session, review_id=review.id, actor=STAFF, today=TODAY)
    listing = session.get(DirectoryListing, created.id)
    assert listing.consultation_hours["consultation"] == {"0": [["10:00", "13:00"]]}
    assert created.phone_hours == {"0": [["09:00", "10:00"]], "2": [["14:00", "15:00"]]}


def test_commit__a_listing_names_the_import_that_last_changed_it_and_new_hours_replace_the_old(session, tmp_path):
    first = commit(session, sources("new_format.json"))
    anna = by_external_id(session, "SYN-1001")
    commit(session, sources("new_format.json"), today=TODAY + timedelta(7))  # seen again, nothing new
    assert session.get(DirectoryListing, anna.id).last_import_id == first.id
    entries = fixture_entries()
    entries[0]["tsz"][0]["typTsz"][1]["sprechzeiten"] = [{"z": "11:00 - 12:00"}]
    third = commit(session, [entries_file(tmp_path, "neu.json", entries)], today=TODAY + timedelta(14))
    session.expire_all()
    listing = session.get(DirectoryListing, anna.id)
    assert (listing.consultation_hours["consultation"], listing.last_import_id) == ({"0": [["11:00", "12:00"]]},
                                                                                    third.id)  # fmt: skip


def test_commit__every_therapist_seen_is_verified_on_the_import_day_changed_or_not(session, tmp_path):
    commit(session, sources("new_format.json"))
    entries = fixture_entries()
    entries[0]["tel"] = "030 9999999"  # Anna changed, Bernd seen unchanged
    commit(session, [entries_file(tmp_path, "neu.json", entries)], today=TODAY + timedelta(days=7))
    session.expire_all()
    anna, bernd = by_external_id(session, "SYN-1001"), by_external_id(session, "SYN-1002")
    assert (anna.last_verified_on, anna.last_seen_on) == (TODAY + timedelta(7), TODAY + timedelta(7))
    assert (bernd.last_verified_on, bernd.last_seen_on) == (TODAY + timedelta(7), TODAY + timedelta(7))
    assert (anna.version, bernd.version) == (2, 1)  # the change is one new version; being seen is no edit


def test_commit__each_new_therapist_is_inserted_in_their_practice_and_the_move_is_in_their_history(session, tmp_path):
    colleague = held_colleague(session)
    anna, bernd = fixture_entries()
    entries = [anna, {**bernd, "id": "SYN-7001"}, {**bernd, "id": "SYN-7002", "vorname": "Berta"},
               {**bernd, "id": "SYN-7003", "strasse": "Andere Gasse", "email": "", "tel": "0351 7777777"}]  # fmt: skip
    commit(session, [entries_file(tmp_path, "praxen.json", entries)])
    session.expire_all()
    new = [by_external_id(session, i) for i in ("SYN-1001", "SYN-7001", "SYN-7002", "SYN-7003")]
    assert (new[0].practice_id, new[1].practice_id) == (colleague.practice_id, new[2].practice_id)
    assert len({t.practice_id for t in new} - {None}) == 3
    for therapist in new:
        moves = select(AuditEvent).where(AuditEvent.entity_id == str(therapist.id),
                                         AuditEvent.action == "therapist.practice_changed")  # fmt: skip
        [moved] = session.scalars(moves)
        assert moved.details["to_practice_id"] == therapist.practice_id


def _placement(session) -> tuple[set, set]:
    """Who shares a practice with whom (by name), each practice's name, and the practice moves in the history."""
    rows = session.execute(select(Therapist.id, Therapist.first_name, Practice.name, Practice.id)
                           .join(Practice, Practice.id == Therapist.practice_id, isouter=True)).all()  # fmt: skip
    names = {row.id: row.first_name for row in rows}
    teams = {(row[2], frozenset(r.first_name for r in rows if r[3] == row[3])) for row in rows}
    moves = session.scalars(select(AuditEvent).where(AuditEvent.action == "therapist.practice_changed"))
    practice_names = {row.id: row.name for row in session.execute(select(Practice.id, Practice.name))}
    return teams, {(names[int(e.entity_id)], practice_names.get(e.details["to_practice_id"], "-")) for e in moves}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_commit__places_new_therapists_as_placing_them_after_their_insert_does(session, tmp_path, seed):
    rng = random.Random(seed)
    emails = [""] * 12 + [f"praxis{k}@example.org" for k in range(4)]
    for n in range(3):  # colleagues we hold, at the addresses and e-mails the file uses
        therapists.create(session, data={
            "first_name": f"Held{n}", "last_name": f"Kollege{n}", "gender": "female",
            "email": rng.choice(emails) or None,
            "street": f"{rng.choice(['Musterstraße', 'Nebenweg', 'Am Hang'])} {rng.choice(['1', '2', '3'])}",
            "postcode": rng.choice(["10115", "10117"]), "city": "Berlin", "procedures": ["VT individual adults"],
        }, actor=STAFF, today=TODAY)  # fmt: skip
    session.commit()  # the savepoint the comparison rolls back to
    anna = fixture_entries()[0]
    entries = [{**anna, "id": f"R-{n}", "vorname": f"Neu{n}", "name": f"Name{n}", "email": rng.choice(emails),
                "strasse": rng.choice(["Musterstraße", "Nebenweg", "Am Hang"]),
                "hausnummer": rng.choice(["1", "2", "3"]), "plz": rng.choice(["10115", "10117"])}
               for n in range(30)]  # fmt: skip
    source = entries_file(tmp_path, "zufall.json", entries)
    commit(session, [source])
    decided_first = _placement(session)
    session.rollback()
    # the same therapists written as they stand in the file, without a practice (as staff's "other person" does
    # before it places the one it creates), then placed by placing.place_new
    created = []
    for entry in read_sources([source], mappings={}).entries:
        row = Therapist(**entry.values, external_id=entry.external_id)
        session.add(row)
        session.flush()  # one at a time: the ids follow the file's order, as the import draws them
        created.append((row.id, entry))
    assert session.scalar(select(func.count()).where(Therapist.practice_id.is_(None))) == len(entries)
    placing.place_new(session, created=created, actor=STAFF)
    assert decided_first == _placement(session)
