"""Reading 116117 search answers (both JSON formats) and two CSV layouts into our therapist model."""

from __future__ import annotations

import io
import json
import tracemalloc
from pathlib import Path

import pytest

from core.directory import table_reader
from core.directory.json_stream import read_entries
from core.directory.reading import Source, read_sources
from core.errors import ValidationError

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "directory"


def read(*names: str):
    sources = [Source.from_path(FIXTURES / name) for name in names]
    mappings = {}
    for source in sources:
        if source.is_table:
            with source.open() as stream:
                mappings[source.name] = table_reader.suggest_mapping(
                    table_reader.read_headers(stream, file_name=source.name)
                )
    return read_sources(sources, mappings=mappings)


def by_id(batch):
    return {entry.external_id: entry for entry in batch.entries}


def test_new_format__reads_every_field_into_our_model():
    anna = by_id(read("new_format.json"))["SYN-1001"]
    assert anna.values == {
        "title": "Dr.", "first_name": "Anna", "last_name": "Beispiel", "gender": "female",
        "street": "Musterstraße 1", "postcode": "10115", "city": "Berlin", "latitude": 52.5321,
        "longitude": 13.3849, "phone": "+49301234567", "email": "praxis.beispiel@example.org",
        "website": "https://praxis-beispiel.example.org",
        "procedures": [{"procedure": "VT", "setting": "individual", "age_group": "adults"},
                       {"procedure": "VT", "setting": "group", "age_group": "adults"}],
        "languages": ["de", "en"],
        "phone_hours": {"0": [["09:00", "10:00"]], "2": [["14:00", "15:00"]]},  # typ 07 only
    }  # fmt: skip
    assert anna.consultation_hours == {  # typ 01 and 05 kept apart from the phone hours
        "consultation": {"0": [["10:00", "13:00"]]},
        "psychotherapy_consultation": {"2": [["15:00", "16:00"]]},
    }
    assert anna.details["accessibility"] == ["Rollstuhlgerecht"]


def test_new_format__restores_the_leading_zero_and_falls_back_to_the_mobile_number():
    bernd = by_id(read("new_format.json"))["SYN-1002"]
    assert bernd.values["postcode"] == "01067"  # the file had the number 1067
    assert bernd.values["phone"] == "+4915123456789"
    assert bernd.values["procedures"] == [{"procedure": "TP", "setting": "individual", "age_group": "children_youth"}]


def test_old_format__reads_german_type_texts_and_zeit():
    clara = by_id(read("old_format.json"))["SYN-2001"]
    assert clara.values["phone_hours"] == {"0": [["12:00", "12:30"]], "4": [["12:00", "12:30"]]}
    assert clara.consultation_hours == {"consultation": {"0": [["08:00", "12:00"]]}}
    assert clara.values["languages"] == ["de", "fr", "tr"]
    assert [p["procedure"] for p in clara.values["procedures"]] == ["AP", "ST"]


def test_old_format__keeps_more_results_for_the_report():
    assert read("old_format.json").meta == {"old_format.json": {"moreResults": True}}


def test_csv_layout_a__semicolons_and_german_headers_map_by_themselves():
    entries = by_id(read("layout_a.csv"))
    assert entries["CSV-3001"].values["phone_hours"]["3"] == [["09:00", "10:00"]]  # "Mo-Do 9-10"
    assert entries["CSV-3002"].values["postcode"] == "01069"
    assert entries["CSV-3002"].values["procedures"] == [  # the search's codes: ptv, pta, pts
        {"procedure": "VT", "setting": "individual", "age_group": "adults"},
        {"procedure": "TP", "setting": "individual", "age_group": "children_youth"},
    ]


def test_csv_layout_b__commas_and_street_with_number_in_one_column():
    frida = by_id(read("layout_b.csv"))["CSV-4001"]
    assert (frida.values["street"], frida.values["gender"], frida.values["languages"]) == (
        "Erfundene Str. 5",
        "female",
        ["de", "es"],
    )


def test_layouts__have_different_signatures_and_ignore_case_and_spacing():
    assert table_reader.signature(["PLZ", "Name"]) == table_reader.signature([" plz", "NAME "])
    assert table_reader.signature(["PLZ", "Name"]) != table_reader.signature(["Name", "PLZ"])


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("truncated.json", r"truncated\.json, line \d+: not valid JSON, the file ends in the middle"),
        ("empty.json", r"empty\.json: the file is empty"),
        ("latin1.csv", r"latin1\.csv, line 2: the file is not UTF-8 \(byte 0xFC, 'ü' in Latin-1"),
    ],
)
def test_unreadable_file__is_refused_naming_the_file_and_line(name, expected):
    with pytest.raises(ValidationError, match=expected):
        read(name)


@pytest.mark.parametrize(
    ("name", "entry", "field", "message"),
    [
        ("missing_name.json", "SYN-5002", "name", "Surname is missing"),  # the valid one beside it is read
        ("invalid_plz.json", "SYN-5004", "plz", "PLZ '1234A' is not a German postcode"),
        ("html_name.json", "SYN-5005", "name", "contains HTML"),
        ("duplicate_ids.json", "SYN-1001", "id", "appears twice (first at line 3)"),
    ],
)
def test_bad_entry__is_rejected_with_file_line_entry_and_field(name, entry, field, message):
    batch = read(name)
    [problem] = batch.rejected
    assert (problem.file, problem.entry, problem.field) == (name, entry, field)
    assert problem.line
    assert message in problem.message
    assert f"{name}, line {problem.line}, entry {entry}, field {field}: " in problem.text()


def test_missing_name__rejects_only_that_entry():
    assert [e.external_id for e in read("missing_name.json").entries] == ["SYN-5003"]


def test_unknown_typ_code__is_kept_as_unknown_and_reported():
    batch = read("unknown_typ.json")
    [entry] = batch.entries
    assert entry.consultation_hours == {"unknown:09": {"0": [["09:00", "10:00"]]}}
    assert entry.values["phone_hours"] == {"0": [["11:00", "12:00"]]}
    [warning] = batch.problems
    assert (warning.severity, warning.field) == ("warning", "tsz.typ")
    assert "'09' is not known" in warning.message


def test_json_stream__reads_entries_across_chunk_borders_with_their_lines():
    entries = [{"id": str(i), "name": "x" * 300, "lat": 52.123456789} for i in range(2000)]
    data = json.dumps({"moreResults": False, "arztPraxisDatas": entries}, indent=1).encode()
    read_back = list(read_entries(io.BytesIO(data), file_name="big.json"))
    assert [r.data for r in read_back] == entries
    assert read_back[1].line == 9  # {"moreResults" / "arztPraxisDatas": [ / 5 lines per entry


def test_a_200_mb_file__is_streamed_so_memory_stays_bounded(tmp_path):
    path = tmp_path / "gross.json"
    padding = "x" * 100_000  # fields we do not read (a long description): 2,000 entries make 200 MB
    with path.open("w") as out:
        out.write('{"arztPraxisDatas": [')
        for n in range(2_000):
            entry = {
                "id": f"BIG-{n}",
                "vorname": "Anna",
                "name": f"Beispiel{n}",
                "plz": "10115",
                "beschreibung": padding,
            }
            out.write(("," if n else "") + json.dumps(entry))
        out.write('], "moreResults": false}')
    assert path.stat().st_size > 200 * 10**6
    tracemalloc.start()
    try:
        batch = read_sources([Source.from_path(path)], mappings={})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(batch.entries) == 2_000
    assert peak < 32 * 2**20  # the whole file would be 200 MB as text, several times that decoded
