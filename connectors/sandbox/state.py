"""The sandbox's own state: one SQLite file, never the console's database.

Every vendor record is one row of `records`, holding the vendor-shaped JSON text exactly as the
API serves it, so a GET of 200 orders is one indexed SELECT and a string join, with no
re-serialisation. A few typed columns beside the JSON (numeric id, updated time, parent, owner,
status, type, lookup) carry what the searches and filters need, so they run on indexes.
`row` holds a record's search-result row (Brightpearl searches answer arrays of columns).

`log` is append-only history: Ometria pushes and validation errors, Mailchimp status changes,
outbound webhook attempts. `keys` indexes secondary keys such as Salesforce external ids.

`versions` counts the writes to each (vendor, account, kind), in the writing transaction itself,
so every snapshot knows which version of a kind it sees: Brightpearl search totals and page
positions are remembered per version (search_page), and any write makes them stale at once.

Threads: one connection per thread (sqlite3 connections are not shared), WAL so readers never
wait for the writer, and one process-wide lock so writes are serialised. Each HTTP request runs
in one transaction.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from connectors.sandbox.core import sortable, utcnow
from connectors.sandbox.schema import BUMP_VERSION, INSERT_RECORD, SCHEMA, Rec

__all__ = ["Rec", "Store"]

# How many search shapes (filters + order) keep a remembered count and page positions.
SEARCH_SHAPES = 64
# A bound on the page positions remembered per shape (a full read of 100k rows in pages of
# 500 needs 200).
SEARCH_POSITIONS = 4096


class _Shape:
    """What one search shape is known to give at one version of its kind."""

    __slots__ = ("after", "total", "version")

    def __init__(self, version: int) -> None:
        self.version = version
        self.total: int | None = None
        # offset -> a num that the row at that offset is the first above, so the page there is
        # a keyed seek (`num > ?`) instead of an OFFSET walk over every row before it.
        self.after: dict[int, int] = {}


class Store:
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._write_lock = threading.RLock()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        self._shapes: OrderedDict[tuple[Any, ...], _Shape] = OrderedDict()
        self._shapes_lock = threading.Lock()
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
            # Sandbox state is test data that --reset recreates: no fsync at all. A crash of the
            # process loses nothing; a power cut may cost the file. NORMAL fsyncs at every WAL
            # checkpoint, which on small writes (an Ometria push moves ~150 pages) is every ten
            # or so of them, and took the push's mean from ~4.4 to ~6.4 ms.
            conn.execute("PRAGMA synchronous=OFF")
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("PRAGMA cache_size=-65536")
            # Reads of large seeds come straight from the OS page cache, without copies.
            conn.execute("PRAGMA mmap_size=4294967296")
            self._local.conn = conn
            self._local.depth = 0
            self._local.touched = set()
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
                if self._local.touched:
                    conn.executemany(BUMP_VERSION, self._local.touched)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            else:
                conn.execute("COMMIT")
            finally:
                self._local.depth = 0
                self._local.touched.clear()
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

    def version(self, vendor: str, account: str, kind: str) -> int:
        row = (
            self.conn()
            .execute(
                "SELECT version FROM versions WHERE vendor=? AND account=? AND kind=?",
                (vendor, account, kind),
            )
            .fetchone()
        )
        return row[0] if row else 0

    # Every write to `records` goes through put, put_many, refresh_many or delete: each notes
    # the kinds it changed, whose versions then move in the same transaction (its own when
    # there is none).

    def put(self, rec: Rec) -> None:
        with self.transaction(write=True) as conn:
            conn.execute(INSERT_RECORD, rec.as_params())
            self._local.touched.add((rec.vendor, rec.account, rec.kind))

    def put_many(self, recs: Iterable[Rec]) -> None:
        params = [rec.as_params() for rec in recs]
        with self.transaction(write=True) as conn:
            conn.executemany(INSERT_RECORD, params)
            self._local.touched.update(p[:3] for p in params)

    def refresh_many(self, recs: Iterable[Rec]) -> None:
        """Rewrite updated, status and data of stored records whose other columns stay as
        they are (the caller knows). Unlike put_many's replace, it leaves the row's entries in
        the indexes without those columns untouched."""
        recs = list(recs)
        with self.transaction(write=True) as conn:
            conn.executemany(
                "UPDATE records SET updated=?, status=?, data=? "
                "WHERE vendor=? AND account=? AND kind=? AND id=?",
                [(r.updated, r.status, r.data, r.vendor, r.account, r.kind, r.id) for r in recs],
            )
            self._local.touched.update((r.vendor, r.account, r.kind) for r in recs)

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
        return {k: v[0] for k, v in self.get_rows(vendor, account, kind, ids, "data").items()}

    def get_rows(
        self, vendor: str, account: str, kind: str, ids: Sequence[str | int], columns: str
    ) -> dict[str, tuple[Any, ...]]:
        """{id: (columns...)} for the ids that exist: primary-key lookups, in no order (an
        ORDER BY num could tempt the planner into walking every record of the kind)."""
        found: dict[str, tuple[Any, ...]] = {}
        keys = [str(i) for i in ids]
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for rec_id, *values in self.conn().execute(
                # bandit B608 is wrong here: constant columns, one bound ? per id.
                f"SELECT id, {columns} FROM records WHERE vendor=? AND account=? AND kind=? "  # nosec B608
                f"AND id IN ({marks})",
                (vendor, account, kind, *chunk),
            ):
                found[rec_id] = tuple(values)
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
        # bandit B608 is wrong here: the fakes' own SQL text, values bound.
        sql = f"SELECT {columns} FROM records WHERE vendor=? AND account=? AND kind=?"  # nosec B608
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
                # bandit B608 is wrong here: one bound ? per kind.
                f"SELECT MAX(num) FROM records WHERE vendor=? AND account=? AND kind IN ({marks})",  # nosec B608
                (vendor, account, *kinds),
            )
            .fetchone()
        )
        return row[0] or 0

    def delete(self, vendor: str, account: str, kind: str, id: str | int) -> bool:
        with self.transaction(write=True) as conn:
            cur = conn.execute(
                "DELETE FROM records WHERE vendor=? AND account=? AND kind=? AND id=?",
                (vendor, account, kind, str(id)),
            )
            self._local.touched.add((vendor, account, kind))
        return cur.rowcount > 0

    # --- searches ------------------------------------------------------------------------

    def search_page(
        self,
        vendor: str,
        account: str,
        kind: str,
        where: str,
        params: Sequence[Any],
        order: str,
        limit: int,
        offset: int,
    ) -> tuple[int, list[str]]:
        """(total, the `row` of each record on the page) for a paged search.

        The same answer as COUNT(*) plus `ORDER BY order LIMIT limit OFFSET offset`, without
        their cost on large kinds: the total and where each served page starts and ends are
        remembered per query shape until the kind's version moves, so reading page after page
        (or the same page again) is a keyed seek rather than an OFFSET walk from the start. The
        page's keys are found first (inside the covering indexes) and only its own rows are
        read, so even an unremembered offset never reads the rows it skips. Order "num" (the
        default search order) takes the keyed seek; it needs num to be a unique integer within
        the kind, which every searched kind's num is (its id).
        """
        base = "FROM records WHERE vendor=? AND account=? AND kind=?"
        if where:
            base += f" AND ({where})"
        args = (vendor, account, kind, *params)
        with self.transaction() as conn:
            shape = self._shape(
                (vendor, account, kind, where, tuple(params), order),
                self.version(vendor, account, kind),
            )
            if shape.total is None:
                shape.total = conn.execute(f"SELECT COUNT(*) {base}", args).fetchone()[0]
            if offset >= shape.total:
                return shape.total, []
            if order != "num":
                keys = [
                    k
                    for (k,) in conn.execute(
                        f"SELECT rowid {base} ORDER BY {order} LIMIT ? OFFSET ?",
                        (*args, limit, offset),
                    )
                ]
            else:
                after = shape.after.get(offset)
                if after is None:
                    found = conn.execute(
                        f"SELECT rowid, num {base} ORDER BY num LIMIT ? OFFSET ?",
                        (*args, limit, offset),
                    ).fetchall()
                else:
                    found = conn.execute(
                        f"SELECT rowid, num {base} AND num > ? ORDER BY num LIMIT ?",
                        (*args, after, limit),
                    ).fetchall()
                if found:
                    # This page again, and the next one, are seeks from now on (num is an
                    # integer: "> first - 1" starts at the first row).
                    self._remember(shape, offset, found[0][1] - 1)
                    self._remember(shape, offset + len(found), found[-1][1])
                keys = [k for k, _ in found]
            rows: dict[int, str] = {}
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows.update(
                    conn.execute(
                        # bandit B608 is wrong here: one bound ? per rowid.
                        f"SELECT rowid, row FROM records WHERE rowid IN ({marks})",  # nosec B608
                        chunk,
                    ).fetchall()
                )
            return shape.total, [rows[k] for k in keys]

    def _shape(self, key: tuple[Any, ...], version: int) -> _Shape:
        with self._shapes_lock:
            shape = self._shapes.get(key)
            if shape is None or shape.version != version:
                shape = self._shapes[key] = _Shape(version)
            self._shapes.move_to_end(key)
            while len(self._shapes) > SEARCH_SHAPES:
                self._shapes.popitem(last=False)
            return shape

    def forget_searches(self) -> None:
        """Drop every remembered search total and page position (benchmarks measure cold)."""
        with self._shapes_lock:
            self._shapes.clear()

    @staticmethod
    def _remember(shape: _Shape, offset: int, num: int) -> None:
        if len(shape.after) >= SEARCH_POSITIONS:
            shape.after.clear()
        shape.after[offset] = num

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

    def note_created(self, vendor: str, account: str, kind: str, id: str | int) -> None:
        """Remember that a request created this record now (not the seed, which never calls
        this): the duplicates report tells the console's own creates from the seed's."""
        self.log(vendor, account, "created", f"{kind}/{id}", sortable(utcnow()), "{}")

    def created(self, vendor: str, account: str, kind: str) -> dict[str, str]:
        """{record id: when it was created (sortable UTC)} for the records of a kind that a
        request created since the last reset."""
        rows = self.conn().execute(
            "SELECT id, at FROM log WHERE vendor=? AND account=? AND kind='created' AND id LIKE ?",
            (vendor, account, kind + "/%"),
        )
        return {key.partition("/")[2]: at for key, at in rows}

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
            # bandit B608 is wrong here: table names from the tuple above.
            conn.execute(f"DELETE FROM {table}")  # nosec B608
        # Versions only ever grow, so nothing remembered from before the wipe can match again.
        conn.execute("UPDATE versions SET version = version + 1")
        # AUTOINCREMENT keeps its high-water mark in sqlite_sequence; a reset starts afresh.
        conn.execute("DELETE FROM sqlite_sequence WHERE name='log'")
