"""Request -> Actor. Bearer tokens for API clients; the session cookie for the browser
(with a CSRF header on unsafe methods)."""

from __future__ import annotations

import secrets

from fastapi import HTTPException, Request
from starlette.concurrency import run_in_threadpool

from amane.services.container import Services
from amane.services.context import Actor

SESSION_COOKIE = "amane_session"
SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


def services(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""


def optional_actor(request: Request) -> Actor | None:
    cached = getattr(request.state, "actor", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    svc = services(request)
    source = client_address(request)
    purpose = request.headers.get("x-purpose", "") or request.query_params.get("purpose", "")
    auth = request.headers.get("authorization", "")
    actor: Actor | None = None
    if auth.lower().startswith("bearer "):
        actor = svc.auth.token_actor(auth[7:].strip(), source=source)
    elif request.cookies.get(SESSION_COOKIE):
        found = svc.auth.session_actor(request.cookies[SESSION_COOKIE], source=source)
        if found is not None:
            actor, csrf = found
            request.state.csrf = csrf
            if request.method not in SAFE:
                sent = request.headers.get("x-csrf-token", "")
                if not sent or not secrets.compare_digest(sent, csrf):
                    raise HTTPException(403, "missing or wrong CSRF token")
    if actor is not None:
        actor = actor.with_request(source=source, purpose=purpose[:500])
        request.state.actor = actor
    return actor


async def services_dep(request: Request) -> Services:
    """``services`` as an async dependency (no thread hop)."""
    return services(request)


async def current_actor(request: Request) -> Actor:
    """Async on purpose: a bearer token is resolved from a short-lived in-process cache, so this
    runs on the event loop instead of costing a thread hop per request. A cache miss or a browser
    session reads the database in the thread pool."""
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer ") and request.app.state.services.auth.cached(auth[7:].strip()):
        actor = optional_actor(request)
    else:
        actor = await run_in_threadpool(optional_actor, request)
    if actor is None:
        raise HTTPException(401, "sign in first (bearer token or session)")
    return actor
