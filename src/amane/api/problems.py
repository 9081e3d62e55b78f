"""RFC 9457 problem details for every error, naming the field and the rule."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from amane.services.errors import (
    AuditUnavailable,
    AuthFailed,
    Conflict,
    FieldError,
    Forbidden,
    NotFound,
    RateLimited,
    ValidationFailed,
)

PROBLEM = "application/problem+json"


def problem(status: int, title: str, detail: str = "", *, type_: str = "about:blank",
            errors: list[FieldError] | None = None, instance: str = "", **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"type": type_, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = [e.as_dict() for e in errors]
    body.update(extra)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _loc_to_field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def install(app: FastAPI) -> None:
    @app.exception_handler(ValidationFailed)
    async def _validation(request: Request, exc: ValidationFailed) -> JSONResponse:
        if any(e.rule == "file.too_large" for e in exc.errors):
            return problem(413, "Payload too large", str(exc), type_="/problems/too-large", errors=exc.errors,
                           instance=request.url.path)
        return problem(422, "Invalid input", str(exc), type_="/problems/validation", errors=exc.errors,
                       instance=request.url.path)

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> JSONResponse:
        return problem(404, "Not found", f"no {exc.what} here", type_="/problems/not-found", instance=request.url.path)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> JSONResponse:
        return problem(403, "Not allowed", str(exc), type_="/problems/forbidden", capability=exc.capability,
                       instance=request.url.path)

    @app.exception_handler(Conflict)
    async def _conflict(request: Request, exc: Conflict) -> JSONResponse:
        errs = [FieldError(exc.field or "body", exc.rule, str(exc))]
        extra = {k: v for k, v in exc.extra.items() if k not in ("status", "title", "detail", "type", "instance")}
        return problem(409, "Conflict", str(exc), type_="/problems/conflict", errors=errs,
                       instance=request.url.path, **extra)

    @app.exception_handler(RateLimited)
    async def _rate(request: Request, exc: RateLimited) -> JSONResponse:
        res = problem(429, "Too many requests", str(exc), type_="/problems/rate-limited", instance=request.url.path)
        res.headers["Retry-After"] = str(exc.retry_after_s)
        return res

    @app.exception_handler(AuthFailed)
    async def _auth(request: Request, exc: AuthFailed) -> JSONResponse:
        return problem(401, "Login failed", "check the name, password and one-time code; after 5 failures "
                       "in 15 minutes the account is locked for 15 minutes", type_="/problems/login-failed")

    @app.exception_handler(AuditUnavailable)
    async def _audit(request: Request, exc: AuditUnavailable) -> JSONResponse:
        return problem(503, "Audit log unavailable", "the action was not carried out because its audit record "
                       "could not be written", type_="/problems/audit-unavailable")

    @app.exception_handler(RequestValidationError)
    async def _request_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errs = []
        for e in exc.errors():
            rule = "json.syntax" if e.get("type") == "json_invalid" else f"type.{e.get('type', 'invalid')}"
            errs.append(FieldError(_loc_to_field(e.get("loc", ())), rule, str(e.get("msg", "invalid"))))
        return problem(422, "Invalid input", "; ".join(f"{x.field}: {x.message}" for x in errs),
                       type_="/problems/validation", errors=errs, instance=request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        titles = {401: "Not signed in", 404: "Not found", 405: "Method not allowed", 413: "Payload too large"}
        return problem(exc.status_code, titles.get(exc.status_code, "Error"), str(exc.detail or ""),
                       instance=request.url.path)
