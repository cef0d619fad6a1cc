"""The sandbox's SQLite schema, and `Rec`, one row of `records` (see state.py for the why)."""

from __future__ import annotations

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
-- What Brightpearl searches filter on: orderTypeId (type), orderStatusId and shipped (status),
-- updatedOn and shippedOn (updated); they page in num order. Each index also carries the columns
-- those filters are combined with, so whichever one the planner picks, a search is counted,
-- skipped through and paged inside it, never by reading the multi-KB rows.
CREATE INDEX IF NOT EXISTS records_type ON records (vendor, account, kind, type, num, updated);
CREATE INDEX IF NOT EXISTS records_status ON records (vendor, account, kind, status, num, updated);
CREATE INDEX IF NOT EXISTS records_window
    ON records (vendor, account, kind, updated, num, type, status);
-- Replaced indexes, dropped from files made before.
DROP INDEX IF EXISTS records_updated;
DROP INDEX IF EXISTS records_search;
DROP INDEX IF EXISTS records_changed;
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
-- One counter per (vendor, account, kind), bumped in the same transaction as any write to that
-- kind, so a reader sees the version that matches its own snapshot (what cached search counts
-- and page positions are keyed on). Never reset: a wipe bumps them all.
CREATE TABLE IF NOT EXISTS versions (
    vendor TEXT NOT NULL,
    account TEXT NOT NULL,
    kind TEXT NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (vendor, account, kind)
) WITHOUT ROWID;
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
BUMP_VERSION = (
    "INSERT INTO versions VALUES (?,?,?,1) "
    "ON CONFLICT (vendor, account, kind) DO UPDATE SET version = version + 1"
)
