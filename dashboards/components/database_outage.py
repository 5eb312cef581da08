"""The calm message shown instead of a traceback while the database does not answer."""

from __future__ import annotations

import logging

import psycopg2
import streamlit as st
from sqlalchemy import exc as sa_exc

from dashboards.i18n import t

# Lost or refused connections; errors in our own SQL stay loud (ProgrammingError, IntegrityError, ...).
OUTAGES = (sa_exc.OperationalError, sa_exc.InterfaceError, psycopg2.OperationalError, psycopg2.InterfaceError)
_log = logging.getLogger(__name__)


def show(error: BaseException) -> None:
    """Tell the user the database is not reachable; log the cause without the SQL or its parameters."""
    cause = getattr(error, "orig", None) or error
    _log.warning("database not reachable: %s", (str(cause).strip().splitlines() or ["?"])[0])
    st.error(t("operations.database_down"), icon=":material/cloud_off:")
