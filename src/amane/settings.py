"""One Settings object, read from ``AMANE_*`` environment variables (and a ``.env`` file)."""

from __future__ import annotations

import functools
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "dev-insecure-secret-change-me"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AMANE_", env_file=".env", extra="ignore")

    #: ``development`` allows the built-in secret; anything else refuses it.
    environment: str = "development"
    #: SQLAlchemy URL. Default: the embedded SQLite file under ``var/``.
    database_url: str = "sqlite:///var/amane.db"
    secret_key: str = DEV_SECRET
    #: Where attachments and exports live.
    data_dir: Path = Path("var")
    host: str = "127.0.0.1"
    port: int = 8000
    #: Audit every read (on by default; off only for benchmarks measuring its cost).
    audit_reads: bool = True
    #: Largest accepted request body, bytes (413 above it).
    max_body_bytes: int = 5 * 1024 * 1024
    #: Sessions: idle and absolute lifetimes, in seconds.
    session_idle_s: int = 30 * 60
    session_absolute_s: int = 12 * 3600
    #: Lockout after this many failures within ``lockout_window_s``.
    lockout_failures: int = 5
    lockout_window_s: int = 15 * 60
    #: Show on every page that the records are synthetic demo data (``make run`` sets it).
    demo_notice: bool = False
    #: Optional map tile URL template; empty means the map draws only packaged boundaries.
    tile_url: str = ""
    #: Serve cookies with the Secure flag (set true behind HTTPS).
    secure_cookies: bool = False
    #: Attachments: where the blobs live (default ``data_dir/blobs``), the largest file, the types
    #: accepted (detected from the content, not the name; ``type/*`` allowed), and how long an
    #: unreferenced blob is kept before the sweeper removes it (an upload in flight is not swept).
    attachments_dir: Path | None = None
    attachments_max_bytes: int = 50 * 1024 * 1024
    #: Empty: the store's default list (photos, scans, PDF, audio, video, office documents, text).
    attachments_allowed_types: list[str] = Field(default_factory=list)
    attachments_sweep_grace_s: int = 24 * 3600
    #: Time zone that printed documents show times in.
    documents_timezone: str = "Africa/Casablanca"
    #: Default language of the UI.
    default_language: str = Field(default="fr", pattern="^(ar|fr|en)$")

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if self.environment != "development" and self.secret_key == DEV_SECRET:
            raise ValueError("AMANE_SECRET_KEY must be set outside development (the built-in secret is refused)")
        return self


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def attachments_root(settings: Settings) -> Path:
    return settings.attachments_dir or (settings.data_dir / "blobs")
