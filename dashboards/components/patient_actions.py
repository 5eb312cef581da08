"""The profile tab's actions: consents, the search lifecycle, the Absagenliste, admin data-subject rights."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import streamlit as st

from core import clock
from core.communication import dispatch
from core.contact import display_phone
from core.db import session_scope
from core.errors import WorkbenchError
from core.patients import privacy, rejections
from core.patients import service as patients
from core.patients.overview import PatientOverview
from dashboards import data
from dashboards.components import read_audit, search_relaxations
from dashboards.components.login import CurrentUser
from dashboards.i18n import nt, say, t

CONSENT_TEXT_VERSION = "2026-01"  # the current consent text; a new text gets a new version


def _run(action, success: str) -> None:
    """Run a core action in one transaction; show its error, or flash success and refresh the page."""
    try:
        with session_scope(data.engine()) as session:
            action(session)
    except patients.PrequalificationFailed as exc:
        st.session_state["patient_unmet"] = [r.message for r in exc.requirements]
        return
    except WorkbenchError as exc:
        st.session_state["patient_action_error"] = say(exc)
        return
    data.clear_patients()
    st.session_state["patient_flash"] = success


def show(*, view: PatientOverview, user: CurrentUser, today: date) -> None:
    p = view.patient
    error = st.session_state.pop("patient_action_error", None)
    if error:
        st.error(error)
    left, right = st.columns(2)
    with left:
        st.markdown(f"**{t('form.section.contact')}**")
        st.write(
            "  \n".join(
                x
                for x in (p["email"], display_phone(p["phone"]), p["street"], f"{p['postcode']} {p['city'] or ''}")
                if x
            )
        )
        insurance = t(f"insurance.{p['insurance_type'].value}") if p["insurance_type"] else "—"
        st.markdown(f"**{t('form.insurance_type')}:** {insurance} {p['insurance_name'] or ''}")
        _consents(view, user)
    with right:
        _search(view, user, today)
        _rejection_list(p, user)
    if user.role == "admin":
        _data_subject_rights(p, user)


def _consents(view: PatientOverview, user: CurrentUser) -> None:
    st.markdown(f"**{t('patient.consent')}**")
    for kind, consent in view.consents.items():
        state = (
            t(
                "patient.consent.granted",
                date=f"{clock.local(consent['granted_at']):%d.%m.%Y}",
                version=consent["text_version"],
            )
            if consent
            else f":orange[{t('patient.consent.missing')}]"
        )
        st.markdown(f"- {t(f'patient.consent.{kind}')}: {state}")
    missing = [kind for kind, consent in view.consents.items() if consent is None]
    if missing and not view.patient["erased_at"]:
        with st.form("consent_form", border=False):
            kind = st.selectbox(t("patient.consent.kind"), missing, format_func=lambda k: t(f"patient.consent.{k}"))
            version = st.text_input(t("patient.consent.version"), value=CONSENT_TEXT_VERSION)
            if st.form_submit_button(t("patient.consent.record"), icon=":material/how_to_reg:"):
                _run(
                    lambda s: patients.record_consent(
                        s,
                        patient_id=view.patient["id"],
                        kind=kind,
                        text_version=version,
                        actor=user.email,
                        actor_id=user.id,
                        now=datetime.now(UTC),
                    ),
                    t("patient.consent.recorded"),
                )
                st.rerun()


def _search(view: PatientOverview, user: CurrentUser, today: date) -> None:
    st.markdown(f"**{t('patient.search')}**")
    search, pid = view.search, view.patient["id"]
    unmet = st.session_state.pop("patient_unmet", None)
    if unmet:
        st.error(t("patient.search.unmet") + "\n" + "\n".join(f"- {say(m)}" for m in unmet))
    if search is None:
        st.write(t("patient.search.none"))
        if view.unmet:
            st.caption(t("patient.search.unmet") + " " + "; ".join(say(r.message) for r in view.unmet))
        if not view.patient["erased_at"] and st.button(
            t("patient.search.start"), type="primary", icon=":material/play_arrow:", key="search_start"
        ):
            _run(
                lambda s: dispatch.start_search_and_notify(
                    s, patient_id=pid, actor=user.email, actor_id=user.id, today=today, now=datetime.now(UTC)
                ),
                t("patient.search.started"),
            )
            st.rerun()
        return
    status = t(f"search.status.{search['status'].value}")
    st.write(t("patient.search.state", status=status, date=f"{search['started_on']:%d.%m.%Y}"))
    if search["paused_until"]:
        st.write(t("patient.search.paused_until", date=f"{search['paused_until']:%d.%m.%Y}"))
        if st.button(t("patient.search.resume"), key="search_resume", icon=":material/play_arrow:"):
            _run(
                lambda s: patients.resume_search(s, search_id=search["id"], actor=user.email, actor_id=user.id),
                t("patient.search.resumed"),
            )
            st.rerun()
    else:
        with st.form("pause_form", border=True):
            until = st.date_input(
                t("patient.search.pause_until"),
                value=today + timedelta(weeks=4),
                format="DD.MM.YYYY",
                min_value=today + timedelta(days=1),
            )
            reason = st.text_input(t("patient.search.pause_reason"))
            if st.form_submit_button(t("patient.search.pause"), icon=":material/pause:"):
                _run(
                    lambda s: patients.pause_search(
                        s,
                        search_id=search["id"],
                        until=until,
                        reason=reason or None,
                        actor=user.email,
                        actor_id=user.id,
                        today=today,
                    ),
                    t("patient.search.paused", date=f"{until:%d.%m.%Y}"),
                )
                st.rerun()
    search_relaxations.show(search=search, user=user, run=_run)
    with st.expander(t("patient.search.cancel")), st.form("cancel_form", border=False):
        reason = st.text_input(t("patient.search.cancel_reason"))
        if st.form_submit_button(t("patient.search.cancel"), icon=":material/cancel:"):
            _run(
                lambda s: patients.cancel_search(
                    s, search_id=search["id"], reason=reason, actor=user.email, actor_id=user.id, today=today
                ),
                t("patient.search.cancelled"),
            )
            st.rerun()


def _rejection_list(p: dict, user: CurrentUser) -> None:
    st.markdown(f"**{t('patient.rejections')}**")
    st.caption(t("patient.rejections.help"))
    with session_scope(data.engine()) as session:
        patient = patients.get(session, patient_id=p["id"])
        contacts = rejections.rejection_list(session, patient_id=p["id"])
        html = rejections.render_html(patient, contacts, today=clock.today())
        stem = rejections.file_stem(patient, clock.today())
    if not contacts:
        st.info(t("patient.rejections.empty"))
        return
    st.write(nt("patient.rejections.count", len(contacts)))
    c1, c2 = st.columns(2)
    c1.download_button(
        t("patient.rejections.html"),
        html,
        file_name=f"{stem}.html",
        mime="text/html",
        icon=":material/print:",
        key="rejections_html",
        on_click=_audit_download,
        args=(user, p, "html"),
    )
    c2.download_button(
        t("patient.rejections.csv"),
        rejections.render_csv(contacts),
        file_name=f"{stem}.csv",
        mime="text/csv",
        icon=":material/table:",
        key="rejections_csv",
        on_click=_audit_download,
        args=(user, p, "csv"),
    )


def _audit_download(user: CurrentUser, p: dict, file_format: str) -> None:
    read_audit.record(user, what="rejection_list", page="patient", references=[p["reference"]], every_time=True,
                      details={"format": file_format}, entity_type="patient", entity_id=p["id"])  # fmt: skip


def _data_subject_rights(p: dict, user: CurrentUser) -> None:
    with st.expander(t("patient.admin"), icon=":material/shield_person:", expanded=bool(p["erased_at"])):
        _export_button(p, user)
        if p["erased_at"]:
            _erasure_report(p["id"])
            return
        with st.form("erase_form", border=False):
            st.markdown(f"**{t('patient.erase')}**")
            st.caption(t("patient.erase_help"))
            reason = st.text_input(t("patient.erase_reason"))
            confirmed = st.checkbox(t("patient.erase_confirm", reference=p["reference"]))
            if st.form_submit_button(t("patient.erase_button"), type="primary", icon=":material/delete_forever:"):
                if not confirmed:
                    st.error(t("patient.erase_need_confirm"))
                    return
                try:  # erasure, file purge and compaction own their transactions (core.patients.privacy)
                    privacy.erase_everywhere(data.engine(), patient_id=p["id"], actor=user.email, actor_id=user.id,
                                             reason=reason, now=datetime.now(UTC))  # fmt: skip
                except WorkbenchError as exc:
                    st.error(say(exc))
                    return
                data.clear_patients()
                data.caught_mail.clear()
                st.session_state["patient_flash"] = t("patient.erased_done")
                st.rerun()


def _erasure_report(patient_id: int) -> None:
    """Show the stored erasure report: what was done, and what could not be erased and why."""
    with session_scope(data.engine()) as session:
        report = privacy.erasure_report(session, patient_id=patient_id)
    if not report:
        return
    st.markdown(f"**{t('patient.erasure_report')}**")
    counts = {"searches": "searches_ended", "items": "items_withdrawn", "inquiries": "inquiries_closed",
              "calls": "calls_cancelled", "stopped": "mails_stopped", "rewritten": "mails_rewritten",
              "mails": "local_mails_deleted", "lines": "log_lines_redacted"}  # fmt: skip
    st.markdown(t("patient.erasure_report.done", **{key: report.get(name, 0) for key, name in counts.items()}))
    delivered = report.get("delivered") or []
    if delivered:
        st.warning(t("patient.erasure_report.delivered", count=len(delivered)))
        st.dataframe(
            [
                {t("patient.erasure_report.sent_on"): date.fromisoformat(d["sent_on"]).strftime("%d.%m.%Y"),
                 t("patient.erasure_report.recipient"): d["recipient"],
                 t("patient.erasure_report.inquiry"): d["inquiry_reference"] or "–"}
                for d in delivered
            ],
            hide_index=True,
        )  # fmt: skip
    for note in report.get("storage") or []:
        st.caption(note)


def _export_button(p: dict, user: CurrentUser) -> None:
    """Offer the Art. 15 export of this page's patient; the file is made (and audited) only on the click.

    Nothing is kept in the session between pages, so another patient's page can never offer this file, and
    Streamlit holds no media URL for it until the click (it drops the file again on the next reruns).
    """
    engine, patient_id = data.engine(), p["id"]

    def build() -> str:  # runs in Streamlit's download thread: no st.* calls here
        with session_scope(engine) as session:
            return privacy.export_json(session, patient_id=patient_id, actor=user.email, actor_id=user.id)

    st.caption(t("patient.export_help"))
    st.download_button(
        t("patient.export_download"),
        build,
        file_name=f"{p['reference']}.json",
        mime="application/json",
        key=f"export_download_{patient_id}",
        on_click="ignore",
        icon=":material/download:",
    )
