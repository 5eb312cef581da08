"""SQL-Abfrage: a read-only SQL box over the aggregated marts, for analysts (see core.warehouse.sql_box)."""

from __future__ import annotations

import streamlit as st

from core.errors import ValidationError
from core.warehouse import sql_box
from core.warehouse.read import suppress_small_cells
from dashboards.components import warehouse
from dashboards.components.figures import downloads, number
from dashboards.components.login import require_user
from dashboards.i18n import say, t

EXAMPLE = "select cohort_month, searches, rate_30, rate_90\nfrom mart_placement_rates\norder by cohort_month"

user = require_user()
st.title(t("analytics.sql.title"))
build = warehouse.show_build(user=user, key="sql")
if build is None:
    st.stop()
st.caption(t("analytics.sql.intro", rows=number(sql_box.MAX_ROWS), seconds=number(sql_box.TIMEOUT_SECONDS)))

with st.form("sql_box"):
    query = st.text_area(t("analytics.sql.query"), value=EXAMPLE, height=160, key="sql_query")
    submitted = st.form_submit_button(t("analytics.sql.run"), icon=":material/play_arrow:")
if submitted:
    try:
        result = sql_box.run_query(query)
    except ValidationError as exc:
        st.error(say(exc))
        st.stop()
    frame = suppress_small_cells(result.frame) if user.role == "analyst" else result.frame
    if result.truncated:
        st.warning(t("analytics.sql.truncated", rows=number(sql_box.MAX_ROWS)))
    if frame.empty:
        st.info(t("analytics.sql.no_rows"))
    else:
        st.dataframe(frame, hide_index=True, width="stretch")
        downloads(frame, name="query", key="sql")
