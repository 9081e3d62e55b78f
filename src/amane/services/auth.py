"""Login (argon2id password + TOTP), lockout, browser sessions and API tokens.

Failures look the same whatever the cause (unknown user, wrong password, wrong code,
locked, disabled): same message, same work (a dummy hash is verified for unknown users).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from amane.services import audit
from amane.services.context import Actor
from amane.services.errors import AuthFailed
from amane.services.roles import capabilities_of
from amane.settings import Settings
from amane.store.db import Database
from amane.store.tables import ApiToken, LoginFailure, Unit, User, WebSession
from amane.store.types import utcnow

_hasher = PasswordHasher()  # argon2id with the library's recommended parameters
_DUMMY_HASH = _hasher.hash("not-a-real-password-" + secrets.token_hex(8))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_now(secret: str) -> str:
    return pyotp.TOTP(secret).now()


def totp_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name="Amane")


def _totp_step(secret: str, code: str, last_step: int) -> int | None:
    """The time step the code belongs to (now, or one step either side), if not used before."""
    code = code.strip().replace(" ", "")
    if not code.isdigit() or len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    now = int(time.time())
    for delta in (0, -30, 30):
        step = (now + delta) // 30
        if step > last_step and secrets.compare_digest(totp.at(now + delta), code):
            return step
    return None


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def actor_for(user: User, unit: Unit, *, source: str = "") -> Actor:
    role_names = tuple(sorted(r.role for r in user.roles))
    return Actor(
        user_id=user.id,
        username=user.username,
        unit_id=unit.id,
        unit_code=unit.code,
        unit_path=unit.path,
        clearance=user.clearance,
        capabilities=capabilities_of(role_names),
        roles=role_names,
        national=unit.national,
        source=source,
        language=user.language,
    )


@dataclass
class LoginResult:
    user_id: int
    session_token: str
    csrf: str
    actor: Actor


#: How long a resolved API token is trusted before it is looked up again (seconds). Revoking a
#: token, disabling a user or changing roles takes effect in this process at once and in other
#: server processes within this delay.
TOKEN_CACHE_S = 5.0


class AuthService:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self._token_cache: dict[str, tuple[float, Actor | None]] = {}

    def invalidate(self) -> None:
        """Forget cached token look-ups (after a permission change or revocation)."""
        self._token_cache.clear()

    # -- login ---------------------------------------------------------------------------

    def _recent_failures(self, s: Session, username: str) -> int:
        since = utcnow() - timedelta(seconds=self.settings.lockout_window_s)
        return int(
            s.scalar(
                select(func.count()).select_from(LoginFailure).where(
                    LoginFailure.username == username, LoginFailure.at >= since
                )
            )
            or 0
        )

    def authenticate(self, username: str, password: str, code: str, *, source: str = "") -> User:
        """Check the three factors. Records the attempt (audit + lockout counter)."""
        name = username.strip().lower()[:64]
        with self.db.write() as s:
            locked = self._recent_failures(s, name) >= self.settings.lockout_failures
            user = s.scalar(select(User).where(User.username == name))
            ok_pw = check_password(user.password_hash if user else _DUMMY_HASH, password)
            step = _totp_step(user.totp_secret, code, user.totp_last_step) if user else None
            ok = bool(user and user.active and ok_pw and step is not None and not locked)
            who = Actor(
                user_id=user.id if user else None,
                username=name or "?",
                unit_id=user.unit_id if user else None,
                unit_code=user.unit.code if user else "",
                unit_path="",
                clearance=0,
                capabilities=frozenset(),
                source=source,
            )
            if not ok:
                s.add(LoginFailure(username=name, source=source[:64]))
                reason = "locked" if locked else "credentials"
                audit.append(s, [(who, audit.AuditEvent("login", "user", name, "denied", {"reason": reason}))])
            else:
                assert user is not None and step is not None
                user.totp_last_step = step
                s.execute(delete(LoginFailure).where(LoginFailure.username == name))
                audit.append(s, [(who, audit.AuditEvent("login", "user", str(user.id), "ok"))])
        if not ok:
            raise AuthFailed()
        assert user is not None
        return user

    def login(self, username: str, password: str, code: str, *, source: str = "") -> LoginResult:
        user = self.authenticate(username, password, code, source=source)
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(24)
        now = utcnow()
        with self.db.write() as s:
            s.add(
                WebSession(
                    id=token_digest(token),
                    user_id=user.id,
                    created_at=now,
                    last_seen_at=now,
                    expires_at=now + timedelta(seconds=self.settings.session_absolute_s),
                    csrf=csrf,
                )
            )
            u = s.get(User, user.id)
            assert u is not None
            actor = actor_for(u, u.unit, source=source)
        return LoginResult(user.id, token, csrf, actor)

    # -- sessions ------------------------------------------------------------------------

    def session_actor(self, token: str, *, source: str = "") -> tuple[Actor, str] | None:
        """The actor behind a browser session cookie, and its CSRF token; None if expired."""
        now = utcnow()
        digest = token_digest(token)
        with self.db.read() as s:
            row = s.execute(
                select(WebSession, User, Unit)
                .join(User, User.id == WebSession.user_id)
                .join(Unit, Unit.id == User.unit_id)
                .where(WebSession.id == digest)
            ).first()
            if row is None:
                return None
            ws, user, unit = row
            idle = timedelta(seconds=self.settings.session_idle_s)
            if ws.revoked or not user.active or now >= ws.expires_at or now - ws.last_seen_at > idle:
                return None
            actor = actor_for(user, unit, source=source)
            csrf = ws.csrf
            touch = now - ws.last_seen_at > timedelta(seconds=30)
        if touch:
            with self.db.write() as s:
                w = s.get(WebSession, digest)
                if w is not None:
                    w.last_seen_at = now
        return actor, csrf

    def logout(self, token: str) -> None:
        with self.db.write() as s:
            w = s.get(WebSession, token_digest(token))
            if w is not None:
                w.revoked = True

    # -- API tokens ----------------------------------------------------------------------

    def create_token(self, user_id: int, name: str, *, days: float = 90) -> str:
        token = "amn_" + secrets.token_urlsafe(32)
        with self.db.write() as s:
            s.add(
                ApiToken(
                    token_hash=token_digest(token),
                    user_id=user_id,
                    name=name[:100],
                    expires_at=utcnow() + timedelta(days=days),
                )
            )
        return token

    def cached(self, token: str) -> bool:
        """Whether ``token_actor`` would answer from the cache (no database access)."""
        hit = self._token_cache.get(token_digest(token))
        return hit is not None and hit[0] > time.monotonic()

    def token_actor(self, token: str, *, source: str = "") -> Actor | None:
        digest = token_digest(token)
        hit = self._token_cache.get(digest)
        mono = time.monotonic()
        if hit is not None and hit[0] > mono:
            return hit[1].with_request(source=source) if hit[1] is not None else None
        actor = self._token_lookup(digest)
        if len(self._token_cache) > 10000:
            self._token_cache.clear()
        self._token_cache[digest] = (mono + TOKEN_CACHE_S, actor)
        return actor.with_request(source=source) if actor is not None else None

    def revoke_token(self, token: str) -> None:
        with self.db.write() as s:
            t = s.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(token)))
            if t is not None:
                t.revoked = True
        self.invalidate()

    def _token_lookup(self, digest: str) -> Actor | None:
        now = utcnow()
        with self.db.read() as s:
            row = s.execute(
                select(ApiToken.revoked, ApiToken.expires_at, User, Unit)
                .join(User, User.id == ApiToken.user_id)
                .join(Unit, Unit.id == User.unit_id)
                .where(ApiToken.token_hash == digest)
            ).first()
            if row is None:
                return None
            revoked, expires_at, user, unit = row
            if revoked or not user.active or now >= expires_at:
                return None
            return actor_for(user, unit)

