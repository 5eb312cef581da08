"""Matching pages in AppTest: proposals (run, approve, discard), answers, conflicts, why-not; empty and error states."""

from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.db import session_scope
from core.demo import seed
from core.matching import service as matching
from core.matching.models import Inquiry, InquiryItem, InquiryStatus, ItemOutcome
from core.patients.models import Patient, Search, SearchStatus
from core.therapists.models import Therapist
from tests.dashboards.conftest import open_page, texts

TODAY = date.today()


def as_staff(repo_root, staff, file, **query):
    user_id, email = staff
    return open_page(repo_root, file, user_id=user_id, email=email, role="staff", query=query)


def demo(committed_db):
    with session_scope(committed_db) as session:
        seed(session, therapists=300, patients=80, seed=11, today=TODAY)


def test_proposals__empty_state_then_a_run_fills_the_page(repo_root, staff, committed_db):
    at = as_staff(repo_root, staff, "proposals.py")
    assert "Keine offenen Vorschläge" in texts(at)
    demo(committed_db)
    at.button[0].click().run()  # "Matching jetzt ausführen"
    assert not at.exception
    page = texts(at)
    assert "Matching fertig:" in page
    assert "vorgeschlagene Anfragen" in page


def test_proposals__approve_and_discard_need_the_right_input(repo_root, staff, committed_db):
    demo(committed_db)
    with session_scope(committed_db) as session:
        matching.scheduled_run(session, now=datetime.now(UTC))
        discarded_before = session.scalar(
            select(func.count()).select_from(Inquiry).where(Inquiry.status == InquiryStatus.DISCARDED)
        )
    at = as_staff(repo_root, staff, "proposals.py")
    first = next(b for b in at.button if b.key and b.key.startswith("approve_"))
    inquiry_id = int(first.key.removeprefix("approve_"))
    first.click().run()
    assert "freigegeben" in texts(at)
    at.button(key=next(b.key for b in at.button if b.key and b.key.startswith("discard_"))).click().run()
    assert "A reason is required to discard an inquiry" in texts(at)  # nothing discarded without a reason
    with Session(committed_db) as session:
        assert session.get(Inquiry, inquiry_id).status == InquiryStatus.APPROVED
        discarded = select(func.count()).select_from(Inquiry).where(Inquiry.status == InquiryStatus.DISCARDED)
        assert session.scalar(discarded) == discarded_before


def test_answers__empty_state(repo_root, staff):
    assert "Keine Anfrage wartet auf Antwort." in texts(as_staff(repo_root, staff, "answers.py"))


def test_answers__acceptance_places_the_patient_and_withdraws_the_rest(repo_root, staff, committed_db):
    demo(committed_db)
    with session_scope(committed_db) as session:
        matching.scheduled_run(session, now=datetime.now(UTC))
        proposal = matching.list_proposals(session)[0]
        matching.approve(session, inquiry_id=proposal["inquiry_id"], actor="t@example.org", now=datetime.now(UTC))
    at = as_staff(repo_root, staff, "answers.py")
    at.selectbox(key="answers_inquiry").select(proposal["inquiry_id"]).run()
    item = proposal["items"][0]
    at.selectbox(key=f"outcome_{item['item_id']}").select(ItemOutcome.ACCEPTED)
    next(b for b in at.button if b.label == "Antwort speichern").click().run()
    assert "Vermittelt!" in texts(at)
    with Session(committed_db) as session:
        search = session.get(Search, item["search_id"])
        assert search.status == SearchStatus.SUCCESSFUL
        others = session.scalars(
            select(InquiryItem).where(InquiryItem.search_id == search.id, InquiryItem.id != item["item_id"])
        ).all()
        assert all(o.outcome != ItemOutcome.PENDING for o in others)


def test_conflicts__empty_state(repo_root, staff):
    assert "Keine offenen Konflikte" in texts(as_staff(repo_root, staff, "conflicts.py"))


def test_why_not__unknown_patient_and_a_real_explanation(repo_root, staff, committed_db):
    demo(committed_db)
    at = as_staff(repo_root, staff, "why_not.py")
    at.text_input(key="whynot_patient").input("P-NIEMAND")
    at.text_input(key="whynot_therapist").input("Ber").run()
    assert "Keine Patient/in mit der Referenz P-NIEMAND." in texts(at)
    with Session(committed_db) as session:
        reference = session.scalar(
            select(Patient.reference)
            .join(Search)
            .where(Search.status == SearchStatus.ACTIVE)
            .order_by(Patient.id)
            .limit(1)
        )
        last_name = session.scalar(
            select(Therapist.last_name).where(Therapist.status == "active").order_by(Therapist.id)
        )
    at.text_input(key="whynot_patient").input(reference)
    at.text_input(key="whynot_therapist").input(last_name).run()
    assert not at.exception
    page = texts(at)
    assert "Passt: keine Regel verletzt." in page or "Regel(n) verletzt" in page
    assert "Chance auf einen Platz" in page


def test_patient_map__nearby_therapists_show_whether_they_fit_and_why_not(repo_root, staff, committed_db):
    demo(committed_db)
    with Session(committed_db) as session:
        patient_id = session.scalar(
            select(Patient.id).join(Search).where(Search.status == SearchStatus.ACTIVE).order_by(Patient.id).limit(1)
        )
    at = as_staff(repo_root, staff, "patient.py", id=str(patient_id))
    assert not at.exception
    links = [link.label for link in at.get("page_link") if " km · " in link.label]
    if not links:  # a rural demo patient may have nobody within reach: then the page says so
        assert "Keine aktive Therapeut/in im Umkreis" in texts(at)
    else:
        assert all(label.endswith("· passt") or "· passt nicht: " in label for label in links)
