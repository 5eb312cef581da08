"""The uncertain matches of directory imports: the entry beside the therapist we hold, and staff's decision."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core import clock
from core.db import session_scope
from core.directory import service as directory
from core.errors import WorkbenchError
from dashboards import data
from dashboards.components.login import CurrentUser
from dashboards.i18n import say, t

FIELDS = {"name": "directory.col.name", "street": "directory.field.street", "postcode": "directory.col.postcode",
          "city": "directory.col.city"}  # fmt: skip


def _comparison(pair: dict[str, Any]) -> pd.DataFrame:
    differs = pair["differs"]
    return pd.DataFrame([{t("directory.reviews.col.field"): t(label) + (" ≠" if f == differs else ""),
                          t("directory.col.imported"): pair["directory"][f] or "–",
                          t("directory.reviews.col.ours"): pair["ours"][f] or "–"}
                         for f, label in FIELDS.items()])  # fmt: skip


def _decide(action: Any, pair: dict[str, Any], user: CurrentUser, done: str) -> None:
    try:
        with session_scope(data.engine()) as session:
            therapist = action(session, review_id=pair["id"], actor=user.email, today=clock.today())
            name = " ".join(p for p in (therapist.title, therapist.first_name, therapist.last_name) if p)
        data.clear_therapists()
        st.session_state["directory_reviews_done"] = t(done, name=name)
    except WorkbenchError as exc:
        st.session_state["directory_reviews_done"] = None
        st.error(say(exc))
        return
    st.rerun()


def show(user: CurrentUser, *, key: str) -> None:
    """List the open reviews, each with "same therapist" and "another person"; one transaction per decision."""
    st.subheader(t("directory.reviews.title"))
    if done := st.session_state.pop("directory_reviews_done", None):
        st.success(done)
    with session_scope(data.engine()) as session:
        pairs = directory.review_pairs(session)
    if not pairs:
        st.caption(t("directory.reviews.empty"))
        return
    st.caption(t("directory.reviews.intro"))
    for pair in pairs:
        with st.container(border=True):
            st.markdown(t("directory.reviews.item", name=pair["directory"]["name"], id=pair["external_id"] or "–",
                          differs=t(f"directory.differs.{pair['differs']}")))  # fmt: skip
            st.table(_comparison(pair).set_index(t("directory.reviews.col.field")))  # four rows: a plain table
            same, other = st.columns(2)
            if same.button(t("directory.reviews.merge"), key=f"{key}_merge_{pair['id']}", icon=":material/merge:"):
                _decide(directory.merge_review, pair, user, "directory.reviews.merged")
            if other.button(t("directory.reviews.separate"), key=f"{key}_separate_{pair['id']}",
                            icon=":material/person_add:"):  # fmt: skip
                _decide(directory.separate_review, pair, user, "directory.reviews.separated")
