"""Review proposals: run matching, then approve, discard or trim each proposed inquiry (or several at once)."""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from core.communication import dispatch
from core.db import session_scope
from core.errors import WorkbenchError
from core.matching import service as matching
from dashboards import data, formatting
from dashboards.components import inquiry_items, proposal_edit
from dashboards.components.login import require_user
from dashboards.i18n import nt, say, t

PER_PAGE = 20
user = require_user()
st.title(t("proposals.title"))
for message in st.session_state.pop("proposals_flash", []):
    (st.error if message.startswith("!") else st.success)(message.lstrip("!"))


def act(action, success: str) -> None:
    """Run one review action in its own transaction; flash its result."""
    try:
        with session_scope(data.engine()) as session:
            action(session)
        if success:
            st.session_state.setdefault("proposals_flash", []).append(success)
    except WorkbenchError as exc:
        st.session_state.setdefault("proposals_flash", []).append("!" + say(exc))
    data.clear_matching()


with st.form("run_matching", border=True):
    region = st.text_input(t("proposals.region"), max_chars=2, key="proposals_region")
    if st.form_submit_button(t("proposals.run"), type="primary", icon=":material/hub:"):
        with st.spinner(t("proposals.running")):
            act(
                lambda s: st.session_state.__setitem__(
                    "proposals_run",
                    matching.scheduled_run(s, now=datetime.now(UTC), region=region or None, actor=user.email),
                ),
                "",
            )
        counts = st.session_state.pop("proposals_run", None)
        if counts:
            st.session_state["proposals_flash"] = [
                nt(
                    "proposals.ran",
                    counts["inquiries"],
                    items=formatting.number(counts["items"]),
                    seconds=formatting.number(counts["seconds"], digits=1),
                )
            ]
        st.rerun()

proposals = data.proposals()
if not proposals:
    st.info(t("proposals.empty"))
    st.stop()
expected = sum(p["expected_placements"] for p in proposals)
st.caption(nt("proposals.count", len(proposals), expected=formatting.number(expected, digits=1)))

with st.expander(t("proposals.bulk"), icon=":material/done_all:"), st.form("bulk_approve", border=False):
    chosen = st.multiselect(
        t("proposals.bulk_pick"),
        [p["inquiry_id"] for p in proposals],
        key="bulk_ids",
        format_func={p["inquiry_id"]: f"{p['reference']} · {p['therapist_name']}" for p in proposals}.get,
        placeholder=t("select.placeholder"),
    )
    if st.form_submit_button(t("proposals.approve"), icon=":material/done_all:") and chosen:

        def bulk(session):
            report = dispatch.approve_many_and_queue(
                session, inquiry_ids=chosen, actor=user.email, actor_id=user.id, now=datetime.now(UTC)
            )
            st.session_state["proposals_bulk"] = report

        act(bulk, "")
        reports = st.session_state.pop("proposals_bulk", None) or []
        refused = [r for r in reports if not r.approved]
        flash = st.session_state.setdefault("proposals_flash", [])
        flash.append(t("proposals.bulk_done", approved=len(reports) - len(refused), refused=len(refused)))
        flash += ["!" + t("proposals.bulk_refused", reference=r.reference, reason=say(r.message)) for r in refused]
        st.rerun()

pages = max(1, -(-len(proposals) // PER_PAGE))
page = st.number_input(t("proposals.page"), 1, pages, 1, key="proposals_page") if pages > 1 else 1
for p in proposals[(page - 1) * PER_PAGE : page * PER_PAGE]:
    place = f"{p['postcode'] or ''} {p['city'] or ''}".strip()
    with st.container(border=True):
        st.markdown(
            "**"
            + t(
                "proposals.header",
                reference=p["reference"],
                therapist=p["therapist_name"],
                place=place,
                expected=formatting.number(p["expected_placements"], digits=2),
            )
            + "**"
        )
        inquiry_items.show(p["items"])
        c1, c2, c3, c4 = st.columns(4)
        iid, ref = p["inquiry_id"], p["reference"]
        if c1.button(t("proposals.approve"), key=f"approve_{iid}", type="primary", icon=":material/check:"):
            act(
                lambda s, iid=iid: dispatch.approve_and_queue(
                    s, inquiry_id=iid, actor=user.email, actor_id=user.id, now=datetime.now(UTC)
                ),
                t("proposals.approved", reference=ref),
            )
            st.rerun()
        with c2.popover(t("proposals.discard"), icon=":material/delete:"):
            reason = st.text_input(t("proposals.discard_reason"), key=f"discard_reason_{iid}")
            if st.button(t("proposals.discard"), key=f"discard_{iid}"):
                act(
                    lambda s, iid=iid, reason=reason: matching.discard(
                        s, inquiry_id=iid, actor=user.email, reason=reason, actor_id=user.id, now=datetime.now(UTC)
                    ),
                    t("proposals.discarded", reference=ref),
                )
                st.rerun()
        if len(p["items"]) > 1:
            with c3.popover(t("proposals.remove"), icon=":material/person_remove:"):
                item_id = st.selectbox(
                    t("proposals.remove_item"),
                    [i["item_id"] for i in p["items"]],
                    format_func={i["item_id"]: i["patient_reference"] for i in p["items"]}.get,
                    key=f"remove_pick_{iid}",
                )
                if st.button(t("proposals.remove"), key=f"remove_{iid}"):
                    act(
                        lambda s, item_id=item_id: matching.remove_item(
                            s, item_id=item_id, actor=user.email, actor_id=user.id, now=datetime.now(UTC)
                        ),
                        t("proposals.removed"),
                    )
                    st.rerun()
        proposal_edit.show(inquiry=p, user=user, act=act, column=c4)
