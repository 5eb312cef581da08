"""The import's fast paths decide exactly as the definitions they replace, on random and tricky inputs."""

from __future__ import annotations

import io
import json
import random

from core.contact import normalise_phone
from core.directory import json_stream, normalise, placing
from core.errors import ValidationError
from core.therapists.phone_hours import normalise_phone_hours


def _outcome(call, value):
    try:
        return "ok", call(value)
    except ValidationError as exc:
        return "error", str(exc.message), exc.field


def _random_phone(rng: random.Random) -> str:
    shape = rng.random()
    digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 16)))
    if shape < 0.5:  # the national shape the fast path takes: 0, area code, separators
        parts, rest = [], "0" + digits
        while rest:
            cut = rng.randint(1, 5)
            parts.append(rest[:cut])
            rest = rest[cut:]
        return rng.choice(["", " "]) + "".join(p + rng.choice(["", " ", "-", " / ", "/", "  "]) for p in parts).rstrip(
            " /-"
        )
    prefix = rng.choice(["+49 ", "0049 ", "00", "+43 ", "(0)", "0", "00 ", "+", "", "0 ", "0x"])
    suffix = rng.choice(["", " ext. 12", " x3", "a", " (Praxis)", "-", ".", ""])
    return prefix + digits + suffix


def test_phone_fast_path__gives_what_normalise_phone_gives_on_random_numbers():
    rng = random.Random(14)
    samples = [_random_phone(rng) for _ in range(20_000)]
    samples += ["030 1234567", "0301234567", "030/1234567", "030-123 45 67", "0 30 1234567", "00301234567",
                "0151 23456789", "0800 1234567", "0900 123456", "030", "01", "0 ", "", "  ", "030 1234567 ",
                "089 12345678901234567890", "0228 9876543", "0160-9876543"]  # fmt: skip
    normalise._phone.cache_clear()
    for raw in samples:
        assert _outcome(normalise._phone, raw) == _outcome(normalise_phone, raw), raw


def test_hours_memo__gives_what_normalise_phone_hours_gives_and_a_copy_each_time():
    rng = random.Random(7)
    for _ in range(2_000):
        by_day = {}
        for day in rng.sample([str(d) for d in range(7)] + ["9"] * (rng.random() < 0.05), rng.randint(1, 3)):
            by_day[day] = [
                [f"{rng.randint(6, 20):02d}:{rng.choice(['00', '30'])}", f"{rng.randint(6, 21):02d}:15"]
                for _ in range(rng.randint(1, 3))
            ]
        for _ in range(2):  # the second time from the memo
            assert _outcome(normalise._normal_hours, by_day) == _outcome(
                lambda v: normalise_phone_hours(v, field="tsz"), by_day
            )
    first = normalise._normal_hours({"0": [["09:00", "10:00"]]})
    first["0"][0][0] = "changed"
    assert normalise._normal_hours({"0": [["09:00", "10:00"]]}) == {"0": [["09:00", "10:00"]]}


def test_json_stream_line_numbers__are_the_lines_the_entries_start_on_across_many_chunks():
    rng = random.Random(3)
    text, expected = '{"meta": 1,\n "arztPraxisDatas": [', []
    for index in range(3_000):  # several 64 KiB chunks, entries of varying length and layout
        text += rng.choice(["", "\n", "\n\n  ", " "]) + ("," if index else "") + rng.choice(["", "\n", " \n "])
        expected.append(text.count("\n") + 1)
        entry = {"id": f"L-{index}", "name": "x" * rng.randint(0, 300)}
        text += json.dumps(entry, indent=rng.choice([None, 2]))
    text += "\n]}\n"
    entries = list(json_stream.read_entries(io.BytesIO(text.encode()), file_name="lines.json"))
    assert [e.line for e in entries] == expected
    assert [e.data["id"] for e in entries] == [f"L-{i}" for i in range(3_000)]


def _random_offer(rng: random.Random) -> str:
    if rng.random() < 0.3:  # the search's filter codes, sometimes malformed
        return (
            rng.choice("VTASXvt") + rng.choice([" ", "/", "-", ",", ""]) + rng.choice("EKGx") + " " + rng.choice("EGKx")
        )
    words = [
        "Verhaltenstherapie",
        "tiefenpsychologisch fundiert",
        "Analytische",
        "Systemische Therapie",
        "VT",
        "TP",
        "AP",
        "ST",
        "Einzeltherapie",
        "Gruppentherapie",
        "Erwachsene",
        "Kinder und Jugendliche",
        "",
    ]
    return " ".join(rng.choice(words) for _ in range(rng.randint(0, 4)))


def test_procedures_memo__reads_offers_as_the_definition_does_and_hands_out_a_copy():
    rng = random.Random(41)
    uncached = normalise._procedures.__wrapped__  # the definition, read afresh each time
    for _ in range(5_000):
        texts = [_random_offer(rng) for _ in range(rng.randint(0, 4))]
        for _ in range(2):  # the second time from the memo
            assert normalise.procedures_from_text(iter(texts)) == list(uncached(tuple(texts))), texts
    first = normalise.procedures_from_text(["Verhaltenstherapie Einzeltherapie Erwachsene"])
    first[0]["procedure"] = "changed"
    first.append({"procedure": "TP"})
    assert normalise.procedures_from_text(["Verhaltenstherapie Einzeltherapie Erwachsene"]) == [
        {"procedure": "VT", "setting": "individual", "age_group": "adults"}
    ]


def test_practice_hours_memo__gives_what_normalise_phone_hours_gives():
    rng = random.Random(12)
    for _ in range(2_000):
        by_day = {}
        for day in rng.sample([str(d) for d in range(7)] + ["8"] * (rng.random() < 0.05), rng.randint(0, 3)):
            by_day[day] = [  # colleagues' hours merged: overlapping, unordered, sometimes backwards
                [f"{rng.randint(6, 20):02d}:{rng.choice(['00', '30'])}", f"{rng.randint(6, 21):02d}:15"]
                for _ in range(rng.randint(1, 4))
            ]
        for _ in range(2):  # the second time from the memo
            assert _outcome(placing._practice_hours, by_day) == _outcome(normalise_phone_hours, by_day)


def _random_tsz(rng: random.Random) -> list:
    days = []
    for _ in range(rng.randint(0, 4)):
        slots = [{"z": f"{rng.randint(6, 20):02d}{rng.choice([':', '.'])}{rng.choice(['00', '30'])} - "
                       f"{rng.randint(6, 21):02d}:15"} if rng.random() < 0.9 else {"z": rng.choice(["abends", ""])}
                 for _ in range(rng.randint(0, 3))]  # fmt: skip
        kind = rng.choice(["01", "02", "05", "07", "7", "Telefonische Erreichbarkeit", "Sprechstunde", "99"])
        key = rng.choice(["typTsz", "tszDesTyps"])
        days.append({"d": "30.11.2026", "t": rng.choice(["Mo.", "Di.", "Mi", "Freitag", "Sa.", "Xy."]),
                     key: [{"typ": kind, "sprechzeiten": slots}]})  # fmt: skip
    return days


def test_tsz_memo__reads_hours_and_warnings_as_the_definition_does_and_hands_out_a_copy():
    rng = random.Random(99)
    for index in range(3_000):
        days = _random_tsz(rng)
        where = {"file": "suche.json", "line": index, "entry": f"T-{index}"}
        expected_warnings: list = []
        expected = normalise._hours_from_tsz(days, where, expected_warnings)
        for _ in range(2):  # the second time from the memo (when the entry read without warnings)
            warnings: list = []
            assert normalise.hours_from_tsz(days, where, warnings) == expected, days
            assert [w.as_dict() for w in warnings] == [w.as_dict() for w in expected_warnings]
    tsz = [{"t": "Mo.", "typTsz": [{"typ": "07", "sprechzeiten": [{"z": "09:00 - 10:00"}]}]}]
    first = normalise.hours_from_tsz(tsz, {"file": "a", "line": 1, "entry": "A"}, [])
    first.pop("phone")["0"][0][0] = "changed"
    assert normalise.hours_from_tsz(tsz, {"file": "a", "line": 1, "entry": "A"}, []) == {
        "phone": {"0": [["09:00", "10:00"]]}
    }
