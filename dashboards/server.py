"""Serve the dashboards: ``streamlit run dashboards/server.py`` (``make run`` and docker compose do this).

A thin launcher around ``dashboards/app.py`` that adds what Streamlit's own server lacks:
- ``/healthz``: 200 only while the web server runs *and* PostgreSQL answers, else 503 with the reason;
  JSON with this process's pid, so ``make run`` never takes another (stale) server's answer for its own.
- headers against framing by other sites (clickjacking) on every HTTP response.
- ``POST /auth/session`` and ``POST /auth/logout``: set and clear the login cookie, which Streamlit's
  script cannot do (it talks to the browser over a websocket). Right after a login the page posts a
  one-time code in the request body; the answer sets an HTTP-only, SameSite=Strict cookie (Secure over
  https) with a signed token of the same server-side session, so a reload or a new tab stays logged in
  (dashboards/components/login.py reads it through ``st.context.cookies``). core/auth/sessions.py says why
  neither a stolen code nor a stolen cookie outlives the session.

Why ``st.App`` and not patching Streamlit's server: ``st.App(routes=..., middleware=...)`` is Streamlit's
public, documented way to add routes and middleware, and ``streamlit run`` discovers it in this file; it
survives upgrades that move the server's internals (the Tornado to Starlette move did exactly that).

Why not make ``/_stcore/health`` itself fail while the database is down: the browser pings that URL before
it opens its connection and stays on "Connecting..." while it fails, so users would never see the calm
"database not reachable" message the app shows. It keeps meaning "the web server accepts browsers";
probes that must know whether the workbench can work use ``/healthz``.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import anyio
import streamlit as st
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # so `core` imports under `streamlit run`
os.umask(0o077)  # what the app writes under DATA_DIR (e.g. the secret key) is private to the service's user

HEALTH_PATH = "/healthz"
SESSION_PATH = "/auth/session"
LOGOUT_PATH = "/auth/logout"
# Only our own pages may frame the app (Streamlit's components use same-origin iframes).
FRAMING_HEADERS = {"X-Frame-Options": "SAMEORIGIN", "Content-Security-Policy": "frame-ancestors 'self'"}
_log = logging.getLogger("dashboards.server")
_handler = logging.StreamHandler()  # Streamlit configures only its own loggers; ours go to the same log file
_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
_log.addHandler(_handler)
_log.setLevel(logging.INFO)
_log.propagate = False
_last_problem: list[str | None] = [None]  # the previous answer, to log changes rather than every probe


def database_problem() -> str | None:
    """Return why the database does not answer, or None when it does."""
    from core.db import get_engine
    from core.operations.status import database_problem as check

    try:
        return check(get_engine())
    except Exception as exc:  # e.g. the embedded server cannot start: that is an answer too
        return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


async def health(request: Request) -> JSONResponse:
    problem = await anyio.to_thread.run_sync(database_problem)
    if problem != _last_problem[0]:
        if problem:
            _log.warning("unhealthy: database not reachable: %s", problem)
        else:
            _log.info("healthy again: the database answers")
        _last_problem[0] = problem
    body = {"status": "unhealthy" if problem else "ok", "database": problem or "ok", "pid": os.getpid()}
    return JSONResponse(body, status_code=503 if problem else 200)


def _bind_cookie(code: str) -> str | None:
    """Exchange the one-time login code for the signed cookie value, or None when the code is no good."""
    from datetime import UTC, datetime

    from core.auth import cookies, sessions
    from core.config import get_settings
    from core.db import get_engine, session_scope
    from core.errors import AuthenticationError

    try:
        with session_scope(get_engine()) as session:
            token = sessions.bind_cookie(session, code=code, now=datetime.now(UTC))
    except AuthenticationError:
        return None
    return cookies.sign(token, secret_key=get_settings().resolved_secret_key())


def _end_cookie_session(value: str | None) -> None:
    from datetime import UTC, datetime

    from core.auth import cookies, sessions
    from core.config import get_settings
    from core.db import get_engine, session_scope

    token = cookies.unsign(value, secret_key=get_settings().resolved_secret_key())
    if token is not None:
        with session_scope(get_engine()) as session:
            sessions.end(session, cookie=token, now=datetime.now(UTC))


def _secure(request: Request) -> bool:
    """Whether the browser reached us over https (directly, or through a proxy that says so)."""
    from core.config import get_settings

    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip()
    return "https" in (request.url.scheme, forwarded) or (get_settings().public_base_url or "").startswith("https://")


def _same_origin(request: Request) -> bool:
    """Refuse posts from other sites (the browser always sends Origin on a POST from a page).

    Our own origin is the host the browser asked for, as the request, a proxy (X-Forwarded-Host) or
    PUBLIC_BASE_URL name it.
    """
    from urllib.parse import urlsplit

    from core.config import get_settings

    origin = request.headers.get("origin")
    if origin is None:
        return False
    ours = {request.headers.get("host"), request.headers.get("x-forwarded-host", "").split(",")[0].strip()}
    ours.add(urlsplit(get_settings().public_base_url or "").netloc)
    return urlsplit(origin).netloc in ours - {None, ""}


async def start_session(request: Request) -> Response:
    from core.auth import cookies

    if not _same_origin(request):
        return JSONResponse({"error": "cross-site request refused"}, status_code=403)
    try:
        code = str((await request.json())["code"])
    except (ValueError, KeyError, TypeError):
        return JSONResponse({"error": 'send {"code": "..."} from the logged-in page'}, status_code=400)
    value = await anyio.to_thread.run_sync(_bind_cookie, code)
    if value is None:
        return JSONResponse({"error": "login code unknown, used or expired; please sign in"}, status_code=403)
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    response.set_cookie(cookies.NAME, value, path="/", httponly=True, samesite="strict", secure=_secure(request))
    return response


async def end_session(request: Request) -> Response:
    from core.auth import cookies

    if not _same_origin(request):
        return JSONResponse({"error": "cross-site request refused"}, status_code=403)
    await anyio.to_thread.run_sync(_end_cookie_session, request.cookies.get(cookies.NAME))
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    response.delete_cookie(cookies.NAME, path="/", httponly=True, samesite="strict", secure=_secure(request))
    return response


class FramingHeaders:
    """ASGI middleware: add FRAMING_HEADERS to every HTTP response, Streamlit's own included."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in FRAMING_HEADERS.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


app = st.App(
    "app.py",
    routes=[
        Route(HEALTH_PATH, health, methods=["GET", "HEAD"]),
        Route(SESSION_PATH, start_session, methods=["POST"]),
        Route(LOGOUT_PATH, end_session, methods=["POST"]),
    ],
    middleware=[Middleware(FramingHeaders)],
)
