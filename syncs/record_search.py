"""Find a record by any system's id, an e-mail address or an order reference.

What the console holds is searched first: record links (each system's id, and the key a
create was made by), and record states (a contact's e-mail; the customer's e-mail on an
order). A Brightpearl order reference (“#1001”) is not held by the console: when nothing
it holds matches, the brand's Brightpearl is asked, briefly, and a Brightpearl that cannot
answer at once is named in a note instead of holding the page up.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field

from brands.models import Brand
from connectors.errors import ConnectorError
from connectors.models import Connection
from connectors.registry import LIVE_TIMEOUT, connector_live
from connectors.registry import REGISTRY as VENDORS
from syncs.flows import REGISTRY, flow_label
from syncs.models import RecordLink, RecordState
from syncs.records import (
    KIND_EXPLAINED,
    Entity,
    entities_load,
    kind_label,
    links_by_keys,
    reading_flows,
    source_key,
    system_label,
)

logger = logging.getLogger("syncs.records")

MAX_RESULTS = 50
# Records found through one e-mail address (a customer with many orders): the latest.
EMAIL_MATCHES = 30
# How long the brand's Brightpearl may take over a reference look-up, a person waiting.
# More brands than this are not asked one after the other: the person picks one.
LIVE_BRANDS = 3
# The records that name their customer's e-mail address in what was sent for them.
CUSTOMER_KINDS = ("order", "credit")
# Brightpearl's order types in its order search.
ORDER_TYPE_KINDS = {1: "order", 3: "credit"}

# How a record was found, best first.
RANK_ID, RANK_KEY, RANK_EMAIL, RANK_EMAIL_ON, RANK_REFERENCE = range(5)


@dataclass
class Found:
    entity: Entity
    how: str
    rank: int


@dataclass
class Unlinked:
    """A record the brand's Brightpearl has, that no flow has read yet."""

    brand: Brand
    kind: str
    external_id: str

    @property
    def sentence(self) -> str:
        flows = ", ".join(flow_label(c) for c in reading_flows(self.kind, "brightpearl"))
        return (
            f"{self.brand}'s Brightpearl has {KIND_EXPLAINED.get(self.kind, 'a record')} "
            f"{self.external_id} with this reference, but the console holds nothing for it "
            "yet: no flow has read it"
            + (f" (it is read by {flows} when it changes)." if flows else ".")
        )

    @property
    def title(self) -> str:
        return f"{kind_label(self.kind)} {self.external_id}"


@dataclass
class Search:
    query: str
    results: list[Found] = field(default_factory=list)
    unlinked: list[Unlinked] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    more: bool = False
    asked_brightpearl: list[str] = field(default_factory=list)


def search_brands(*, user, brand: str = "") -> list[Brand]:
    """The brands a search covers: the user's, or the one they chose among theirs.
    Raises Brand.DoesNotExist for a brand that is not theirs (or not at all)."""
    brands = list(Brand.objects.for_user(user))
    if not brand:
        return brands
    chosen = [b for b in brands if b.slug == brand]
    if not chosen:
        raise Brand.DoesNotExist(brand)
    return chosen


def records_find(*, user, query: str, brand: str = "") -> Search:
    """The entities of the user's brands (or of one of them) that the query names."""
    brands = {b.pk: b for b in search_brands(user=user, brand=brand)}
    q = (query or "").strip()[:254]
    search = Search(query=q)
    if not q or not brands:
        return search
    is_email = "@" in q and " " not in q
    found: dict[tuple[int, str], tuple[int, str]] = {}

    def note(key: tuple[int, str], rank: int, how: str) -> None:
        if key not in found or rank < found[key][0]:
            found[key] = (rank, how)

    variants = {q, q.lower(), q.upper()}
    if is_email:
        # A Mailchimp member's id is the md5 of its lowercased address.
        variants.add(hashlib.md5(q.lower().encode(), usedforsecurity=False).hexdigest())
    for link in _links_named(list(brands), variants):
        if link.external_id in variants:
            what = f"{system_label(link.system)} {kind_label(link.kind).lower()} id"
            note((link.brand_id, link.entity), RANK_ID, f"its {what}")
        else:
            note(
                (link.brand_id, link.entity),
                RANK_KEY,
                f"the key {system_label(link.system)} was asked to create it by",
            )
    if is_email:
        for key, rank, how in _by_email(list(brands), q, search):
            note(key, rank, how)
    if not found and not is_email:
        for key, how in _by_reference(search, list(brands.values()), q):
            note(key, RANK_REFERENCE, how)
    entities = entities_load(brands, found)
    order = list(KIND_EXPLAINED)
    results = []
    for e in entities:
        rank, how = found[(e.brand.pk, e.key)]
        results.append(Found(e, how, rank))
    results.sort(
        key=lambda f: (
            f.rank,
            f.entity.brand.name,
            order.index(f.entity.kind) if f.entity.kind in order else 99,
            _natural(f.entity.origin.external_id),
        )
    )
    search.more = search.more or len(results) > MAX_RESULTS
    search.results = results[:MAX_RESULTS]
    return search


def _natural(value: str) -> tuple[int, int | str]:
    return (0, int(value)) if value.isdigit() else (1, value)


def _link_kinds() -> tuple[list[str], list[str]]:
    """The kinds and systems links are made for: the flows' own, every vendor's, and the
    kinds people look for. Named in the search so that it reads the links' indexes, not
    every link of the brand."""
    kinds, systems = set(KIND_EXPLAINED), set(VENDORS)
    for cls in REGISTRY.values():
        kinds |= {cls.kind, cls.target_kind or cls.kind}
        systems |= {cls.source, cls.target}
    return sorted(kinds), sorted(systems)


def _links_named(brand_ids: list[int], names: set[str]) -> list[RecordLink]:
    """Links whose id in their system, or whose create key, is one of these names: two
    index look-ups in one query."""
    kinds, systems = _link_kinds()
    scope = RecordLink.objects.filter(brand_id__in=brand_ids, kind__in=kinds, system__in=systems)
    # The same condition as the unique index's, so that the index serves the look-up.
    by_id = scope.filter(external_id__in=names).exclude(external_id="")
    by_key = scope.filter(natural_key__in=names)
    return list(by_id.union(by_key).order_by("pk")[: MAX_RESULTS * 4])


def _by_email(brand_ids: list[int], email: str, search: Search):
    """Records whose state holds this address: a contact (its match key, lowercased, read
    from an index), and the orders and refunds that name it as their customer's (in what
    was sent; read from those flows' states)."""
    lowered = email.lower()
    named = [code for code, cls in REGISTRY.items() if cls.kind in CUSTOMER_KINDS]
    own = RecordState.objects.filter(brand_id__in=brand_ids, flow__in=list(REGISTRY))
    states = list(own.filter(match_key=lowered).select_related("link")[:EMAIL_MATCHES])
    seen = {s.pk for s in states}
    customers = (
        RecordState.objects.filter(brand_id__in=brand_ids, flow__in=named)
        .filter(last_pushed__email__iexact=email)
        .exclude(pk__in=seen)
        .select_related("link")
        .order_by("-synced_at", "-pk")[: EMAIL_MATCHES + 1]
    )
    customers = list(customers)
    search.more = search.more or len(customers) > EMAIL_MATCHES
    states += customers[:EMAIL_MATCHES]
    missing = {
        (s.brand_id, *key) for s in states if s.link is None and (key := source_key(s)) is not None
    }
    linked = links_by_keys(missing)
    for state in states:
        link = state.link
        if link is None and (key := source_key(state)) is not None:
            link = linked.get((state.brand_id, *key))
        if link is None:
            continue
        if state.match_key == lowered:
            yield (link.brand_id, link.entity), RANK_EMAIL, "its e-mail address"
        else:
            yield (link.brand_id, link.entity), RANK_EMAIL_ON, "its customer's e-mail address"


def _by_reference(search: Search, brands: list[Brand], reference: str):
    """Ask each brand's Brightpearl which order or credit carries this customer reference."""
    connections = list(
        Connection.objects.filter(brand__in=brands, system="brightpearl").select_related("brand")
    )
    if not connections:
        return
    if len(connections) > LIVE_BRANDS:
        search.notes.append(
            "Nothing the console holds matches. To look it up as an order reference in "
            "Brightpearl, choose one brand above and search again."
        )
        return
    hits: list[tuple[Brand, str, str]] = []
    for connection in connections:
        brand = connection.brand
        search.asked_brightpearl.append(brand.name)
        try:
            rows = _ask_brightpearl(connection, reference)
        except ConnectorError as exc:
            reason = _reason(exc)
        except Exception:
            # A page must answer whatever Brightpearl does; the details go to the log.
            logger.exception("reference look-up failed for brand %s", brand.pk)
            reason = "something went wrong asking it"
        else:
            hits.extend(
                (brand, ORDER_TYPE_KINDS[r["orderTypeId"]], str(r["orderId"]))
                for r in rows
                if r["orderTypeId"] in ORDER_TYPE_KINDS
            )
            continue
        search.notes.append(
            f"{brand}'s Brightpearl could not be asked whether an order has the reference "
            f"“{reference}”: {reason}. Try again in a minute, or search by the order's id."
        )
    links = links_by_keys((b.pk, kind, "brightpearl", rid) for b, kind, rid in hits)
    for brand, kind, rid in hits:
        link = links.get((brand.pk, kind, "brightpearl", rid))
        if link is None:
            search.unlinked.append(Unlinked(brand, kind, rid))
        else:
            yield (brand.pk, link.entity), "its Brightpearl reference (asked of Brightpearl now)"


def _ask_brightpearl(connection: Connection, reference: str) -> list[dict]:
    with connector_live(connection, timeout=LIVE_TIMEOUT) as bp:
        return bp.orders_by_reference(reference)


def _reason(exc: ConnectorError) -> str:
    return {
        "auth": "it did not accept the saved credentials",
        "throttled": "its allowance of requests is used up for now",
        "transient": f"it did not answer within {LIVE_TIMEOUT:g} seconds, or could not be reached",
        "configuration": "its connection is not set up completely",
    }.get(exc.kind, "it refused the search")
