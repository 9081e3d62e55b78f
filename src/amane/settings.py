"""One Settings object, read from ``AMANE_*`` environment variables (and a ``.env`` file)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from amane.files.store import BlobStore

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
    #: Where blobs are kept: ``local`` (``attachments_dir``) or ``s3`` (S3-compatible object storage:
    #: MinIO, Ceph RGW, Garage, SeaweedFS, AWS). For ``s3``: the bucket (must exist), a key prefix,
    #: the server's address (empty for AWS), a region, and credentials (empty: boto3's usual chain,
    #: ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, profile or instance role). Uploads are checked
    #: in ``data_dir/spool`` before they are sent.
    attachments_backend: str = Field(default="local", pattern="^(local|s3)$")
    attachments_s3_bucket: str = ""
    attachments_s3_prefix: str = "amane/blobs/"
    attachments_s3_endpoint: str = ""
    attachments_s3_region: str = ""
    attachments_s3_access_key: str = ""
    attachments_s3_secret_key: SecretStr = SecretStr("")
    #: ``path`` (``http://server/bucket/key``, what most S3-compatible servers expect) or ``virtual``.
    attachments_s3_addressing: str = Field(default="path", pattern="^(path|virtual|auto)$")
    #: Proxy of the cyber watch's collector (``amane watch crawl``), e.g. Tor's SOCKS port
    #: ``socks5h://127.0.0.1:9050``: onion addresses are fetched only through it. Empty: direct.
    watch_proxy: str = ""
    #: Time zone that printed documents show times in.
    documents_timezone: str = "Africa/Casablanca"
    #: Default language of the UI.
    default_language: str = Field(default="fr", pattern="^(ar|fr|en)$")

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if self.environment != "development" and self.secret_key == DEV_SECRET:
            raise ValueError("AMANE_SECRET_KEY must be set outside development (the built-in secret is refused)")
        if self.attachments_backend == "s3" and not self.attachments_s3_bucket.strip():
            raise ValueError("AMANE_ATTACHMENTS_S3_BUCKET must name a bucket when AMANE_ATTACHMENTS_BACKEND=s3")
        return self


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def attachments_root(settings: Settings) -> Path:
    return settings.attachments_dir or (settings.data_dir / "blobs")


def blob_store(settings: Settings) -> BlobStore:
    """The attachments' blob store that the settings choose (local directory or S3 bucket)."""
    if settings.attachments_backend == "s3":
        from amane.files.s3 import S3BlobStore, make_client

        client = make_client(
            endpoint_url=settings.attachments_s3_endpoint, region=settings.attachments_s3_region,
            access_key=settings.attachments_s3_access_key,
            secret_key=settings.attachments_s3_secret_key.get_secret_value(),
            addressing_style=settings.attachments_s3_addressing,
        )
        return S3BlobStore(client, settings.attachments_s3_bucket, prefix=settings.attachments_s3_prefix,
                           spool_dir=settings.data_dir / "spool")
    from amane.files.store import LocalBlobStore

    return LocalBlobStore(attachments_root(settings))
