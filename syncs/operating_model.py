"""A brand's operating model: which system is master of what, which way each field travels,
who answers each kind of ticket and what to check each week and month.

Nothing here is typed per brand. Everything is read from what the console already holds:
the flow registry (source, target, the fields whose owner a flow declares, its description),
the brand's switched-on flows and connections, its mappings, the exception types with the
brand's own choices of team, and its people. Change any of those and the page changes with
it, which is what makes it safe to hand over. The checks are in syncs/operating_checks.py.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from brands.models import Brand, Membership, Team
from connectors.models import Connection
from exceptions.models import OPEN_STATUSES, ExceptionType, TeamOverride, Ticket
from syncs.flows import REGISTRY
from syncs.flows.base import Flow
from syncs.models import AttributeMapping, FlowConfig, StatusMapping
from syncs.operating_checks import Check, operating_checks
from syncs.valuemaps.kinds import ValueKind, system_name
from syncs.valuemaps.models import ValueMap
from syncs.valuemaps.registry import kinds_for_brand

# The exception type whose team is chosen per kind of value map (the kind declares it).
UNMAPPED_VALUE = "unmapped_value"
# Brightpearl is the ERP and, by design, the master of orders, customers, stock and finance:
# it wins a tie between two systems that own as much of one kind of data.
ERP = "brightpearl"
# The kinds of data flows declare (Flow.kind), in words. A kind missing here is shown by its
# code with a capital, so a new flow appears without anyone editing this.
KIND_WORDS = {
    "order": "Orders",
    "contact": "Customers (contacts)",
    "credit": "Refunds (sales credits)",
    "shipment": "Shipments (goods-out notes)",
    "stock": "Stock levels",
    "product": "Products",
}


@dataclass(frozen=True)
class FieldOwner:
    """One field that travels both ways and the system whose copy wins."""

    field: str
    owner: str  # the system's name, "BigCommerce"


@dataclass
class Translation:
    """A mapping the brand keeps: what one system's value becomes in the other."""

    label: str
    source: str
    target: str
    # The kind of value map's code ("" for order statuses and contact attributes).
    code: str
    # The team (its name) that answers its unmapped-value tickets; "" if it raises none.
    team: str
    mapped: int
    url: str
    description: str = ""
    flows: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)

    @property
    def used_by(self) -> list[str]:
        """The switched-on flows that translate through it, by their labels."""
        return [REGISTRY[code].label for code in self.flows if code in REGISTRY]


@dataclass
class FlowLine:
    code: str
    label: str
    description: str
    source: str
    target: str
    enabled: bool
    schedule_minutes: int = 0
    on_webhooks: bool = False
    owners: list[FieldOwner] = field(default_factory=list)
    translations: list[Translation] = field(default_factory=list)

    @property
    def direction(self) -> str:
        return f"{self.source} → {self.target}"

    @property
    def when(self) -> str:
        parts = []
        if self.on_webhooks:
            parts.append(f"as soon as {self.source} reports a change")
        if self.schedule_minutes == 24 * 60:
            parts.append("once a night")
        elif self.schedule_minutes:
            parts.append(f"every {self.schedule_minutes} minutes")
        words = " and ".join(parts) or "only when someone starts it"
        return words[0].upper() + words[1:]


@dataclass
class DataKind:
    """One kind of data (orders, contacts…), its master and the flows that carry it."""

    code: str
    words: str
    master: str
    exceptions: list[FieldOwner]
    flows: list[FlowLine]


@dataclass
class Duty:
    """One exception type as one team meets it at this brand."""

    type: ExceptionType
    chosen_by_brand: bool = False
    usual_team: str = ""
    # For a value-map ticket: the kinds of value this team maps.
    kinds: list[str] = field(default_factory=list)


@dataclass
class TeamDuties:
    code: str
    label: str
    people: list[str]
    duties: list[Duty]
    open_tickets: int
    inbox_url: str


@dataclass
class OperatingModel:
    brand: Brand
    generated: datetime
    systems: list[str]
    kinds: list[DataKind]
    flows: list[FlowLine]
    off: list[FlowLine]
    translations: list[Translation]
    teams: list[TeamDuties]
    checks: list[Check]

    @property
    def weekly(self) -> list[Check]:
        return [c for c in self.checks if c.cadence == "weekly"]

    @property
    def monthly(self) -> list[Check]:
        return [c for c in self.checks if c.cadence == "monthly"]

    @property
    def cadences(self) -> list[tuple[str, list[Check]]]:
        return [("Every week", self.weekly), ("Every month", self.monthly)]


def operating_model(*, brand: Brand) -> OperatingModel:
    """The brand's operating model, read from the registry and the brand's own settings."""
    configs = {c.flow: c for c in FlowConfig.objects.filter(brand=brand)}
    kinds = kinds_for_brand(brand)
    lines = [_flow_line(cls, configs.get(code)) for code, cls in REGISTRY.items()]
    on = [line for line in lines if line.enabled]
    translations = brand_translations(brand, kinds, on)
    by_flow: dict[str, list[Translation]] = defaultdict(list)
    for translation in translations:
        for code in translation.flows:
            by_flow[code].append(translation)
    for line in on:
        line.translations = by_flow.get(line.code, [])
    # A kind of value map no switched-on flow uses raises no ticket here.
    used = {t.code for t in translations if t.flows}
    teams = team_duties(brand, [k for k in kinds if k.code in used])
    return OperatingModel(
        brand=brand,
        generated=timezone.now(),
        systems=[
            system_name(s)
            for s in Connection.objects.filter(brand=brand)
            .order_by("system")
            .values_list("system", flat=True)
        ],
        kinds=data_kinds(on),
        flows=on,
        off=[line for line in lines if not line.enabled],
        translations=translations,
        teams=teams,
        checks=operating_checks(
            brand=brand,
            flows=[REGISTRY[line.code] for line in on],
            unstaffed=[t.label for t in teams if t.duties and not t.people],
        ),
    )


def _flow_line(cls: type[Flow], config: FlowConfig | None) -> FlowLine:
    return FlowLine(
        code=cls.code,
        label=cls.label,
        description=cls.description,
        source=system_name(cls.source),
        target=system_name(cls.target),
        enabled=bool(config and config.enabled),
        schedule_minutes=config.schedule_minutes if config else 0,
        on_webhooks=bool(cls.webhook_events),
        owners=[FieldOwner(f, system_name(s)) for f, s in cls.owners.items()],
    )


def data_kinds(flows: list[FlowLine]) -> list[DataKind]:
    """Per kind of data, its master: the system that owns the most of what the flows carry
    (a one-way flow's source owns all it carries; a flow that declares owners gives each
    declared field to its owner), the ERP on a tie; and the fields another system owns."""
    grouped: dict[str, list[FlowLine]] = defaultdict(list)
    for line in flows:
        grouped[REGISTRY[line.code].kind].append(line)
    kinds = []
    for code, lines in grouped.items():
        votes: Counter[str] = Counter()
        fields: list[FieldOwner] = []
        for line in lines:
            cls = REGISTRY[line.code]
            if cls.owners:
                votes.update(cls.owners.values())
                fields.extend(line.owners)
            else:
                votes[cls.source] += 1
        master = max(votes, key=lambda s: (votes[s], s == ERP, s))
        exceptions = list(dict.fromkeys(f for f in fields if f.owner != system_name(master)))
        kinds.append(
            DataKind(
                code=code,
                words=KIND_WORDS.get(code, code.replace("_", " ").capitalize()),
                master=system_name(master),
                exceptions=exceptions,
                flows=lines,
            )
        )
    return kinds


def brand_translations(
    brand: Brand, kinds: list[ValueKind], flows: list[FlowLine]
) -> list[Translation]:
    """The mappings the brand keeps: order statuses and contact attributes (for Ometria) and
    each kind of value map whose two systems it is connected to."""
    on = {line.code for line in flows}
    to_ometria = [line for line in flows if REGISTRY[line.code].target == "ometria"]
    found: list[Translation] = []
    if to_ometria:
        status_type = ExceptionType.objects.filter(code="unmapped_status").first()
        found.append(
            Translation(
                code="",
                label="Order statuses",
                source="Brightpearl",
                target="Ometria",
                team=Team(status_type.team_for(brand)).label if status_type else "",
                mapped=StatusMapping.objects.filter(brand=brand).count(),
                url=reverse("mappings:statuses", args=[brand.slug]),
                description="Each Brightpearl order status beside the Ometria order status "
                "and lifecycle stage its orders get. An unmapped status holds its orders.",
                flows=[
                    line.code
                    for line in to_ometria
                    if REGISTRY[line.code].kind in ("order", "credit")
                ],
            )
        )
        attributes = list(AttributeMapping.objects.filter(brand=brand))
        found.append(
            Translation(
                code="",
                label="Contact attributes",
                source="Brightpearl",
                target="Ometria",
                # An unmapped tag raises nothing: it simply does not travel.
                team="",
                mapped=len(attributes),
                url=reverse("mappings:attributes", args=[brand.slug]),
                description="Only these tags and fields of a contact travel; everything "
                "else stays in Brightpearl.",
                flows=[line.code for line in to_ometria if REGISTRY[line.code].kind == "contact"],
                details=[
                    f"{a.get_source_display()} “{a.source_name}” → {a.ometria_attribute}"
                    for a in attributes
                ],
            )
        )
    mapped = dict(
        ValueMap.objects.filter(brand=brand)
        .values("kind")
        .annotate(n=Count("pk"))
        .values_list("kind", "n")
    )
    for kind in kinds:
        found.append(
            Translation(
                code=kind.code,
                label=kind.label,
                source=system_name(kind.source_system),
                target=system_name(kind.target_system),
                team=Team(kind.team).label,
                mapped=mapped.get(kind.code, 0),
                url=reverse("mappings:values", args=[brand.slug, kind.code]),
                description=kind.description,
                flows=[code for code in kind.flows if code in on],
            )
        )
    return found


def team_duties(brand: Brand, kinds: list[ValueKind]) -> list[TeamDuties]:
    """Each team with its people at this brand, its open tickets and the types it answers:
    the brand's own choice of team where it made one, else the type's (and, for a value
    with no mapping, the team each kind of value map names)."""
    overrides = dict(
        TeamOverride.objects.filter(brand=brand).values_list("exception_type_id", "team")
    )
    duties: dict[str, list[Duty]] = defaultdict(list)
    for ex_type in ExceptionType.objects.order_by("title"):
        chosen = overrides.get(ex_type.pk)
        if ex_type.code == UNMAPPED_VALUE:
            # Raised per kind of value map, for the team the kind names (unless the brand
            # chose one team for them all); none when no switched-on flow uses one.
            per_team: dict[str, list[str]] = defaultdict(list)
            for kind in kinds:
                per_team[chosen or kind.team or ex_type.owner_team].append(kind.label)
            for team, labels in per_team.items():
                duties[team].append(
                    Duty(
                        type=ex_type,
                        kinds=labels,
                        chosen_by_brand=bool(chosen),
                        usual_team="the team each mapping names",
                    )
                )
            continue
        team = chosen or ex_type.owner_team
        duties[team].append(
            Duty(
                type=ex_type,
                chosen_by_brand=bool(chosen) and chosen != ex_type.owner_team,
                usual_team=Team(ex_type.owner_team).label,
            )
        )
    people: dict[str, list[str]] = defaultdict(list)
    for membership in (
        Membership.objects.filter(brand=brand, user__is_active=True)
        .select_related("user")
        .order_by("user__first_name", "user__username")
    ):
        user = membership.user
        people[membership.team].append(user.get_full_name() or user.get_username())
    open_counts = dict(
        Ticket.objects.filter(brand=brand, status__in=OPEN_STATUSES)
        .values("team")
        .annotate(n=Count("pk"))
        .values_list("team", "n")
    )
    inbox = reverse("exceptions:inbox")
    return [
        TeamDuties(
            code=team.value,
            label=team.label,
            people=people.get(team.value, []),
            duties=duties.get(team.value, []),
            open_tickets=open_counts.get(team.value, 0),
            inbox_url=f"{inbox}?brand={brand.slug}&team={team.value}&status=open",
        )
        for team in Team
        if duties.get(team.value) or people.get(team.value)
    ]
