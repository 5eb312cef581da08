"""The public answer page: a form sent after another practice accepted is a conflict; free text stays text."""

import re

from sqlalchemy.orm import Session

from core.communication import answer_page
from core.matching import service as matching
from core.matching.models import InquiryItem, ItemOutcome
from core.patients.models import Search
from dashboards import data
from tests.dashboards.conftest import texts
from tests.dashboards.test_answer_and_preview_pages import open_logged_out, token_for
from tests.support.matching import NOW, searching_patient, sent, therapist

IMAGE = "![Logo](https://tracker.example.net/pixel.png)"  # Markdown would make every viewer fetch it
MARKDOWN_IMAGE = re.compile(r"(?<!\\)!(?<!\\)\[|(?<!\\)\]\(")  # "![" or "](" not escaped by a backslash


def _two_practices(engine, **patient) -> list[int]:
    with Session(engine) as session:
        lea = searching_patient(session, "Beispiel", **patient)
        ids = [sent(session, therapist(session, name), [lea]).items[0].id for name in ("Kraus", "Lorenz")]
        session.commit()
    return ids


def _send(at, outcome: ItemOutcome, message: str = ""):
    at.radio[0].set_value(outcome)
    at.text_area[0].input(message)
    at.button[0].click()
    return at.run()


def test_answer_page__an_offer_sent_after_another_practice_accepted_is_saved_as_a_conflict(committed_db):
    kraus_item, lorenz_item = _two_practices(committed_db)
    kraus, lorenz = open_logged_out(token_for(kraus_item)), open_logged_out(token_for(lorenz_item))
    _send(kraus, ItemOutcome.ACCEPTED)
    _send(lorenz, ItemOutcome.ACCEPTED, "Platz ab Januar.")
    assert "Diese Person hat inzwischen leider schon einen Therapieplatz gefunden" in texts(lorenz)
    assert "meldet sich wegen Ihres angebotenen Platzes" in texts(lorenz)
    assert "Ihre Antwort ist gespeichert" not in texts(lorenz)
    with Session(committed_db) as session:
        [conflict] = matching.list_conflicts(session)
    assert (conflict["item_id"], conflict["answer_message"]) == (lorenz_item, "Platz ab Januar.")


def test_answer_page__a_decline_sent_after_another_practice_accepted_says_no_answer_is_needed(committed_db):
    kraus_item, lorenz_item = _two_practices(committed_db)
    kraus, lorenz = open_logged_out(token_for(kraus_item)), open_logged_out(token_for(lorenz_item))
    _send(kraus, ItemOutcome.ACCEPTED)
    _send(lorenz, ItemOutcome.DECLINED_CAPACITY)
    assert "hat inzwischen über eine andere Praxis einen Therapieplatz gefunden" in texts(lorenz)
    assert not lorenz.radio


def test_answer_page__shows_names_symptoms_and_messages_as_plain_text(committed_db):
    item_id, _ = _two_practices(committed_db, symptoms=["Schlafstörungen", IMAGE])
    with Session(committed_db) as session:
        answer_page.submit(session, token=token_for(item_id), outcome="declined_capacity",
                           message=f"Leider voll. {IMAGE}", now=NOW)  # fmt: skip
        session.commit()
    at = open_logged_out(token_for(item_id))
    assert f"Ihre Nachricht: Leider voll. {IMAGE}" in [e.value for e in at.text]  # shown as typed
    rendered = [str(e.value) for e in [*at.markdown, *at.caption, *at.info, *at.success]]
    rendered += [str(cell) for cell in at.table[0].value.to_numpy().ravel()]
    assert not [text for text in rendered if MARKDOWN_IMAGE.search(text)]  # no Markdown image anywhere


def test_call_list__an_offer_by_phone_for_a_patient_placed_meanwhile_is_flagged_as_a_conflict(
    repo_root, staff, committed_db
):
    from tests.dashboards.test_calls_page import a_call_now, as_staff

    _, call_id, (lea_item, tom_item) = a_call_now(committed_db)
    at = as_staff(repo_root, staff, "calls.py")  # staff open the call list and dial ...
    with Session(committed_db) as session:  # ... while another practice accepts Lea through its link
        lea = session.get(Search, session.get(InquiryItem, lea_item).search_id)
        by_link = sent(session, therapist(session, "Lorenz"), [lea])
        matching.record_answer(session, item_id=by_link.items[0].id, outcome="accepted", actor="link", now=NOW)
        session.commit()
    at.radio(key=f"outcome_{call_id}").set_value("reached")
    at.selectbox(key=f"answer_{call_id}_{lea_item}").set_value("accepted")
    at.selectbox(key=f"answer_{call_id}_{tom_item}").set_value("declined_capacity")
    at.button[0].click().run()
    assert not at.exception
    assert "Diese Zusage ist ein Konflikt" in texts(at)
    with Session(committed_db) as session:
        [conflict] = matching.list_conflicts(session)
    assert conflict["item_id"] == lea_item


def test_answers__an_offer_staff_record_after_the_patient_was_placed_elsewhere_is_a_conflict(
    repo_root, staff, committed_db
):
    from tests.dashboards.test_matching_pages import as_staff

    with Session(committed_db) as session:
        lea, tom = searching_patient(session, "Beispiel"), searching_patient(session, "Muster", first_name="Tom")
        inquiry = sent(session, therapist(session, "Kraus"), [lea, tom])
        inquiry_id, lea_item, lea_search = inquiry.id, inquiry.items[0].id, lea.id
        session.commit()
    at = as_staff(repo_root, staff, "answers.py")  # Kraus phones; staff open the inquiry ...
    at.selectbox(key="answers_inquiry").select(inquiry_id).run()
    with Session(committed_db) as session:  # ... while Lorenz accepts Lea through his answer link
        by_link = sent(session, therapist(session, "Lorenz"), [session.get(Search, lea_search)])
        matching.record_answer(session, item_id=by_link.items[0].id, outcome="accepted", actor="link", now=NOW)
        session.commit()
    data.open_inquiries.clear()  # the list is cached for 15 s: typing the note takes longer
    at.selectbox(key=f"outcome_{lea_item}").select(ItemOutcome.ACCEPTED)
    at.text_input(key=f"message_{lea_item}").input("Platz ab Januar, bitte zurückrufen")
    next(b for b in at.button if b.label == "Antwort speichern").click().run()
    assert not at.exception
    assert "Diese Zusage ist ein Konflikt" in texts(at)
    with Session(committed_db) as session:
        [conflict] = matching.list_conflicts(session)
    assert (conflict["item_id"], conflict["answer_message"]) == (lea_item, "Platz ab Januar, bitte zurückrufen")
