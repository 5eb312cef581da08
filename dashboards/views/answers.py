"""Record answers per patient of an inquiry; first acceptance wins, later ones become conflicts."""

from __future__ import annotations

from datetime import UTC, date, datetime

import streamlit as st

from core import clock
from core.communication import dispatch
from core.db import session_scope
from core.errors import WorkbenchError
from core.matching import service as matching
from core.matching.models import ItemOutcome
from dashboards import data
from dashboards.components import inquiry_items
from dashboards.components.login import require_user
from dashboards.i18n import nt, say, t

ANSWERS = [
    ItemOutcome.ACCEPTED,
    ItemOutcome.DECLINED_CAPACITY,
    ItemOutcome.DECLINED_UNSUITABLE,
    ItemOutcome.DECLINED_OTHER,
    ItemOutcome.NO_ANSWER,
]
user = require_user()
st.title(t("answers.title"))
for kind, message in st.session_state.pop("answers_flash", []):
    getattr(st, kind)(message)


def record(item_id: int, outcome: ItemOutcome, message: str | None, first_session: date | None) -> None:
    flash = st.session_state.setdefault("answers_flash", [])
    try:
        with session_scope(data.engine()) as session:
            result = matching.record_answer(
                session,
                item_id=item_id,
                outcome=outcome,
                actor=user.email,
                actor_id=user.id,
                now=datetime.now(UTC),
                message=message or None,
                proposed_first_session=first_session,
            )
            dispatch.notify_placement(session, result=result, actor=user.email, now=datetime.now(UTC))
    except WorkbenchError as exc:
        flash.append(("error", say(exc)))
        return
    flash.append(("success", t("answers.recorded", outcome=t(f"outcome.{result.outcome.value}"))))
    if result.is_conflict:
        flash.append(("warning", t("answers.conflict")))
    elif result.outcome == ItemOutcome.ACCEPTED and result.placement_id:
        flash.append(("success", nt("answers.placed", len(result.withdrawn_item_ids))))
    if result.cooldown_until:
        flash.append(("info", t("answers.cooldown", until=f"{result.cooldown_until:%d.%m.%Y}")))
    flash.append(("caption", t("answers.reply_type", reply=t(f"reply.{result.reply_type.value}"))))
    data.clear_matching()


inquiries = data.open_inquiries()
if not inquiries:
    st.info(t("answers.empty"))
    st.stop()
by_id = {i["inquiry_id"]: i for i in inquiries}
chosen = st.selectbox(
    t("answers.pick"),
    list(by_id),
    key="answers_inquiry",
    format_func=lambda i: (
        f"{by_id[i]['reference']} · {by_id[i]['therapist_name']} · "
        f"{by_id[i]['postcode'] or ''} ({by_id[i]['pending_items']} offen)"
    ),
)
inquiry = by_id[chosen]
sent = f"{clock.local(inquiry['sent_at']):%d.%m.%Y}" if inquiry["sent_at"] else "—"
st.caption(t("answers.status", status=t(f"inquiry.status.{inquiry['status'].value}"), sent=sent))
inquiry_items.show(inquiry["items"])

for item in inquiry["items"]:
    # withdrawn items keep their form: the patient may be placed elsewhere while staff type, and a practice's
    # offer arriving by phone or mail after that must still be recorded (as a conflict), never dropped
    if item["outcome"] not in (ItemOutcome.PENDING, ItemOutcome.WITHDRAWN):
        continue
    with st.form(f"answer_{item['item_id']}", border=True):
        gender = t(f"gender.{item['gender'].value}")
        st.markdown(f"**{item['patient_reference']}** · {item['age']} · {gender}")
        if item["outcome"] == ItemOutcome.WITHDRAWN:
            st.caption(t("answers.withdrawn"))
        c1, c2, c3 = st.columns([2, 3, 2])
        outcome = c1.selectbox(
            t("answers.outcome"),
            ANSWERS,
            format_func=lambda o: t(f"outcome.{o.value}"),
            key=f"outcome_{item['item_id']}",
        )
        message = c2.text_input(t("answers.message"), key=f"message_{item['item_id']}")
        first = c3.date_input(
            t("answers.first_session"), value=None, format="DD.MM.YYYY", key=f"first_{item['item_id']}"
        )
        if st.form_submit_button(t("answers.record"), type="primary", icon=":material/save:"):
            record(item["item_id"], outcome, message, first)
            st.rerun()
