"""The match model (managers, admins): versions with metrics, calibration and feature effects; admins activate."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from core import clock
from core.config import get_settings
from core.db import session_scope
from core.errors import WorkbenchError
from core.models_registry import service as registry
from dashboards import data, formatting
from dashboards.components.figures import number
from dashboards.components.login import require_user
from dashboards.i18n import say, t

user = require_user()
if user.role not in {"admin", "manager"}:
    st.error(t("models.only_managers"))
    st.stop()


def act(action, done: str) -> None:
    """Run one admin action in its own transaction; report the outcome after the rerun."""
    try:
        with session_scope(data.engine()) as session:
            name = action(session)
    except WorkbenchError as exc:
        st.session_state["models_flash"] = ("error", say(exc))
    else:
        st.session_state["models_flash"] = ("success", t(done, name=name))
    st.rerun()


def pair(metrics: dict, key: str, decimals: int = 3) -> str:
    return f"{number(metrics['learned'].get(key), decimals)} ({number(metrics['prior'].get(key), decimals)})"


def offers(metrics: dict) -> str:
    learned = metrics.get("off_policy", {}).get("learned", {})
    if learned.get("offers_per_100") is None:
        return "–"
    return f"{number(learned['offers_per_100'], 1)} ({number(learned['low'], 1)}–{number(learned['high'], 1)})"


st.title(t("models.title"))
kind, message = st.session_state.pop("models_flash", (None, None))
if kind:
    getattr(st, kind)(message)
st.info(t("models.setting_learned" if get_settings().match_model == "learned" else "models.setting_prior"))

with session_scope(data.engine()) as session:
    versions = [
        {
            "version": r.version, "name": r.name, "trained_at": r.trained_at, "window": (r.window_start, r.window_end),
            "rows": (r.train_rows, r.test_rows), "metrics": r.metrics, "active": r.is_active,
        }
        for r in registry.list_versions(session)
    ]  # fmt: skip
active = next((v["name"] for v in versions if v["active"]), None)
st.markdown(t("models.active", name=active or t("models.prior")))
if not versions:
    st.caption(t("models.none"))
    st.code("python -m jobs.train_model", language=None)  # plain: highlighted tokens fail the contrast check
    st.stop()

st.dataframe(
    pd.DataFrame(
        {
            t("models.col.version"): [v["name"] for v in versions],
            t("models.col.trained"): [formatting.moment(clock.local(v["trained_at"])) for v in versions],
            t("models.col.window"): [f"{v['window'][0]:%d.%m.%Y}–{v['window'][1]:%d.%m.%Y}" for v in versions],
            t("models.col.rows"): [f"{number(v['rows'][0])} / {number(v['rows'][1])}" for v in versions],
            t("models.col.auc"): [pair(v["metrics"], "roc_auc") for v in versions],
            t("models.col.log_loss"): [pair(v["metrics"], "log_loss", 4) for v in versions],
            t("models.col.brier"): [pair(v["metrics"], "brier", 4) for v in versions],
            t("models.col.offers"): [offers(v["metrics"]) for v in versions],
            t("models.col.status"): [
                t("models.status.active" if v["active"] else "models.status.inactive") for v in versions
            ],
        }
    ),
    hide_index=True,
    width="stretch",
)

names = [v["name"] for v in versions]
picked = versions[names.index(st.selectbox(t("models.pick"), names, key="models_pick"))]
metrics = picked["metrics"]
left, right = st.columns(2)
with left:
    st.subheader(t("models.calibration"))
    calibration = pd.DataFrame(metrics["learned"]["calibration"]).set_index("decile")
    st.line_chart(
        calibration[["predicted", "observed"]].rename(
            columns={"predicted": t("models.calibration.predicted"), "observed": t("models.calibration.observed")}
        )
    )
with right:
    st.subheader(t("models.effects"))
    effects = pd.DataFrame(metrics["feature_effects"])
    effects["factor"] = [t(f"factor.{code}") for code in effects["factor"]]
    st.bar_chart(effects.set_index("factor")["mean_abs_weight"], horizontal=True)
    st.caption(t("models.effects_help"))
    st.caption(", ".join(f"{row.factor}: {number(row.low, 2)} … {number(row.high, 2)}" for row in effects.itertuples()))
off_policy = metrics.get("off_policy", {})
st.caption(
    t(
        "models.off_policy",
        items=off_policy.get("exploration_items", 0),
        learned=number(off_policy.get("learned", {}).get("offers_per_100"), 1),
        prior=number(off_policy.get("prior", {}).get("offers_per_100"), 1),
        logged=number(off_policy.get("logged", {}).get("offers_per_100"), 1),
    )
)

if user.role != "admin":
    st.caption(t("models.only_admins_act"))
    st.stop()
with st.form("models_activate"):
    reason = st.text_area(t("models.reason"), key="models_reason")
    if st.form_submit_button(t("models.activate"), disabled=picked["active"]):
        act(lambda s: registry.activate(s, version=picked["version"], actor=user.email, actor_id=user.id,
                                        now=datetime.now(UTC), reason=reason).name, "models.activated")  # fmt: skip
if active and st.button(t("models.rollback"), key="models_rollback"):
    act(lambda s: registry.rollback(s, actor=user.email, actor_id=user.id, now=datetime.now(UTC)), "models.rolled_back")
