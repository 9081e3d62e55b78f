"""Baseline for bench/core.py: a bare FastAPI app returning a fixed JSON record (no database)."""

from fastapi import FastAPI

app = FastAPI()
RECORD = {"id": "0" * 32, "schema": "Person", "caption": "ALAOUI Mohamed", "data": {"given_name": "Mohamed"}}


@app.get("/api/v1/entities/{eid}")
def get(eid: str) -> dict[str, object]:
    return RECORD
