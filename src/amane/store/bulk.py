"""Fast bulk insert for imports, one code path per dialect (the only place that knows them).

SQLAlchemy's executemany spends most of its time processing bind parameters row by row; for
imports of tens of thousands of rows we pass plain tuples to the driver instead: SQLite's
``executemany`` and PostgreSQL's ``COPY ... FROM STDIN`` (psycopg 3). Callers give JSON
already serialised and datetimes as aware UTC values.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session


def sqlite_value(v: Any) -> Any:
    if isinstance(v, datetime):
        # the storage format of SQLAlchemy's SQLite DateTime, in UTC without offset
        return v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return v


def insert_rows(session: Session | Connection, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """Insert ``rows`` (tuples in ``columns`` order) into ``table`` inside the session's transaction."""
    if not rows:
        return
    conn = session.connection() if isinstance(session, Session) else session
    dialect = conn.dialect.name
    cols = ", ".join(columns)
    if dialect == "sqlite":
        marks = ", ".join("?" for _ in columns)
        dt_idx = [i for i, v in enumerate(rows[0]) if isinstance(v, datetime)]
        if dt_idx:
            memo: dict[datetime, str] = {}
            fixed = []
            for r in rows:
                lst = list(r)
                for i in dt_idx:
                    v = lst[i]
                    if v not in memo:
                        memo[v] = sqlite_value(v)
                    lst[i] = memo[v]
                fixed.append(tuple(lst))
            rows = fixed
        conn.exec_driver_sql(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows)
    elif dialect == "postgresql":
        raw: Any = conn.connection.dbapi_connection
        assert raw is not None
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row(r)
    else:  # pragma: no cover - other dialects take SQLAlchemy's generic path
        from sqlalchemy import column, insert
        from sqlalchemy import table as sa_table

        t = sa_table(table, *(column(c) for c in columns))
        conn.execute(insert(t), [dict(zip(columns, r, strict=True)) for r in rows])
