"""Login: argon2id + TOTP for everyone, lockout, identical failures, session expiry, hashed tokens."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pyotp
import pytest
from sqlalchemy import select, update

from amane.services.errors import AuthFailed
from amane.store.tables import ApiToken, User, WebSession
from amane.store.types import utcnow
from tests.conftest import PASSWORD


def code(world: Any, username: str) -> str:
    return pyotp.TOTP(world.secrets[username]).now()


def test_login_needs_password_and_totp(world: Any) -> None:
    svc = world.svc
    name = world.username("REGA", "officer")
    with pytest.raises(AuthFailed):
        svc.auth.login(name, PASSWORD, "000000")
    with pytest.raises(AuthFailed):
        svc.auth.login(name, "wrong-password-1", code(world, name))
    res = svc.auth.login(name, PASSWORD, code(world, name))
    assert res.actor.username == name and res.actor.unit_code == "REGA"
    # the same code cannot be replayed
    with pytest.raises(AuthFailed):
        svc.auth.login(name, PASSWORD, code(world, name))
    with svc.db.read() as s:
        user = s.scalar(select(User).where(User.username == name))
        assert user is not None and user.password_hash.startswith("$argon2id$")


def test_lockout_after_five_failures_same_for_unknown_users(world: Any) -> None:
    svc = world.svc
    name = world.username("REGB", "investigator")
    for _ in range(5):
        with pytest.raises(AuthFailed) as known:
            svc.auth.authenticate(name, "bad-password-x1", "123456")
    with pytest.raises(AuthFailed) as locked:
        svc.auth.authenticate(name, PASSWORD, code(world, name))
    with pytest.raises(AuthFailed) as unknown:
        svc.auth.authenticate("nobody.here", PASSWORD, "123456")
    assert str(known.value) == str(locked.value) == str(unknown.value)


def test_session_idle_and_absolute_expiry(world: Any) -> None:
    svc = world.svc
    name = world.username("HQ", "analyst")
    res = svc.auth.login(name, PASSWORD, code(world, name))
    assert svc.auth.session_actor(res.session_token) is not None
    from amane.services.auth import token_digest

    with svc.db.write() as s:
        s.execute(update(WebSession).where(WebSession.id == token_digest(res.session_token))
                  .values(last_seen_at=utcnow() - timedelta(minutes=31)))
    assert svc.auth.session_actor(res.session_token) is None  # idle > 30 min
    name2 = world.username("HQ", "auditor")
    res2 = svc.auth.login(name2, PASSWORD, code(world, name2))
    with svc.db.write() as s:
        s.execute(update(WebSession).where(WebSession.id == token_digest(res2.session_token))
                  .values(expires_at=utcnow() - timedelta(seconds=1)))
    assert svc.auth.session_actor(res2.session_token) is None  # past the 12 h absolute limit
    svc.auth.logout(res.session_token)


def test_api_tokens_are_stored_hashed(world: Any) -> None:
    svc = world.svc
    with svc.db.read() as s:
        uid = s.scalar(select(User.id).where(User.username == world.username("REGA", "analyst")))
    token = svc.auth.create_token(uid, "script")
    with svc.db.read() as s:
        stored = s.scalars(select(ApiToken.token_hash)).all()
    assert token not in stored and all(len(h) == 64 for h in stored)
    assert svc.auth.token_actor(token) is not None
    assert svc.auth.token_actor(token + "x") is None
