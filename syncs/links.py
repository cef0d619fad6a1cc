"""Record links: one entity's ids across systems, and what the console last wrote to each.

Links are read and written a batch at a time, in one statement each, because every flow
goes through them on its hot path (200 records a batch, thousands a second).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from connectors.errors import RejectedError
from syncs.models import RecordLink

COLUMNS = [
    "brand_id",
    "kind",
    "system",
    "external_id",
    "entity",
    "create_key",
    "natural_key",
    "written_hash",
    "written",
    "written_at",
    "written_by",
    "created",
    "updated",
]
# The conflict target of every upsert: the plain unique index on a record's id.
ON_RECORD = 'ON CONFLICT ("brand_id", "kind", "system", "external_id")'


def entity_of(kind: str, system: str, external_id: str) -> str:
    """A new entity's key: the first system and id the console met it by."""
    return f"{kind}:{system}:{external_id}"


@dataclass(slots=True)
class Link:
    """A link as the hot path reads it: its ids and hashes, without the model's JSON."""

    pk: int
    brand_id: int
    kind: str
    system: str
    external_id: str
    entity: str
    natural_key: str = ""
    written_hash: str = ""
    written_by: str = ""

    @property
    def pending(self) -> bool:
        return not self.external_id


LINK_FIELDS = (
    "pk",
    "brand_id",
    "kind",
    "system",
    "external_id",
    "entity",
    "natural_key",
    "written_hash",
    "written_by",
)


def _links(**filters: Any) -> list[Link]:
    return [Link(*row) for row in RecordLink.objects.filter(**filters).values_list(*LINK_FIELDS)]


@dataclass
class Written:
    """What a flow wrote into one target record."""

    entity: str
    external_id: str
    digest: str
    view: dict
    flow: str


def _rows(brand_id: int, kind: str, system: str, values: Iterable[dict[str, Any]]) -> list[tuple]:
    ops = connection.ops
    now = ops.adapt_datetimefield_value(timezone.now())
    rows = []
    for v in values:
        written_at = v.get("written_at")
        rows.append(
            (
                brand_id,
                kind,
                system,
                v.get("external_id") or None,
                v["entity"],
                v.get("create_key") or None,
                v.get("natural_key", ""),
                v.get("written_hash", ""),
                ops.adapt_json_value(v.get("written") or {}, None),
                ops.adapt_datetimefield_value(written_at) if written_at else None,
                v.get("written_by", ""),
                now,
                now,
            )
        )
    return rows


def _insert(rows: list[tuple], conflict: str) -> list[tuple]:
    """INSERT … ON CONFLICT <conflict> RETURNING id, external_id, entity, in chunks."""
    if not rows:
        return []
    ops = connection.ops
    table = ops.quote_name(RecordLink._meta.db_table)
    cols = ", ".join(ops.quote_name(c) for c in COLUMNS)
    one = f"({', '.join(['%s'] * len(COLUMNS))})"
    size = max(ops.bulk_batch_size(COLUMNS, rows), 1)
    out: list[tuple] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), size):
            chunk = rows[start : start + size]
            cursor.execute(
                # bandit B608 is wrong here: the model's quoted names, values bound.
                f"INSERT INTO {table} ({cols}) VALUES {', '.join([one] * len(chunk))} "  # nosec B608
                f"{conflict} RETURNING id, external_id, entity",
                [value for row in chunk for value in row],
            )
            out.extend(cursor.fetchall())
    return out


def links_resolve(*, brand_id: int, kind: str, system: str, ids: list[str]) -> dict[str, Link]:
    """The links of these records of one system, made where missing (a record nobody has
    linked yet is an entity of its own). One query when they all exist, two when not."""
    ids = list(dict.fromkeys(str(i) for i in ids if str(i)))
    scope = {"brand_id": brand_id, "kind": kind, "system": system}
    found = {link.external_id: link for link in _links(**scope, external_id__in=ids)}
    missing = [i for i in ids if i not in found]
    if missing:
        rows = _rows(
            brand_id,
            kind,
            system,
            ({"external_id": i, "entity": entity_of(kind, system, i)} for i in missing),
        )
        conflict = f"{ON_RECORD} DO NOTHING"
        for pk, external_id, entity in _insert(rows, conflict):
            found[external_id] = Link(pk, brand_id, kind, system, external_id, entity)
        late = [i for i in missing if i not in found]
        if late:  # made by another run between our read and our insert
            found.update((link.external_id, link) for link in _links(**scope, external_id__in=late))
    return found


def links_of_entities(
    *, brand_id: int, kind: str, system: str, entities: Iterable[str]
) -> dict[str, Link]:
    """Each entity's link in one system (its id there, or a create in flight), by entity."""
    found = _links(brand_id=brand_id, kind=kind, system=system, entity__in=list(set(entities)))
    return {link.entity: link for link in sorted(found, key=lambda link: link.pk)}


def links_written(*, brand_id: int, kind: str, system: str, written: list[Written]) -> None:
    """Record what was written into these target records (their ids known), in one upsert."""
    if not written:
        return
    now = timezone.now()
    rows = _rows(
        brand_id,
        kind,
        system,
        (
            {
                "external_id": w.external_id,
                "entity": w.entity,
                "written_hash": w.digest,
                "written": w.view,
                "written_at": now,
                "written_by": w.flow,
            }
            for w in sorted(written, key=lambda w: w.external_id)
        ),
    )
    q = connection.ops.quote_name
    # The entity stays the record's own: a refund writes its order's record, which belongs
    # to the order, not to the credit.
    updates = ", ".join(
        f"{q(c)} = EXCLUDED.{q(c)}"
        for c in ("written_hash", "written", "written_at", "written_by", "updated")
    )
    # bandit B608 is wrong here: the model's quoted names, values bound.
    _insert(rows, f"{ON_RECORD} DO UPDATE SET {updates}")  # nosec B608


def links_ensure(*, brand_id: int, kind: str, system: str, records: list[tuple[str, str]]) -> None:
    """These (entity, id) records exist in the target: link them, once (what was written to
    a push-only target is kept on the record state, so only its id is linked here)."""
    if records:
        rows = _rows(
            brand_id,
            kind,
            system,
            ({"external_id": i, "entity": e} for e, i in sorted(set(records), key=lambda r: r[1])),
        )
        _insert(rows, f"{ON_RECORD} DO NOTHING")


def links_forget_written(link_ids: list[int]) -> None:
    """The record changed since the console wrote it: what it wrote no longer marks an echo
    (a later change back to the same value is a person's, and must travel)."""
    if link_ids:
        RecordLink.objects.filter(pk__in=link_ids).update(written_hash="", written={})


# --- safe creates ------------------------------------------------------------------------
def create_begin(
    *, brand_id: int, kind: str, system: str, entity: str, create_key: str, natural_key: str
) -> Link:
    """Before a create: a pending link, committed at once, so that a crash or a lost answer
    after this point is followed by a look-up by the natural key, never a second create."""
    with transaction.atomic():
        link, _ = RecordLink.objects.get_or_create(
            brand_id=brand_id,
            kind=kind,
            system=system,
            create_key=create_key,
            defaults={
                "entity": entity,
                "natural_key": natural_key,
                "create_started": timezone.now(),
            },
        )
    return _as_link(link)


def _as_link(link: RecordLink) -> Link:
    return Link(*(getattr(link, name) for name in LINK_FIELDS))


def create_done(
    link: Link,
    *,
    external_id: str,
    digest: str = "",
    view: dict | None = None,
    flow: str = "",
) -> RecordLink:
    """The create's id came back (or a look-up found it): the link is complete.

    If another flow already linked that record (it read it before this answer was stored),
    the two are one entity: that link takes this entity, and so do its entity's other links.
    """
    with transaction.atomic():
        other = (
            RecordLink.objects.select_for_update()
            .filter(
                brand_id=link.brand_id,
                kind=link.kind,
                system=link.system,
                external_id=external_id,
            )
            .exclude(pk=link.pk)
            .first()
        )
        fields: dict[str, Any] = {"create_key": None, "natural_key": link.natural_key}
        if digest:
            fields.update(
                written_hash=digest,
                written=view or {},
                written_at=timezone.now(),
                written_by=flow,
            )
        if other is not None:
            RecordLink.objects.filter(brand_id=link.brand_id, entity=other.entity).exclude(
                pk=other.pk
            ).update(entity=link.entity)
            RecordLink.objects.filter(pk=other.pk).update(entity=link.entity, **fields)
            RecordLink.objects.filter(pk=link.pk).delete()
            other.refresh_from_db()
            return _as_link(other)
        RecordLink.objects.filter(pk=link.pk).update(external_id=external_id, **fields)
    return _as_link(RecordLink.objects.get(pk=link.pk))


def create_abandon(link: Link) -> None:
    """The target refused the create outright: nothing was made, nothing to look up."""
    RecordLink.objects.filter(pk=link.pk, external_id__isnull=True).delete()


def link_or_create(
    *,
    brand_id: int,
    kind: str,
    system: str,
    entity: str,
    natural_key: str,
    create_key: str,
    find: Callable[[], str | None],
    create: Callable[[], str],
) -> str:
    """A record another one needs (the customer of an order), made exactly once.

    Linked already: its id. Otherwise it is searched for by its natural key first (it may
    exist in the target, or a create whose answer was lost may have made it), and only
    then created, behind a pending link. A create that fails leaves the link pending when
    its outcome is unknown, so the next attempt searches again; `create` raises the
    vendor's error either way.
    """
    link = links_of_entities(brand_id=brand_id, kind=kind, system=system, entities=[entity]).get(
        entity
    )
    if link is not None and link.external_id:
        return link.external_id
    found = find()
    link = link or create_begin(
        brand_id=brand_id,
        kind=kind,
        system=system,
        entity=entity,
        create_key=create_key,
        natural_key=natural_key,
    )
    if found:
        return create_done(link, external_id=str(found)).external_id
    if link.external_id:  # completed by another run meanwhile
        return link.external_id
    try:
        new_id = str(create())
    except RejectedError:
        create_abandon(link)
        raise
    return create_done(link, external_id=new_id).external_id


def links_ids_across(
    *, brand_id: int, kind: str, source: str, target: str, ids: list[str], target_kind: str = ""
) -> dict[str, str]:
    """{id in `source`: id of the same record in `target`}, through their shared entity, for
    the ids linked in both (a storefront order and the Brightpearl order it was posted as).
    `target_kind`: the entity's kind in the target when it differs (a Brightpearl contact is a
    Salesforce account). Two queries."""
    if not ids:
        return {}
    sources = links_resolve(brand_id=brand_id, kind=kind, system=source, ids=ids)
    targets = links_of_entities(
        brand_id=brand_id,
        kind=target_kind or kind,
        system=target,
        entities=[link.entity for link in sources.values()],
    )
    found = {}
    for source_id, link in sources.items():
        other = targets.get(link.entity)
        if other is not None and other.external_id:
            found[source_id] = other.external_id
    return found
