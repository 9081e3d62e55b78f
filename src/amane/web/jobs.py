"""Long work started from a web page (a duplicate search, a crawl) runs in a thread of the serving
process; the page the user is sent to polls the job (htmx) and shows its stage and progress, then
the result or the error. A job is visible only to the user who started it (anyone else, and an
unknown id, get the same 404); finished jobs are forgotten after an hour. The work itself goes
through the services, so its access checks and audit are the same as from the API or the CLI."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from amane.services.errors import NotFound, ValidationFailed

Progress = Callable[[str, int, int], None]
"""progress(stage, done, total)"""

KEEP_S = 3600


@dataclass
class Job:
    id: str
    kind: str  # "resolve", "crawl"...
    user: str
    label: str = ""  # what the job works on, for its page ("market-site")
    started: float = field(default_factory=time.time)
    stage: str = ""
    done: int = 0
    total: int = 0
    finished: bool = False
    result: dict[str, Any] | None = None
    error: str = ""

    @property
    def elapsed(self) -> float:
        return time.time() - self.started


_jobs: dict[str, Job] = {}
_lock = threading.Lock()


def start(kind: str, user: str, work: Callable[[Progress], dict[str, Any]], *, label: str = "") -> Job:
    """Run ``work(progress)`` in a thread; its return value becomes ``job.result``."""
    job = Job(secrets.token_urlsafe(12), kind, user, label)
    with _lock:
        for k in [k for k, j in _jobs.items() if j.finished and time.time() - j.started > KEEP_S]:
            del _jobs[k]
        _jobs[job.id] = job

    def progress(stage: str, done: int, total: int) -> None:
        job.stage, job.done, job.total = stage, done, total

    def run() -> None:
        try:
            job.result = work(progress)
        except ValidationFailed as exc:
            job.error = "; ".join(f"{e.field}: {e.message}" for e in exc.errors)
        except Exception as exc:  # noqa: BLE001 - shown to the user, logged by the thread
            job.error = str(exc) or exc.__class__.__name__
        finally:
            job.finished = True

    threading.Thread(target=run, name=f"{kind}-{job.id}", daemon=True).start()
    return job


def get(kind: str, user: str, job_id: str) -> Job:
    """The user's own job of that kind; anything else is NotFound."""
    job = _jobs.get(job_id)
    if job is None or job.kind != kind or job.user != user:
        raise NotFound("job", job_id)
    return job
