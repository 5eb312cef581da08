"""Directory import: upload 116117 answers or exports, map CSV columns, preview, commit; the import history."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import clock
from core.db import session_scope
from core.directory import service as directory
from core.directory.reading import Source
from core.directory.table_reader import TARGETS
from core.errors import WorkbenchError
from dashboards import data
from dashboards.components import directory_report, directory_reviews
from dashboards.components.login import require_user
from dashboards.i18n import say, t

KEY = "directory_import"
user = require_user()
st.title(t("directory.title"))
if user.role not in {"admin", "staff"}:
    st.info(t("directory.readonly"))
    st.stop()
st.caption(t("directory.intro"))
work, history = st.tabs([t("directory.tab.import"), t("directory.tab.history")])

with work:
    uploads = st.file_uploader(t("directory.upload"), type=["json", "csv", "txt", "xlsx"], accept_multiple_files=True,
                               key=f"{KEY}_files")  # fmt: skip
    sources = [Source.from_bytes(u.name, u.getvalue()) for u in uploads or []]
    mappings: dict[str, dict[str, str]] = {}
    layouts: dict[str, list[str]] = {}
    try:
        with session_scope(data.engine()) as session:
            for source in (s for s in sources if s.is_table):
                headers, suggested, remembered = directory.mapping_for(session, source=source)
                st.subheader(t("directory.mapping.title", file=source.name))
                st.caption(t("directory.mapping.remembered" if remembered else "directory.mapping.guessed"))
                mapping = directory_report.mapping(source.name, headers, suggested, options=["", *TARGETS], key=KEY)
                mappings[source.name], layouts[source.name] = mapping, headers
        if sources and st.button(t("directory.preview"), icon=":material/preview:", key=f"{KEY}_preview"):
            with session_scope(data.engine()) as session:
                result = directory.preview(session, sources=sources, mappings=mappings, today=clock.today())
            st.session_state[f"{KEY}_report"] = ([s.name for s in sources], result.report)
    except WorkbenchError as exc:
        st.error(say(exc))
    previewed = st.session_state.get(f"{KEY}_report")
    if previewed and previewed[0] == [s.name for s in sources]:
        directory_report.show(previewed[1], key=f"{KEY}_preview")
        if st.button(t("directory.commit"), type="primary", icon=":material/check:", key=f"{KEY}_commit"):
            try:
                with session_scope(data.engine()) as session:
                    for name, headers in layouts.items():
                        directory.remember_mapping(session, headers=headers, mapping=mappings[name], actor=user.email)
                    record = directory.commit(session, sources=sources, mappings=mappings, actor=user.email,
                                              today=clock.today())  # fmt: skip
                    counts = record.counts | {"id": record.id}
                st.session_state.pop(f"{KEY}_report", None)
                data.clear_therapists()
                st.success(t("directory.committed", id=counts["id"], new=counts["new"], changed=counts["changed"],
                             unchanged=counts["unchanged"]))  # fmt: skip
            except WorkbenchError as exc:
                st.error(say(exc))
    st.divider()
    directory_reviews.show(user, key=f"{KEY}_reviews")

with history:
    with session_scope(data.engine()) as session:
        imports = [(i.id, i.imported_on, i.actor, i.file_names, i.counts, i.report) for i in directory.get_all(session)]
    if not imports:
        st.caption(t("directory.history.empty"))
    else:
        frame = pd.DataFrame([{t("directory.col.id"): f"#{i}", t("directory.col.date"): f"{day:%d.%m.%Y}",
                               t("directory.col.actor"): actor, t("directory.col.files"): ", ".join(files),
                               **{t(f"directory.count.{n}"): c.get(n, 0) for n in ("new", "changed", "not_seen",
                                                                                  "inactive", "rejected")}}
                              for i, day, actor, files, c, _ in imports])  # fmt: skip
        st.dataframe(frame, hide_index=True, width="stretch")
        chosen = st.selectbox(t("directory.history.pick"), [i[0] for i in imports], format_func=lambda i: f"#{i}",
                              key=f"{KEY}_history_pick")  # fmt: skip
        directory_report.show(next(i[5] for i in imports if i[0] == chosen), key=f"{KEY}_history")
