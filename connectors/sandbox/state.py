"""The sandbox's own state: one SQLite file, never the console's database.

Every vendor record is one row of `records`, holding the vendor-shaped JSON text exactly as the
API serves it, so a GET of 200 orders is one indexed SELECT and a string join, with no
re-serialisation. A few typed columns beside the JSON (numeric id, updated time, parent, owner,
status, type, lookup) carry what the searches and filters need, so they run on indexes.
`row` holds a record's search-result row (Brightpearl searches answer arrays of columns).

`log` is append-only history: Ometria pushes and validation errors, Mailchimp status changes,
outbound webhook attempts. `keys` indexes secondary keys such as Salesforce external ids.

Threads: one connection per thread (sqlite3 connections are not shared), WAL so readers never
wait for the writer, and one process-wide lock so writes are serialised. Each HTTP request runs
in one transaction.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, NamedTuple

SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    vendor TEXT NOT NULL,
    account TEXT NOT NULL,
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    num INTEGER,
    updated TEXT,
    created TEXT,
    parent TEXT,
    owner TEXT,
    status TEXT,
    type TEXT,
    lookup TEXT,
    row TEXT,
    data TEXT NOT NULL,
    PRIMARY KEY (vendor, account, kind, id)
);
CREATE INDEX IF NOT EXISTS records_num ON records (vendor, account, kind, num);
CREATE INDEX IF NOT EXISTS records_updated ON records (vendor, account, kind, updated);
CREATE INDEX IF NOT EXISTS records_parent ON records (vendor, account, kind, parent);
CREATE INDEX IF NOT EXISTS records_owner ON records (vendor, account, kind, owner);
CREATE INDEX IF NOT EXISTS records_lookup ON records (vendor, account, kind, lookup);
CREATE TABLE IF NOT EXISTS log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    vendor TEXT NOT NULL,
    account TEXT NOT NULL,
    kind TEXT NOT NULL,
    id TEXT,
    at TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS log_key ON log (vendor, kind, id);
CREATE TABLE IF NOT EXISTS keys (
    vendor TEXT NOT NULL,
    account TEXT NOT NULL,
    kind TEXT NOT NULL,
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    id TEXT NOT NULL,
    PRIMARY KEY (vendor, account, kind, field, value, id)
);
"""

RECORD_COLUMNS = (
    "vendor, account, kind, id, num, updated, created, parent, owner, status, type, lookup, "
    "row, data"
)


class Rec(NamedTuple):
    """One row of `records`. `data` (and `row`) are JSON text."""

    vendor: str
    account: str
    kind: str
    id: str
    data: str
    num: int | None = None
    updated: str | None = None
    created: str | None = None
    parent: str | None = None
    owner: str | None = None
    status: str | None = None
    type: str | None = None
    lookup: str | None = None  # a lowercased key: email for contacts and members, SKU for products
    row: str | None = None

    def as_params(self) -> tuple[Any, ...]:
        return (
            self.vendor,
            self.account,
            self.kind,
            self.id,
            self.num,
            self.updated,
            self.created,
            self.parent,
            self.owner,
            self.status,
            self.type,
            self.lookup,
            self.row,
            self.data,
        )


INSERT_RECORD = (
    f"INSERT OR REPLACE INTO records ({RECORD_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)


class Store:
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._write_lock = threading.RLock()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        self.conn().executescript(SCHEMA)

    # --- connections and transactions ----------------------------------------------------

    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            # Records are JSON of a few KB: larger pages write big seeds about a third faster.
            # (Only takes effect when the file is created.)
            conn.execute("PRAGMA page_size=16384")
            conn.execute("PRAGMA journal_mode=WAL")
            # Sandbox state is test data: a lost last transaction after a power cut is fine.
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("PRAGMA cache_size=-65536")
            # Reads of large seeds come straight from the OS page cache, without copies.
            conn.execute("PRAGMA mmap_size=4294967296")
            self._local.conn = conn
            self._local.depth = 0
            with self._all_lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def transaction(self, write: bool = False) -> Iterator[sqlite3.Connection]:
        """One transaction; re-entrant, so a helper may open one inside a request's."""
        conn = self.conn()
        if self._local.depth:
            self._local.depth += 1
            try:
                yield conn
            finally:
                self._local.depth -= 1
            return
        if write:
            self._write_lock.acquire()
        try:
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            self._local.depth = 1
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            else:
                conn.execute("COMMIT")
            finally:
                self._local.depth = 0
        finally:
            if write:
                self._write_lock.release()

    def release(self) -> None:
        """Close this thread's connection (an HTTP connection's thread is about to end)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            return
        with self._all_lock:
            if conn in self._all:
                self._all.remove(conn)
        with suppress(sqlite3.Error):
            conn.close()
        self._local.conn = None

    def close(self) -> None:
        with self._all_lock:
            for conn in self._all:
                with suppress(sqlite3.Error):
                    conn.close()
            self._all.clear()
        self._local = threading.local()

    # --- records -------------------------------------------------------------------------

    def put(self, rec: Rec) -> None:
        self.conn().execute(INSERT_RECORD, rec.as_params())

    def put_many(self, recs: Iterable[Rec]) -> None:
        self.conn().executemany(INSERT_RECORD, (rec.as_params() for rec in recs))

    def get(self, vendor: str, account: str, kind: str, id: str | int) -> str | None:
        row = (
            self.conn()
            .execute(
                "SELECT data FROM records WHERE vendor=? AND account=? AND kind=? AND id=?",
                (vendor, account, kind, str(id)),
            )
            .fetchone()
        )
        return row[0] if row else None

    def get_json(self, vendor: str, account: str, kind: str, id: str | int) -> Any:
        text = self.get(vendor, account, kind, id)
        return None if text is None else json.loads(text)

    def get_many(
        self, vendor: str, account: str, kind: str, ids: Sequence[str | int]
    ) -> dict[str, str]:
        """{id: data} for the ids that exist, in chunks under SQLite's parameter limit."""
        found: dict[str, str] = {}
        keys = [str(i) for i in ids]
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for rec_id, data in self.conn().execute(
                f"SELECT id, data FROM records WHERE vendor=? AND account=? AND kind=? "
                f"AND id IN ({marks})",
                (vendor, account, kind, *chunk),
            ):
                found[rec_id] = data
        return found

    def rows(
        self,
        vendor: str,
        account: str,
        kind: str,
        where: str = "",
        params: Sequence[Any] = (),
        columns: str = "id, data",
        order: str = "num, id",
        limit: int | None = None,
        offset: int = 0,
    ) -> list[tuple[Any, ...]]:
        sql = f"SELECT {columns} FROM records WHERE vendor=? AND account=? AND kind=?"
        if where:
            sql += f" AND ({where})"
        sql += f" ORDER BY {order}"
        if limit is not None:
            sql += f" LIMIT {int(limit)} OFFSET {int(offset)}"
        return self.conn().execute(sql, (vendor, account, kind, *params)).fetchall()

    def count(
        self, vendor: str, account: str, kind: str, where: str = "", params: Sequence[Any] = ()
    ) -> int:
        sql = "SELECT COUNT(*) FROM records WHERE vendor=? AND account=? AND kind=?"
        if where:
            sql += f" AND ({where})"
        return self.conn().execute(sql, (vendor, account, kind, *params)).fetchone()[0]

    def max_num(self, vendor: str, account: str, kinds: Sequence[str]) -> int:
        marks = ",".join("?" * len(kinds))
        row = (
            self.conn()
            .execute(
                f"SELECT MAX(num) FROM records WHERE vendor=? AND account=? AND kind IN ({marks})",
                (vendor, account, *kinds),
            )
            .fetchone()
        )
        return row[0] or 0

    def delete(self, vendor: str, account: str, kind: str, id: str | int) -> bool:
        cur = self.conn().execute(
            "DELETE FROM records WHERE vendor=? AND account=? AND kind=? AND id=?",
            (vendor, account, kind, str(id)),
        )
        return cur.rowcount > 0

    # --- history -------------------------------------------------------------------------

    def log(self, vendor: str, account: str, kind: str, id: str | None, at: str, data: Any) -> int:
        text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
        cur = self.conn().execute(
            "INSERT INTO log (vendor, account, kind, id, at, data) VALUES (?,?,?,?,?,?)",
            (vendor, account, kind, id, at, text),
        )
        return int(cur.lastrowid or 0)

    def log_many(self, entries: Iterable[tuple[str, str, str, str | None, str, str]]) -> None:
        self.conn().executemany(
            "INSERT INTO log (vendor, account, kind, id, at, data) VALUES (?,?,?,?,?,?)", entries
        )

    # --- secondary keys (Salesforce external ids) -----------------------------------------

    def set_keys(
        self, vendor: str, account: str, kind: str, id: str, pairs: Iterable[tuple[str, str]]
    ) -> None:
        conn = self.conn()
        conn.execute(
            "DELETE FROM keys WHERE vendor=? AND account=? AND kind=? AND id=?",
            (vendor, account, kind, id),
        )
        conn.executemany(
            "INSERT OR IGNORE INTO keys VALUES (?,?,?,?,?,?)",
            ((vendor, account, kind, f, v, id) for f, v in pairs),
        )

    def find_keys(self, vendor: str, account: str, kind: str, field: str, value: str) -> list[str]:
        return [
            row[0]
            for row in self.conn().execute(
                "SELECT id FROM keys WHERE vendor=? AND account=? AND kind=? AND field=? "
                "AND value=? ORDER BY id",
                (vendor, account, kind, field, value),
            )
        ]

    # --- everything ----------------------------------------------------------------------

    def wipe(self) -> None:
        conn = self.conn()
        for table in ("records", "log", "keys"):
            conn.execute(f"DELETE FROM {table}")
        # AUTOINCREMENT keeps its high-water mark in sqlite_sequence; a reset starts afresh.
        conn.execute("DELETE FROM sqlite_sequence WHERE name='log'")
