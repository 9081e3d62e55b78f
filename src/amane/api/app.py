"""The ASGI application: API under /api/v1 (OpenAPI at /api/docs) and the web UI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from amane import __version__
from amane.api import problems
from amane.api.evidence import router as evidence_router
from amane.api.labs import router as labs_router
from amane.api.monitoring import router as monitoring_router
from amane.api.procedures import router as procedures_router
from amane.api.routes import router
from amane.api.traces import router as traces_router
from amane.api.watch import router as watch_router
from amane.services.container import Services


def takes_upload(path: str) -> bool:
    """Paths that take file uploads: attachments, digital evidence (intake, receipt, re-verification) and
    collected content for the watch (ingest, STIX import)."""
    if path.endswith("/attachments") or path in ("/api/v1/watch/ingest", "/api/v1/watch/import", "/api/v1/hashsets",
                                                  "/watch/upload", "/watch/indicators", "/evidence/new"):
        return True
    return path.startswith("/api/v1/evidence") and path.endswith(("/evidence/digital", "/verify", "/receive"))


class BodyLimit:
    """413 for bodies above the configured size, whether announced or streamed."""

    def __init__(self, app: ASGIApp, limit: int, *, upload_limit: int | None = None) -> None:
        self.app = app
        self.default_limit = limit
        #: File uploads (attachments, digital evidence and its re-verification) may be as large as an
        #: attachment.
        self.upload_limit = max(limit, upload_limit or limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.upload_limit if takes_upload(str(scope.get("path", ""))) else self.default_limit
        for k, v in scope.get("headers", []):
            if k == b"content-length" and v.isdigit() and int(v) > limit:
                await _send_413(send, limit)
                return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > limit:
                    raise _TooLarge()
            return msg

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await _send_413(send, limit)


class _TooLarge(Exception):
    pass


async def _send_413(send: Send, limit: int) -> None:
    import json

    body = json.dumps({"type": "/problems/too-large", "title": "Payload too large", "status": 413,
                       "detail": f"the request body exceeds {limit} bytes",
                       "errors": [{"field": "body", "rule": "body.size", "message": f"at most {limit} bytes"}]})
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/problem+json")]})
    await send({"type": "http.response.body", "body": body.encode()})


def create_app(svc: Services | None = None, *, web: bool = True) -> Any:
    owned = svc is None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if owned:
            app.state.services.close()

    app = FastAPI(title="Amane API", version=__version__, docs_url="/api/docs", redoc_url=None,
                  openapi_url="/api/openapi.json", lifespan=lifespan)
    app.state.services = svc or Services.create()
    problems.install(app)
    app.include_router(router)
    app.include_router(procedures_router)
    app.include_router(monitoring_router)
    app.include_router(evidence_router)
    app.include_router(labs_router)
    app.include_router(watch_router)
    app.include_router(traces_router)
    if web:
        from amane.web.routes import install as install_web

        install_web(app)
    settings = app.state.services.settings
    # multipart adds a little around the file itself
    return BodyLimit(app, settings.max_body_bytes, upload_limit=settings.attachments_max_bytes + 64 * 1024)
