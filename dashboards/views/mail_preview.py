"""Mail preview (staff): every mail template rendered with sample data, in German and English."""

from __future__ import annotations

import streamlit as st

from core.communication import templates
from core.errors import WorkbenchError
from dashboards.components.login import require_user
from dashboards.i18n import say, t
from dashboards.navigation import STAFF_ROLES
from dashboards.plain_text import literal

user = require_user()
st.title(t("communication.preview.title"))
if user.role not in STAFF_ROLES:
    st.info(t("communication.preview.denied"))
    st.stop()
st.caption(t("communication.preview.intro"))

left, right = st.columns([3, 1])
template = left.selectbox(
    t("communication.preview.template"),
    templates.TEMPLATES,
    format_func=lambda name: t(f"communication.template.{name}"),
    index=templates.TEMPLATES.index(st.query_params.get("template", "inquiry"))
    if st.query_params.get("template") in templates.TEMPLATES
    else 0,
    key="preview_template",
)
language = right.radio(
    t("communication.preview.language"), templates.LANGUAGES, horizontal=True, key="preview_language",
    format_func=lambda code: {"de": "Deutsch", "en": "English"}[code],
)  # fmt: skip
st.query_params["template"] = template

try:
    mail = templates.render(template, language=language, context=templates.sample_context(template))
except WorkbenchError as exc:
    st.error(say(exc))
    st.stop()

if templates.template_language(template, language) != language:
    st.info(t("communication.preview.fallback"))
st.subheader(t("communication.preview.shown", name=t(f"communication.template.{template}")))
st.markdown(f"**{t('communication.preview.subject', subject=literal(mail.subject))}**")
html_tab, text_tab = st.tabs([t("communication.preview.html"), t("communication.preview.text")])
with html_tab, st.container(border=True):
    st.html(mail.html)
with text_tab:
    st.code(mail.text, language=None, wrap_lines=True)
