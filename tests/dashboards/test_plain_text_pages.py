"""Staff pages show entered text literally (st.title and st.markdown render Markdown) and read ?id= in ASCII digits."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from core.communication.models import CallStatus, PhoneCall
from core.matching.models import InquiryStatus
from tests.dashboards.conftest import open_page, texts
from tests.support.matching import searching_patient, sent, therapist

IMAGE = "![Logo](https://tracker.example.net/pixel.png)"  # as Markdown, every viewer's browser would fetch it
MARKDOWN_IMAGE = re.compile(r"(?<!\\)!(?<!\\)\[|(?<!\\)\]\(")  # "![" or "](" not escaped by a backslash
PATIENT_TABS = ["Profil", "Wünsche & Verfügbarkeit", "Karte", "Suche & Anfragen", "Kommunikation", "Protokoll",
                "Bearbeiten", "Anrufe & Aufgaben"]  # fmt: skip
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@pytest.fixture
def typed_in(committed_db) -> dict[str, int]:
    """A patient, a therapist and a practice whose names carry a Markdown image; a call to the therapist."""
    with Session(committed_db) as session:
        search = searching_patient(session, IMAGE)
        search.relaxations = [{"rule": "distance", "value": 20, "by": "sam@example.org", "at": "2026-11-26",
                               "reason": f"Ausnahme {IMAGE}"}]  # fmt: skip
        doctor = therapist(session, IMAGE, phone="+49 30 1234567", status_reason=f"Urlaub {IMAGE}")
        inquiry = sent(session, doctor, [search])
        inquiry.status = InquiryStatus.CALL_SCHEDULED
        session.add(PhoneCall(inquiry_id=inquiry.id, therapist_id=doctor.id, attempt=1, status=CallStatus.SCHEDULED,
                              scheduled_for=datetime.now(UTC) - timedelta(minutes=5)))  # fmt: skip
        ids = {"patient": search.patient_id, "therapist": doctor.id, "practice": doctor.practice_id,
               "inquiry": inquiry.id}  # fmt: skip
        session.commit()
    return ids


def _rendered_markdown(at) -> list[str]:
    elements = [*at.title, *at.markdown, *at.caption, *at.subheader, *at.info, *at.success, *at.warning]
    return [str(e.value) for e in elements]


@pytest.mark.parametrize(
    ("file", "subject"),
    [
        ("patient.py", "patient"),  # the patient's name as page title, a relaxation's reason, the history
        ("therapist.py", "therapist"),  # the therapist's name as title, the status reason
        ("inquiry_thread.py", "inquiry"),  # the therapist's name in the thread header
        ("calls.py", None),  # the therapist's name on the call card
    ],
)
def test_staff_pages__show_entered_text_literally(repo_root, staff, typed_in, file, subject):
    user_id, email = staff
    query = {"id": str(typed_in[subject])} if subject else None
    at = open_page(repo_root, file, user_id=user_id, email=email, role="staff", query=query)
    assert not at.exception
    assert "tracker" in texts(at)  # the text is there ...
    assert not [text for text in _rendered_markdown(at) if MARKDOWN_IMAGE.search(text)]  # ... but never as an image
    if file == "patient.py":  # only the open tab runs: open each one, as a user clicks it (the history among them)
        for label in PATIENT_TABS[1:]:
            at.session_state[f"patient_tabs_{typed_in['patient']}"] = label
            at.run()
            assert not at.exception
            assert not [text for text in _rendered_markdown(at) if MARKDOWN_IMAGE.search(text)], label


@pytest.mark.parametrize(
    ("file", "subject", "missing"),
    [
        ("patient.py", "patient", "Keine Patient/in ausgewählt"),
        ("inquiry_thread.py", "inquiry", "Öffnen Sie den Verlauf über eine Anfrage"),
    ],
)
def test_staff_pages__read_ids_in_ascii_digits_only(repo_root, staff, typed_in, file, subject, missing):
    user_id, email = staff
    query = {"id": str(typed_in[subject]).translate(ARABIC_INDIC)}  # looks like the id, int() would read it
    at = open_page(repo_root, file, user_id=user_id, email=email, role="staff", query=query)
    assert missing in texts(at)
    assert "tracker" not in texts(at)  # the record was not opened


def test_practice_page__shows_the_practice_name_literally(repo_root, make_user, typed_in):
    from tests.dashboards.test_therapist_pages import open_page as open_logged_in

    at = open_logged_in(repo_root, make_user, "practices.py", id=typed_in["practice"])
    assert not at.exception
    assert "tracker" in texts(at)
    assert not [text for text in _rendered_markdown(at) if MARKDOWN_IMAGE.search(text)]
