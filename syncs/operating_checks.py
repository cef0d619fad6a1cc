"""The checks a brand's people make each week and month, for its operating model page.

Each check names the page that answers it: the exceptions inbox with its filters, a
mappings page, "Find a record". Where the console has no page for it yet, the check says so
in words and links nothing, rather than pointing at a page that would not answer. A check
that needs a kind of flow the brand has not switched on says that it does not apply, and
why. The figures ("now") are read when the page is drawn.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Count, Q, Sum
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from brands.models import Brand
from exceptions.models import OPEN_STATUSES, Ticket
from syncs.flows import REGISTRY
from syncs.flows.base import Flow
from syncs.history.models import DriftCheck
from syncs.models import MappingChange, RecordState, RecordStatus

# Marketing systems: where contacts are segmented.
MARKETING_SYSTEMS = ("ometria", "mailchimp")
HELD = (RecordStatus.WAITING, RecordStatus.FAILED)


@dataclass(frozen=True)
class Link:
    text: str
    url: str


@dataclass
class Check:
    cadence: str  # "weekly" or "monthly"
    title: str
    question: str
    how: str
    links: list[Link] = field(default_factory=list)
    # Why no page answers it yet, in words; "" when the links answer it.
    no_page: str = ""
    # What the console sees now, in words.
    now: str = ""
    # Why it does not apply to this brand, to follow "Does not apply:"; "" when it does.
    not_applicable: str = ""


def inbox_url(brand: Brand, **filters: str) -> str:
    """The inbox of one brand, every team, with these filters (open tickets by default)."""
    query = {"brand": brand.slug, "team": "", "status": "open", **filters}
    return f"{reverse('exceptions:inbox')}?{urlencode(query)}"


def records_url(brand: Brand) -> str:
    return f"{reverse('records')}?{urlencode({'brand': brand.slug})}"


def drift_links(brand: Brand, flows: list[type[Flow]]) -> list[Link]:
    """Each flow's page, where its drift report lists what the daily checks corrected."""
    return [
        Link(f"Drift report of “{f.label}”", reverse("history:flow", args=[brand.slug, f.code]))
        for f in flows
    ]


def drifted(brand: Brand, flows: list[type[Flow]], days: int) -> int:
    """Records the daily checks of these flows corrected in the last `days` days although
    nothing had said they changed (syncs/history/drift.py)."""
    since = timezone.now() - timedelta(days=days)
    return (
        DriftCheck.objects.filter(
            brand=brand, flow__in=[f.code for f in flows], checked_at__gte=since
        ).aggregate(n=Sum("drifted"))["n"]
        or 0
    )


def _open(brand: Brand) -> Q:
    return Q(brand=brand, status__in=OPEN_STATUSES)


def operating_checks(*, brand: Brand, flows: list[type[Flow]], unstaffed: list[str]) -> list[Check]:
    """The weekly and monthly checks, for the brand's switched-on flows. `unstaffed`: the
    teams (their names) that answer tickets here and have nobody."""
    return [
        _tickets_by_age(brand),
        _unmatched_contacts(brand, flows),
        _shipped_not_notified(brand, flows),
        _waiting_on_mappings(brand),
        _segment_drift(brand, flows),
        _stock_mismatches(brand, flows),
        _teams_staffed(unstaffed),
        _mapping_changes(brand),
    ]


def _tickets_by_age(brand: Brand) -> Check:
    now = timezone.now()
    ages = Ticket.objects.filter(_open(brand)).aggregate(
        total=Count("pk"),
        week=Count("pk", filter=Q(first_seen__lt=now - timedelta(days=7))),
        month=Count("pk", filter=Q(first_seen__lt=now - timedelta(days=30))),
    )
    return Check(
        cadence="weekly",
        title="Open tickets by age",
        question="Is any ticket still open after a week?",
        how="Open the inbox oldest first. A ticket a week old is waiting on someone or "
        "forgotten: fix it, give it to the person who can, or ignore it with a note.",
        links=[
            Link("Open tickets, oldest first", inbox_url(brand, sort="first_seen")),
            Link("Open for more than 30 days", inbox_url(brand, age="older")),
        ],
        now=f"{ages['total']} open; {ages['week']} older than a week, "
        f"{ages['month']} older than 30 days.",
    )


def _held(brand: Brand, codes: list[str]) -> int:
    return RecordState.objects.filter(brand=brand, flow__in=codes, status__in=HELD).count()


def _open_of_type(brand: Brand, code: str, flows: list[str] | None = None) -> int:
    tickets = Ticket.objects.filter(_open(brand), type__code=code)
    if flows is not None:
        tickets = tickets.filter(flow__in=flows)
    return tickets.count()


def _unmatched_contacts(brand: Brand, flows: list[type[Flow]]) -> Check:
    codes = [f.code for f in flows if f.kind == "contact"]
    check = Check(
        cadence="weekly",
        title="Unmatched contacts",
        question="Is any customer split over two contacts, or missing from the marketing system?",
        how="Work through the duplicate-contact tickets (merge the contacts in Brightpearl) "
        "and the contacts the marketing system refused (correct the e-mail address or field "
        "it names). Look one customer up across every system with Find a record.",
    )
    if not codes:
        check.not_applicable = "no flow that sends contacts is switched on for this brand."
        return check
    refusals = {"type": "async_rejection", **({"flow": codes[0]} if len(codes) == 1 else {})}
    check.links = [
        Link("Duplicate contacts", inbox_url(brand, type="duplicate_contact")),
        Link("Contacts refused after sending", inbox_url(brand, **refusals)),
        Link("Find a record", records_url(brand)),
    ]
    check.no_page = (
        "There is no page yet that lists the contacts in the marketing system that match no "
        "Brightpearl contact; the tickets above are the nearest answer."
    )
    duplicates = _open_of_type(brand, "duplicate_contact")
    refused = _open_of_type(brand, "async_rejection", codes)
    held = _held(brand, codes)
    check.now = (
        f"{duplicates} duplicate-contact ticket{pluralize(duplicates)} and {refused} refused "
        f"contact{pluralize(refused)} open; {held} contact{pluralize(held)} held back."
    )
    return check


def _shipped_not_notified(brand: Brand, flows: list[type[Flow]]) -> Check:
    shipping = [f for f in flows if f.kind == "shipment"]
    check = Check(
        cadence="weekly",
        title="Shipped but not notified",
        question="Did every goods-out note shipped in Brightpearl reach the customer's "
        "shipping notification?",
        how="Open the shipment flow's tickets: each names a note that was not sent and why. "
        "Its drift report lists the notes a daily check found unsent and sent late (a "
        "webhook that never came). To follow one order, find it with Find a record.",
    )
    if not shipping:
        check.not_applicable = "no flow that sends shipments is switched on for this brand."
        return check
    check.links = [
        *(Link(f"Open tickets of “{f.label}”", inbox_url(brand, flow=f.code)) for f in shipping),
        *drift_links(brand, shipping),
        Link("Find a record", records_url(brand)),
    ]
    codes = [f.code for f in shipping]
    tickets = Ticket.objects.filter(_open(brand), flow__in=codes).count()
    held = _held(brand, codes)
    late = drifted(brand, shipping, days=7)
    check.now = (
        f"{tickets} open ticket{pluralize(tickets)}; {held} note{pluralize(held)} held back; "
        f"{late} sent late by a daily check in the last 7 days."
    )
    return check


def _waiting_on_mappings(brand: Brand) -> Check:
    tickets = _open_of_type(brand, "unmapped_status") + _open_of_type(brand, "unmapped_value")
    return Check(
        cadence="weekly",
        title="Records waiting on a mapping",
        question="Is anything held because a status or value has no mapping?",
        how="The mappings pages put each unmapped value at the top with the number of records "
        "it holds. Map it (the preview shows what it releases) and the records go.",
        links=[
            Link("Mappings", reverse("mappings:statuses", args=[brand.slug])),
            Link("Open unmapped-value tickets", inbox_url(brand, type="unmapped_value")),
            Link("Open unmapped-status tickets", inbox_url(brand, type="unmapped_status")),
        ],
        now=f"{tickets} open ticket{pluralize(tickets)} for a missing mapping.",
    )


def _segment_drift(brand: Brand, flows: list[type[Flow]]) -> Check:
    contacts = [f for f in flows if f.kind == "contact" and f.target in MARKETING_SYSTEMS]
    check = Check(
        cadence="monthly",
        title="Segment drift",
        question="Do the marketing system's segments still hold the customers Brightpearl "
        "says they should?",
        how="The drift report lists the contacts each daily check found out of date in the "
        "marketing system and corrected: a steady trickle means changes slip past the regular "
        "syncs (often a custom field, which does not move Brightpearl's last-updated time). "
        "Then take a segment built on a mapped attribute (such as VIP or wholesale) and "
        "compare its size with the contacts carrying that tag in Brightpearl.",
    )
    if not contacts:
        check.not_applicable = (
            "no flow that sends contacts to a marketing system is switched on for this brand."
        )
        return check
    check.links = [
        *drift_links(brand, contacts),
        Link("Drift tickets", inbox_url(brand, type="drift_found")),
        Link(
            "Contact attributes (what travels)", reverse("mappings:attributes", args=[brand.slug])
        ),
        Link("Find a record", records_url(brand)),
    ]
    corrected = drifted(brand, contacts, days=30)
    check.now = (
        f"{corrected} contact{pluralize(corrected)} corrected by a daily check in the last 30 days."
    )
    return check


def _stock_mismatches(brand: Brand, flows: list[type[Flow]]) -> Check:
    stock = [f for f in flows if f.kind == "stock"]
    check = Check(
        cadence="monthly",
        title="Stock mismatches",
        question="Does the stock each storefront shows match Brightpearl's available stock?",
        how="Compare a few fast sellers: the storefront should show Brightpearl's available "
        "stock less the safety stock, never more.",
    )
    if not stock:
        registered = any(cls.kind == "stock" for cls in REGISTRY.values())
        check.not_applicable = (
            "no stock flow is switched on for this brand"
            if registered
            else "the console has no stock flow yet"
        ) + ", so no stock level is sent anywhere and there is nothing to compare."
        return check
    check.links = [
        *(Link(f"Open tickets of “{f.label}”", inbox_url(brand, flow=f.code)) for f in stock),
        *drift_links(brand, stock),
    ]
    corrected = drifted(brand, stock, days=30)
    check.now = f"{corrected} stock level{pluralize(corrected)} corrected in the last 30 days."
    return check


def _teams_staffed(unstaffed: list[str]) -> Check:
    return Check(
        cadence="monthly",
        title="Every team has someone",
        question="Does every team that answers tickets still have a person at this brand?",
        how="A team with nobody in it gets tickets nobody sees. Ask an agency admin to add "
        "someone, or to give that kind of ticket to another team.",
        links=[Link("Who answers which tickets", "#teams")],
        now=f"Nobody in: {', '.join(unstaffed)}."
        if unstaffed
        else "Every team that answers tickets has someone.",
    )


def _mapping_changes(brand: Brand) -> Check:
    since = timezone.now() - timedelta(days=30)
    changes = MappingChange.objects.filter(brand=brand, created__gte=since).count()
    return Check(
        cadence="monthly",
        title="Mapping changes",
        question="Was every mapping change of the month meant?",
        how="Each mappings page keeps its history, with who changed what and when; a change "
        "that was a mistake is reverted from there.",
        links=[Link("Mappings and their history", reverse("mappings:statuses", args=[brand.slug]))],
        now=f"{changes} change{pluralize(changes)} in the last 30 days.",
    )
