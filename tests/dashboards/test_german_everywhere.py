"""Every page in German with the demo data: no English catalogue text, no raw code, no decimal point.

Done-when 2 of issue 10. One demo data set (committed, like a running app) serves every page; each page is
opened as an admin (who may see every page) in German, and everything the page shows a person is read:
texts, alerts, metrics, widget labels and options, table and data-frame cells and headers.
"""

from __future__ import annotations

import re
import string
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth import service as auth
from core.communication import links
from core.config import get_settings
from core.db import session_scope
from core.demo import seed
from core.matching import service as matching
from core.matching.models import Inquiry, InquiryItem, InquiryStatus, ItemOutcome
from core.patients.models import Patient
from core.therapists.models import Therapist
from dashboards.i18n import read_catalogue
from tests.conftest import truncate_all
from tests.dashboards.conftest import PASSWORD, open_page

TODAY = date.today()
PAGES = sorted(p.name for p in (Path(__file__).resolve().parents[2] / "dashboards" / "views").glob("*.py"))
DECIMAL_POINT = re.compile(r"(?<![\w.:/])\d+\.\d+(?![\w.])")  # 6.4, not 01.12.2026, F32.1, 10.0.0.1 or 1.2.3
DOTTED_CODE = re.compile(r"(?<![\w@./-])[a-z]+_?[a-z]*\.[a-z_]+[a-z](?![\w@./(-])")  # patient.viewed, job.status
RAW_VALUES = {  # enum values a person must never read as they are stored
    "active", "paused", "successful", "cancelled", "proposed", "approved", "queued", "sent", "reminded",
    "call_scheduled", "answered", "expired", "discarded", "pending", "accepted", "declined_capacity",
    "declined_unsuitable", "declined_other", "no_answer", "no_show", "in_sessions", "withdrawn", "draft",
    "sending", "failed", "dead", "scheduled", "done", "link", "staff", "phone", "female", "male", "diverse",
    "statutory", "private", "subsidy", "self_pay", "individual", "group", "either", "car", "transit", "bike",
    "foot", "new", "searching", "in_therapy", "therapy_finished", "search_cancelled", "therapy_aborted",
    "blocked", "inactive", "manual", "import", "succeeded", "running", "skipped", "True", "False", "None", "nan",
}  # fmt: skip


def _literal_chunks(text: str) -> list[str]:
    return [literal.strip(" .,;:()–-") for literal, *_ in string.Formatter().parse(text) if literal]


def english_only_phrases() -> set[str]:
    """Phrases of the English catalogue that no German text contains."""
    english = [m.string for m in read_catalogue("en") if m.id]
    english = [s for item in english for s in (item if isinstance(item, tuple) else (item,))]
    german_texts = [m.string for m in read_catalogue("de") if m.id]
    german = "\n".join(s for item in german_texts for s in (item if isinstance(item, tuple) else (item,)))
    phrases = set()
    for text in english:
        for chunk in _literal_chunks(text):
            if len(chunk) >= 12 and " " in chunk and chunk not in german:
                phrases.add(chunk)
    return phrases


ENGLISH = english_only_phrases()


@pytest.fixture(scope="module")
def demo(engine):
    """The demo data, committed once for every page, with a matching run (proposals) and sent inquiries."""
    truncate_all(engine)
    with session_scope(engine) as session:
        seed(session, therapists=300, patients=80, seed=11, today=TODAY)
    with session_scope(engine) as session:
        matching.scheduled_run(session, now=datetime.now(UTC))
    with Session(engine) as session:
        admin = auth.create_user(session, email="admin@example.org", role="admin", password=PASSWORD)
        session.commit()
        sent = session.scalar(
            select(InquiryItem.id)
            .join(Inquiry)
            .where(Inquiry.status == InquiryStatus.SENT, InquiryItem.outcome == ItemOutcome.PENDING)
            .order_by(InquiryItem.id)
            .limit(1)
        )
        ids = {
            "admin": (admin.id, admin.email),
            "patient": session.scalar(select(Patient.id).where(Patient.erased_at.is_(None)).order_by(Patient.id)),
            "therapist": session.scalar(select(Therapist.id).order_by(Therapist.id)),
            "inquiry": session.scalar(select(Inquiry.id).where(Inquiry.status == InquiryStatus.SENT)),
            "item": sent,
        }
    yield ids
    truncate_all(engine)


def query_for(page: str, ids: dict) -> dict:
    if page == "patient.py":
        return {"id": str(ids["patient"])}
    if page == "therapist.py":
        return {"id": str(ids["therapist"])}
    if page == "inquiry_thread.py":
        return {"id": str(ids["inquiry"])}
    if page == "answer.py" and ids["item"]:
        expires = datetime.now(UTC) + timedelta(days=10)
        return {"token": links.make_token(ids["item"], secret=get_settings().resolved_secret_key(), expires_at=expires)}
    return {}


def shown(at) -> tuple[list[str], list[str]]:
    """Return (texts, cells): every string the page shows, and every table / data-frame cell and header."""
    texts = [e.value for kind in ("markdown", "title", "header", "subheader", "caption") for e in getattr(at, kind)]
    texts += [str(e.value) for kind in ("error", "warning", "info", "success") for e in getattr(at, kind)]
    texts += [f"{m.label} {m.value}" for m in at.metric]
    for kind in ("button", "checkbox", "toggle", "text_input", "text_area", "number_input", "date_input", "tabs",
                 "expander", "selectbox", "multiselect", "radio", "select_slider"):  # fmt: skip
        for widget in getattr(at, kind, []):
            texts.append(str(getattr(widget, "label", "") or ""))
            texts += [str(option) for option in getattr(widget, "options", []) or []]
    cells = []
    for frame in [e.value for e in at.table] + [e.value for e in at.dataframe]:
        if not isinstance(frame, pd.DataFrame):
            continue
        cells += [str(c) for c in frame.columns] + [str(i) for i in frame.index if not isinstance(i, int)]
        for column in frame.columns:
            values = frame[column].tolist()
            cells += [_cell(v) for v in values]
    return texts, cells


def _cell(value) -> str:
    if isinstance(value, float) and not value.is_integer() and value == value:
        return repr(value)  # a float the browser shows with a decimal point
    return str(value)


def problems(at) -> list[str]:
    texts, cells = shown(at)
    found = []
    everything = "\n".join([*texts, *cells])
    found += [f"English: {p!r}" for p in sorted(ENGLISH) if p in everything]
    numbers = [s for s in [*texts, *cells] if "Version" not in s]  # "PostgreSQL-Version 18.6" is a name
    found += [f"decimal point: {m.group()!r} in {s[:80]!r}" for s in numbers for m in DECIMAL_POINT.finditer(s)]
    found += [f"code: {m.group()!r} in {s[:80]!r}" for s in [*texts, *cells] for m in DOTTED_CODE.finditer(s)]
    found += [f"raw value: {c!r}" for c in cells if c in RAW_VALUES]
    found += [
        f"raw value: {o!r}" for w in [*at.selectbox, *at.multiselect, *at.radio] for o in w.options if o in RAW_VALUES
    ]
    for widget in [*at.selectbox, *at.multiselect]:
        if not widget.proto.placeholder and (widget.type == "multiselect" or widget.value is None):
            found.append(f"Streamlit's English placeholder ('Choose an option') in {widget.label!r}")
    return found


@pytest.mark.parametrize("page", PAGES)
def test_every_page_in_german__no_english_no_raw_codes_no_decimal_points(repo_root, demo, page):
    user_id, email = demo["admin"]
    at = open_page(repo_root, page, user_id=user_id, email=email, role="admin", query=query_for(page, demo))
    assert not at.exception, at.exception
    found = problems(at)
    assert not found, "\n".join(found)


def test_the_checks_find_what_they_look_for():
    """The three detectors catch the issue's examples (so an empty result above means something)."""
    assert "Reported taking new patients" in ENGLISH
    assert DECIMAL_POINT.search("6.4 km")
    assert not DECIMAL_POINT.search("am 01.12.2026, F32.1")
    assert DOTTED_CODE.search("patient.viewed")
    assert not DOTTED_CODE.search("anna@example.org, https://www.praxis.de")
    assert {"sent", "link"} <= RAW_VALUES
