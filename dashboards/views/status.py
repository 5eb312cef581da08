"""System status: database, migrations, row counts, jobs, outbox; admins can run a job now."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import clock
from core.operations import registry, runner
from dashboards import data, formatting
from dashboards.components.login import require_user
from dashboards.i18n import CATALOG, current_language, job_counts, t

user = require_user()


def when(value) -> str:
    return formatting.moment(clock.local(value)) if value is not None else t("status.never")


st.title(t("status.title"))
if st.button(t("status.refresh"), icon=":material/refresh:", key="status_refresh"):
    data.clear_status()
status = data.system_status()


def describe(job: dict) -> str:
    """The job's description in the user's language; a job without texts (e.g. a plug-in's) says its own."""
    key = f"job.{job['job']}"
    return t(key) if key in CATALOG[current_language()] else job["description"]


def show_checks(checks: list[dict]) -> None:
    """Where mail and answer links go, and a warning when nothing is there to receive them."""
    st.subheader(t("operations.checks"))
    for check in checks:
        if check["check"] == "mail":
            key = "operations.check.mail_ok" if check["ok"] else "operations.check.mail_nobody"
            message = t(key, target=check["target"], catcher=check["catcher_port"])
        else:
            key = "operations.check.links_ok" if check["ok"] else "operations.check.links_elsewhere"
            message = t(key, url=check["url"], port=check["app_port"])
        if check["ok"]:
            st.markdown(f":material/check_circle: {message}")
        else:
            st.warning(message, icon=":material/warning:")


database = status["database"]
if not database["reachable"]:
    st.error(t("status.unreachable_detail", error=database["error"]))
    show_checks(status["checks"])
    st.stop()

cols = st.columns(4)
cols[0].metric(t("status.database"), t("status.reachable"))
cols[1].metric(t("status.server_version"), database["server_version"])
cols[2].metric(t("status.mode"), t("status.mode_embedded") if database["embedded"] else t("status.mode_external"))
cols[3].metric(t("status.revision"), database["revision"] or "—")

show_checks(status["checks"])

st.subheader(t("status.outbox"))
outbox = status["outbox"]
cols = st.columns(4)
cols[0].metric(t("status.outbox_events"), f"{outbox['domain_events']:,}".replace(",", "."))
oldest = outbox["oldest_unpublished_at"]
cols[3].metric(t("status.relay_oldest"), when(oldest) if oldest else "—")
st.caption(t("status.relay_on") if outbox["relay_enabled"] else t("status.relay_off"))
cols[1].metric(t("status.mail_waiting"), f"{outbox['mail_waiting']:,}".replace(",", "."))
cols[2].metric(t("status.mail_dead"), f"{outbox['mail_dead']:,}".replace(",", "."))

st.subheader(t("status.jobs"))
jobs = pd.DataFrame(
    {
        t("status.job"): [j["job"] for j in status["jobs"]],
        t("status.description"): [describe(j) for j in status["jobs"]],
        t("status.schedule"): [j["schedule"] for j in status["jobs"]],
        t("status.last_status"): [
            t(f"job.status.{j['last_status']}") if j["last_status"] else t("status.never") for j in status["jobs"]
        ],
        t("status.last_started"): [when(j["last_started"]) for j in status["jobs"]],
        t("status.next_run"): [when(j["next_run"]) for j in status["jobs"]],
    }
)
st.table(jobs.set_index(t("status.job")))

if user.role == "admin":
    with st.form("trigger_job"):
        st.markdown(f"**{t('status.trigger')}**")
        job_name = st.selectbox(t("status.job"), [job.name for job in registry.get_all()], key="trigger_job_name")
        if st.form_submit_button(t("status.trigger_button"), type="primary"):
            run = runner.run_job(job_name, triggered_by=user.email, engine=data.engine())
            data.clear_status()
            if run.status.value == "succeeded":
                st.success(
                    t(
                        "status.trigger_done",
                        job=job_name,
                        status=t("job.status.succeeded"),
                        counts=job_counts(run.counts),
                    )
                )
            elif run.status.value == "skipped":
                st.warning(t("status.trigger_skipped", job=job_name))
            else:
                st.error(t("status.trigger_failed", job=job_name, error=(run.error or "").splitlines()[0]))

st.subheader(t("status.rows"))
rows = pd.DataFrame({t("status.table"): list(status["rows"]), t("status.count"): list(status["rows"].values())})
st.table(rows.set_index(t("status.table")))
