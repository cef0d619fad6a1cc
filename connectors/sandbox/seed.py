"""The deterministic demo seed, and the fixed sandbox accounts.

One fixed RNG seed and one fixed base date (never now()), so the same arguments give
byte-identical data. `--orders N` scales orders, and contacts, goods-out notes, credits and
storefront orders with them. The special cases every flow must handle are at fixed, documented
ids; `facts()` lists them and discovery (GET /_sandbox/) shows them under "seed".
"""

from __future__ import annotations

import gc
import hashlib
import json
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from connectors.bigcommerce import fake as bc
from connectors.brightpearl import fake as bp
from connectors.mailchimp import fake as mc
from connectors.salesforce.fake import access_token
from connectors.sandbox.core import Account, parse_time
from connectors.sandbox.state import Rec

RNG_SEED = 20250106
BASE = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
SPAN = timedelta(days=120)  # orders are spread over this period after BASE
DEFAULT_ORDERS = 300
SECOND_ORDERS = 20
BRANDS = ("demo", "second")

# --- accounts ---------------------------------------------------------------------------------


def _h(text: str, length: int = 24) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def make_accounts(brand: str) -> list[Account]:
    """One account per vendor for a brand, with fixed sandbox-only credentials."""
    list_id = _h(f"mailchimp-list:{brand}", 10)
    store_hash = "s" + _h(f"bigcommerce:{brand}", 9)
    org = "00D" + _h(f"salesforce-org:{brand}", 12).upper()
    salesforce = Account(
        "salesforce",
        org,
        brand,
        {
            "client_id": "3MVG9sandbox." + _h(f"sf-client:{brand}", 32),
            "client_secret": _h(f"sf-secret:{brand}", 40).upper(),
            "user_id": "005" + _h(f"sf-user:{brand}", 12).upper(),
            "token_generation": "0",
        },
    )
    salesforce.creds["access_token"] = access_token(salesforce)
    return [
        Account(
            "brightpearl",
            brand,
            brand,
            {
                "app_ref": f"{brand}_sandbox",
                "account_token": _h(f"bp-token:{brand}", 32),
                "dev_ref": "sandboxdev",
                "oauth_token": _h(f"bp-oauth:{brand}", 40),
            },
        ),
        Account(
            "ometria", _h(f"ometria:{brand}", 8), brand, {"api_key": _h(f"om-key:{brand}", 32)}
        ),
        Account(
            "mailchimp",
            list_id,
            brand,
            {
                "api_key": hashlib.md5(f"mailchimp:{brand}".encode()).hexdigest() + "-us1",
                "list_id": list_id,
                "list_name": f"{brand.title()} customers",
                "created": "2024-06-01T09:00:00+00:00",
            },
        ),
        Account(
            "bigcommerce",
            store_hash,
            brand,
            {
                "access_token": _h(f"bc-token:{brand}", 31),
                "client_id": _h(f"bc-client:{brand}", 31),
                "client_secret": _h(f"bc-secret:{brand}", 40),
                "store_id": str(1_000_000 + int(_h(f"bc-store:{brand}", 6), 16) % 9_000_000),
            },
        ),
        salesforce,
    ]


def account_rec(account: Account) -> Rec:
    data = {
        "vendor": account.vendor,
        "code": account.code,
        "brand": account.brand,
        "creds": account.creds,
    }
    return Rec(account.vendor, account.code, "account", account.code, json.dumps(data))


# --- reference data ------------------------------------------------------------------------

# (id, name, type, state, colour). 24 and 25 are custom: 25 is the one a default mapping will
# not know. 10 and 12 are the credit statuses.
STATUSES = (
    (1, "Draft / Quote", "SO", "draft", "#E7E6E4"),
    (2, "New web order", "SO", "open", "#8FD3FE"),
    (3, "New phone order", "SO", "open", "#8FD3FE"),
    (20, "Awaiting payment", "SO", "open", "#FFD966"),
    (24, "Fraud hold", "SO", "open", "#E06666"),
    (25, "Awaiting gift wrap", "SO", "open", "#C27BA0"),
    (21, "Ready to ship", "SO", "open", "#93C47D"),
    (22, "Partially shipped", "SO", "open", "#6AA84F"),
    (23, "Dispatched", "SO", "complete", "#38761D"),
    (4, "Invoiced", "SO", "complete", "#274E13"),
    (26, "Completed", "SO", "complete", "#0B5394"),
    (5, "Cancelled", "SO", "cancelled", "#999999"),
    (6, "Pending PO", "PO", "open", "#F6B26B"),
    (10, "Sales credit", "SC", "open", "#A4C2F4"),
    (11, "Credit complete", "SC", "complete", "#3C78D8"),
    (12, "Purchase credit", "PC", "open", "#D5A6BD"),
)
CUSTOM_STATUSES = {24, 25}
CREDIT_OPEN_STATUS = 10  # "Sales credit": raised, not yet paid back
CREDIT_COMPLETE_STATUS = 11  # "Credit complete" (state "complete"): what the refunds flow sends
UNKNOWN_STATUS = 25
FRAUD_STATUS = 24
CANCELLED_STATUS = 5
# Sales-order statuses and how often the demo uses each (weights).
ORDER_MIX = (
    (26, 20), (23, 14), (4, 8), (22, 8), (21, 8), (2, 10), (3, 5),
    (20, 6), (5, 9), (24, 4), (25, 3), (1, 5),
)  # fmt: skip
INVOICED = {4, 22, 23, 26}
SHIPPED_ALL = {4, 23, 26}
CLOSED = {5, 26}  # statuses whose orders carry closedOn
TAGS = (
    (1, "Loyalty: Gold", "#D4AF37"),
    (2, "Loyalty: Silver", "#C0C0C0"),
    (3, "Loyalty: Bronze", "#CD7F32"),
    (16, "VIP", "#ff0000"),
    (23, "Wholesale", "#0000ff"),
)
WAREHOUSES = ({"id": 1, "name": "Default Warehouse"}, {"id": 2, "name": "Secondary Warehouse"})

FIRST = ("Alex", "Sam", "Jamie", "Morgan", "Taylor", "Jordan", "Casey", "Riley", "Avery",
         "Quinn", "Harper", "Rowan", "Ellis", "Kit", "Robin", "Sasha", "Frankie", "Charlie",
         "Drew", "Emery")  # fmt: skip
LAST = ("Morgan", "Patel", "Smith", "Jones", "Okafor", "Nguyen", "Williams", "Brown", "Kowalski",
        "Garcia", "Evans", "Murphy", "Khan", "Clarke", "Rossi", "Hughes", "Silva", "Walsh",
        "Novak", "Bennett")  # fmt: skip
ITEMS = ("Merino Tee", "Linen Shirt", "Rain Jacket", "Wool Beanie", "Canvas Tote", "Denim Jeans",
         "Hiking Socks", "Fleece Hoodie", "Leather Belt", "Silk Scarf")  # fmt: skip
COLOURS = ("Black", "Navy", "Olive", "Sand")

# Special ids (demo brand).
DUP_EMAIL_CONTACTS = (201, 202)
DUP_EMAIL = "alex.morgan@example.com"
BAD_EMAIL_CONTACT = 203
BAD_EMAIL = "jamie..lee@example"  # Brightpearl keeps it; Ometria rejects it asynchronously
VIP_CONTACT = 204
WHOLESALE_CONTACT = 205
COMPLIANCE_CONTACT = 206  # in Mailchimp "compliance state": every upsert is refused
UNSUBSCRIBED_CONTACT = 207
BC_ONLY_SKU = "BC-ONLY-001"  # sold on BigCommerce, unknown to Brightpearl


class _Seed:
    """Builds one brand's records; keeps the facts other engineers write tests against."""

    def __init__(
        self,
        brand: str,
        orders: int,
        accounts: list[Account],
        sink: Callable[[list[Rec]], None] | None = None,
    ) -> None:
        self.brand = brand
        self.sink = sink
        self.n_orders = orders
        self.rng = random.Random(f"{RNG_SEED}:{brand}")
        self.accounts = {a.vendor: a for a in accounts}
        self.recs: list[Rec] = []
        self.facts: dict[str, Any] = {}
        self.demo = brand == "demo"

    def emit(self, rec: Rec) -> None:
        """Collect a record; hand full batches to the sink so the writer can start early."""
        self.recs.append(rec)
        if self.sink is not None and len(self.recs) >= 5000:
            self.flush()

    def flush(self) -> None:
        if self.sink is not None and self.recs:
            self.sink(self.recs)
            self.recs = []

    # -- Brightpearl ------------------------------------------------------------------------

    def brightpearl_reference(self) -> None:
        code = self.accounts["brightpearl"].code
        statuses = [s for s in STATUSES if self.demo or s[0] not in CUSTOM_STATUSES]
        self.statuses = {}
        for sort, (sid, name, type_code, state, colour) in enumerate(statuses):
            doc = bp.order_status_doc(sid, name, type_code, sort, state, colour)
            self.statuses[sid] = doc
            self.emit(bp.status_rec(code, doc))
        for warehouse in WAREHOUSES:
            self.emit(bp.simple_rec(code, "warehouse", warehouse["id"], warehouse))
        for tag_id, name, colour in TAGS:
            doc = {"tagId": tag_id, "tagName": name, "tagParentId": 0, "tagColor": colour}
            self.emit(bp.simple_rec(code, "tag", tag_id, doc))

    def brightpearl_products(self) -> None:
        code = self.accounts["brightpearl"].code
        self.products = []
        first = 1001 if self.demo else 2001
        count = 40 if self.demo else 10
        for n in range(count):
            item, colour = ITEMS[n % len(ITEMS)], COLOURS[(n // len(ITEMS)) % len(COLOURS)]
            pid = first + n
            sku = f"{item.split()[-1][:4].upper()}-{colour[:3].upper()}-{pid}"
            price = Decimal(8 + (n * 37) % 110) + Decimal("0.99") - Decimal(1)
            doc = bp.product_doc(
                product_id=pid, sku=sku, name=f"{item} {colour}", created=BASE - timedelta(days=200)
            )
            self.products.append(
                {"id": pid, "sku": sku, "name": f"{item} {colour}", "price": price}
            )
            self.emit(bp.product_rec(code, doc))
            levels = {
                1: _level(self.rng.randint(0, 120), self.rng.randint(0, 10)),
                2: _level(self.rng.randint(0, 60), self.rng.randint(0, 5)),
            }
            self.emit(bp.availability_rec(code, pid, bp.availability_doc(levels)))
        self.facts["product_ids"] = [first, first + count - 1]
        self.facts["warehouse_ids"] = [w["id"] for w in WAREHOUSES]

    def brightpearl_contacts(self) -> None:
        code = self.accounts["brightpearl"].code
        count = max(60, self.n_orders // 3) if self.demo else 10
        first_id = 201 if self.demo else 301
        self.contacts: list[dict[str, Any]] = []
        for n in range(count):
            cid = first_id + n
            first, last = FIRST[n % len(FIRST)], LAST[(n * 7) % len(LAST)]
            email = f"{first}.{last}.{cid}@example.com".lower()
            tags: list[int] = []
            group = "Retail"
            if n % 10 == 0:
                tags.append(1)
            elif n % 10 in (1, 2):
                tags.append(2)
            elif n % 10 in (3, 4, 5):
                tags.append(3)
            if n % 13 == 4:
                tags.append(16)
            if n % 11 == 4:
                group = "Wholesale"
            if self.demo:
                if cid in DUP_EMAIL_CONTACTS:
                    first, last, email = "Alex", "Morgan", DUP_EMAIL
                elif cid == BAD_EMAIL_CONTACT:
                    email = BAD_EMAIL
                elif cid == VIP_CONTACT:
                    tags = [1, 16]
                elif cid == WHOLESALE_CONTACT:
                    tags, group = [], "Wholesale"
            if group == "Wholesale" and 23 not in tags:
                tags.append(23)
            created = BASE - timedelta(days=300 - (n % 250))
            doc = bp.contact_doc(
                contact_id=cid,
                first=first,
                last=last,
                email=email,
                phone=f"07700 9{cid % 100000:05d}",
                tags=sorted(tags),
                customer_group=group,
                created=created,
                updated=created + timedelta(days=30),
                company=f"{last} Trading Ltd" if group == "Wholesale" else "",
                price_list_id=2 if group == "Wholesale" else 1,
            )
            self.emit(bp.contact_rec(code, doc))
            tier = {1: "Gold", 2: "Silver", 3: "Bronze"}
            loyalty = next((tier[t] for t in tags if t in tier), "")
            custom = {"PCF_LOYALTY": loyalty, "PCF_BIRTHMON": f"{1 + n % 12:02d}"}
            self.emit(bp.simple_rec(code, "contact_custom", cid, custom))
            self.contacts.append(
                {
                    "contactId": cid,
                    "first": first,
                    "last": last,
                    "name": f"{first} {last}",
                    "email": email,
                    "phone": f"07700 9{cid % 100000:05d}",
                    "line1": f"{1 + n % 90} High Street",
                    "city": "London",
                    "postcode": "EC1A 1AA",
                    "company": doc["organisation"].get("name", ""),
                    "group": group,
                }
            )
            summary = self.contacts[-1]
            summary["parties"] = {
                "customer": bp.party(summary),
                "delivery": bp.party(summary, with_id=False),
                "billing": bp.party(summary),
            }
        self.facts["contact_ids"] = [first_id, first_id + count - 1]

    def brightpearl_orders(self) -> None:
        code = self.accounts["brightpearl"].code
        rng = self.rng
        first_id = 10001 if self.demo else 20001
        mix_ids = [s for s, _ in ORDER_MIX if s in self.statuses]
        weights = [w for s, w in ORDER_MIX if s in self.statuses]
        note_id = 50001 if self.demo else 60001
        credit_id = first_id + self.n_orders
        # The first shipped orders came from BigCommerce: they carry the BC order id as
        # externalRef and are the BC orders' Brightpearl twins.
        self.bc_count = max(12, self.n_orders // 10) if self.demo else 3
        self.linked: list[dict[str, Any]] = []
        by_status: dict[int, list[int]] = {}
        partial: dict[str, Any] | None = None
        unshipped_note = None
        credits: list[tuple[int, int, bool]] = []  # (order, credit, complete)
        step = SPAN / max(self.n_orders, 1)
        for n in range(self.n_orders):
            oid = first_id + n
            # The first orders take every status in turn, so even a tiny seed has each one.
            status_id = mix_ids[n] if n < len(mix_ids) else rng.choices(mix_ids, weights)[0]
            contact = self.contacts[(n * 7) % len(self.contacts)]
            rows = []
            for r in range(1 + (n % 3 if n < 36 else rng.randint(0, 2))):
                product = self.products[rng.randrange(len(self.products))]
                rows.append(
                    {
                        "rowId": oid * 10 + r + 1,
                        "productId": product["id"],
                        "productName": product["name"],
                        "sku": product["sku"],
                        "quantity": 1 + rng.randint(0, 2),
                        "price": product["price"],
                        "taxRate": 20,
                    }
                )
            placed = BASE + step * n
            notes: list[tuple[list[dict[str, Any]], bool]] = []
            if status_id == 21:
                notes = [(rows, False)]
            elif status_id == 22:
                cut = max(1, len(rows) - 1) if len(rows) > 1 else 1
                notes = [(rows[:cut], True), (rows[cut:] or rows[:1], False)]
            elif status_id in SHIPPED_ALL:
                split = len(rows) > 1 and n % 3 == 0
                notes = [(rows[:1], True), (rows[1:], True)] if split else [(rows, True)]
            shipped_notes = sum(1 for _, s in notes if s)
            if not notes or not shipped_notes:
                shipping = "SNS"
            else:
                shipping = "ASS" if shipped_notes == len(notes) else "SPS"
            updated = placed + timedelta(hours=2 + n % 20, days=2 * shipped_notes)
            linked = status_id in SHIPPED_ALL and len(self.linked) < self.bc_count // 2
            channel = 2 if linked else 1
            if status_id in (1, 5):
                payment = "NOT_APPLICABLE"
            else:
                payment = "UNPAID" if status_id == 20 else "PAID"
            doc = bp.order_doc(
                order_id=oid,
                type_code="SO",
                status=self.statuses[status_id],
                contact=contact,
                rows=rows,
                placed=placed,
                updated=updated,
                invoice_ref=f"SI-{oid}" if status_id in INVOICED else "",
                shipping_status=shipping,
                payment_status=payment,
                stock_status="SOA" if notes else "SON",
                allocation_status="AAA" if notes or status_id == 25 else "ANA",
                warehouse_id=1,
                channel_id=channel,
                reference=f"#{oid}",
                external_ref=str(101 + len(self.linked)) if linked else "",
                price_list_id=2 if contact["group"] == "Wholesale" else 1,
                version=2 + shipped_notes,
                closed=updated if status_id in CLOSED else None,
            )
            self.emit(bp.order_rec(code, doc, placed, updated))
            if linked:
                self.linked.append(doc)
            by_status.setdefault(status_id, []).append(oid)
            ids_for_order = []
            for seq, (note_rows, shipped) in enumerate(notes, start=1):
                warehouse = 1 if seq % 2 else 2
                created = placed + timedelta(days=1)
                shipped_on = placed + timedelta(days=1 + seq) if shipped else None
                gon = bp.gon_doc(
                    note_id=note_id,
                    order_id=oid,
                    warehouse_id=warehouse,
                    rows={
                        str(r["rowId"]): [
                            {
                                "productId": r["productId"],
                                "quantity": r["quantity"],
                                "locationId": warehouse,
                            }
                        ]
                        for r in note_rows
                    },
                    created=created,
                    sequence=seq,
                    shipped_on=shipped_on,
                    reference=f"TRK{note_id}" if shipped else "",
                    event_version=note_id * 3,
                )
                self.emit(bp.gon_rec(code, note_id, gon, channel, created, shipped_on))
                ids_for_order.append((note_id, shipped))
                if not shipped and unshipped_note is None and status_id == 21:
                    unshipped_note = note_id
                note_id += 1
            if status_id == 22 and partial is None:
                partial = {
                    "order_id": oid,
                    "shipped_note_ids": [i for i, s in ids_for_order if s],
                    "unshipped_note_ids": [i for i, s in ids_for_order if not s],
                }
            if status_id in SHIPPED_ALL and n % 6 == 0:
                row = rows[0]
                raised = placed + timedelta(days=10)
                # Every other credit has been paid back (status 11, completed 2-5 days after it
                # was raised, which updatedOn shows); the rest are still open. No RNG draw, so
                # the rest of the seed is unchanged.
                complete = len(credits) % 2 == 0
                status = self.statuses[CREDIT_COMPLETE_STATUS if complete else CREDIT_OPEN_STATUS]
                credit = bp.credit_doc(
                    credit_id=credit_id,
                    order=doc,
                    status=status,
                    rows=[{**row, "name": row["productName"], "quantity": 1}],
                    created=raised,
                    updated=raised + timedelta(days=2 + len(credits) % 4, hours=3)
                    if complete
                    else None,
                )
                for rec in bp.credit_recs(code, credit, doc, status):
                    self.emit(rec)
                credits.append((oid, credit_id, complete))
                credit_id += 1
        self.facts.update(
            {
                "order_ids": [first_id, first_id + self.n_orders - 1] if self.n_orders else [],
                "orders_by_status": {str(k): len(v) for k, v in sorted(by_status.items())},
                "first_order_by_status": {str(k): v[0] for k, v in sorted(by_status.items())},
                "goods_out_note_ids": [50001 if self.demo else 60001, note_id - 1],
                "sales_credit_ids": [c for _, c, _ in credits],
                "credited_order_ids": [o for o, _, _ in credits],
                "completed_credit_ids": [c for _, c, done in credits if done],
                "open_credit_ids": [c for _, c, done in credits if not done],
                "partial_shipment": partial,
                "unshipped_note_id": unshipped_note,
                "uninvoiced_order_id": (by_status.get(2) or by_status.get(3) or [None])[0],
            }
        )

    # -- BigCommerce ------------------------------------------------------------------------

    def bigcommerce(self) -> None:
        store_hash = self.accounts["bigcommerce"].code
        rng = self.rng
        variants: dict[str, dict[str, Any]] = {}
        catalog = [
            *self.products,
            {
                "id": 0,
                "sku": BC_ONLY_SKU,
                "name": "Storefront Gift Card",
                "price": Decimal("25.00"),
            },
        ]
        for n, item in enumerate(catalog):
            stock = rng.randint(0, 80)
            product, variant = bc.catalog_docs(
                product_id=111 + n,
                variant_id=1111 + n,
                sku=item["sku"],
                name=item["name"],
                price=item["price"],
                stock=stock,
            )
            for rec in bc.catalog_recs(store_hash, product, variant):
                self.emit(rec)
            self.emit(bc.inventory_rec(store_hash, 1, variant, stock))
            variants[item["sku"]] = variant
        count = self.bc_count
        linked_count = len(self.linked)
        linked: dict[str, int] = {}
        facts: dict[str, Any] = {"location_ids": [1], "unknown_sku": BC_ONLY_SKU}
        for n in range(count):
            order_id = 101 + n
            placed = BASE + SPAN * n / count + timedelta(hours=1)
            if n < linked_count:
                bp_order = self.linked[n]
                lines = [
                    {
                        "sku": r["productSku"],
                        "name": r["productName"],
                        "quantity": int(Decimal(r["quantity"]["magnitude"])),
                        "price": Decimal(r["productPrice"]["value"]),
                        "product_id": variants[r["productSku"]]["product_id"],
                        "variant_id": variants[r["productSku"]]["id"],
                    }
                    for r in bp_order["orderRows"].values()
                ]
                if n == 1:
                    # The storefront charged a different price from the one Brightpearl holds.
                    lines[0]["price"] = lines[0]["price"] + Decimal("1.00")
                    facts["total_mismatch_order_id"] = order_id
                    facts["total_mismatch_brightpearl_order_id"] = bp_order["id"]
                customer = bp_order["parties"]["customer"]
                first, _, last = customer["addressFullName"].partition(" ")
                person = {
                    "id": 0,
                    "first_name": first,
                    "last_name": last,
                    "email": customer["email"],
                }
                status = 10
                shipping = Decimal("0")
                linked[str(order_id)] = bp_order["id"]
                placed = parse_time(bp_order["placedOn"]) - timedelta(minutes=5)
            else:
                picks = [self.products[rng.randrange(len(self.products))] for _ in range(1 + n % 2)]
                lines = [
                    {
                        "sku": p["sku"],
                        "name": p["name"],
                        "quantity": 1 + rng.randint(0, 1),
                        "price": p["price"],
                        "product_id": variants[p["sku"]]["product_id"],
                        "variant_id": variants[p["sku"]]["id"],
                    }
                    for p in picks
                ]
                contact = self.contacts[(n * 5) % len(self.contacts)]
                person = {
                    "id": 0,
                    "first_name": contact["first"],
                    "last_name": contact["last"],
                    "email": contact["email"],
                }
                status = 11
                shipping = Decimal("4.95")
                if n == linked_count:
                    lines.append(
                        {
                            "sku": BC_ONLY_SKU,
                            "name": "Storefront Gift Card",
                            "quantity": 1,
                            "price": Decimal("25.00"),
                            "product_id": variants[BC_ONLY_SKU]["product_id"],
                            "variant_id": variants[BC_ONLY_SKU]["id"],
                        }
                    )
                    facts["unknown_sku_order_id"] = order_id
            payment = "Stripe" if n % 3 else "PayPal"
            if n == linked_count + 1 and self.demo:
                payment = "Klarna"  # a payment method the default mapping does not know
                facts["unmapped_payment_order_id"] = order_id
                facts["unmapped_payment_method"] = payment
            order, products, addresses = bc.order_docs(
                store_hash=store_hash,
                order_id=order_id,
                customer=person,
                lines=lines,
                status_id=status,
                created=placed,
                modified=placed + timedelta(hours=3),
                payment_method=payment,
                shipping=shipping,
            )
            for rec in bc.order_recs(store_hash, order, products, addresses):
                self.emit(rec)
        facts["order_ids"] = [101, 100 + count]
        facts["linked_orders"] = linked
        self.facts["bigcommerce"] = facts

    # -- Mailchimp --------------------------------------------------------------------------

    def mailchimp(self) -> None:
        list_id = self.accounts["mailchimp"].code
        seen: set[str] = set()
        web_id = 0
        unsubscribed, compliance = [], None
        for n, contact in enumerate(self.contacts):
            cid = contact["contactId"]
            email = contact["email"]
            if n % 4 == 3 or email in seen or not mc.valid_email(email):
                continue
            seen.add(email)
            status = "subscribed"
            if n % 9 == 0 or cid == UNSUBSCRIBED_CONTACT:
                status = "unsubscribed"
            elif n % 31 == 7:
                status = "cleaned"
            is_compliance = self.demo and cid == COMPLIANCE_CONTACT
            if is_compliance:
                status, compliance = "unsubscribed", email
            web_id += 1
            doc = mc.member_doc(
                list_id=list_id,
                email=email,
                status=status,
                first=contact["first"],
                last=contact["last"],
                web_id=web_id,
                changed=BASE - timedelta(days=60 - n % 50),
                reason="manual" if status == "unsubscribed" else "",
            )
            self.emit(mc.member_rec(list_id, doc, compliance=is_compliance))
            if status == "unsubscribed" and not is_compliance:
                unsubscribed.append(email)
        web_id += 1
        doc = mc.member_doc(
            list_id=list_id,
            email=f"newsletter.only@{self.brand}.example.com",
            status="subscribed",
            first="News",
            last="Reader",
            web_id=web_id,
            changed=BASE - timedelta(days=90),
        )
        self.emit(mc.member_rec(list_id, doc))
        self.facts["mailchimp"] = {
            "list_id": list_id,
            "member_count": web_id,
            "compliance_email": compliance,
            "unsubscribed_emails": unsubscribed[:10],
            "not_in_brightpearl_email": doc["email_address"],
        }

    def build(self) -> None:
        self.brightpearl_reference()
        self.brightpearl_products()
        self.brightpearl_contacts()
        self.brightpearl_orders()
        self.bigcommerce()
        self.mailchimp()
        self.flush()


def _level(on_hand: int, allocated: int) -> dict[str, int]:
    return {
        "inStock": on_hand + allocated,
        "onHand": on_hand,
        "allocated": allocated,
        "inTransit": 0,
    }


def reference_only(brand: str, accounts: list[Account]) -> list[Rec]:
    """What every account has even when empty: statuses, warehouses, tags."""
    seed = _Seed(brand, 0, accounts)
    seed.brightpearl_reference()
    return seed.recs


# Small seeds are kept in memory, so the tests' reset before every test is just the writes.
_cache: dict[tuple[str, int], tuple[list[list[Rec]], dict[str, Any]]] = {}
CACHE_MAX_ORDERS = 5000


def generate(
    kind: str = "demo", orders: int | None = None, sink: Callable[[list[Rec]], None] | None = None
) -> tuple[list[Rec], dict[str, Any]]:
    """Every record of a seed, and its facts.

    With a sink, records are handed over in batches as they are made (and the returned list is
    empty), so a writer thread can store them while the rest is generated.
    """
    n_orders = DEFAULT_ORDERS if orders is None else int(orders)
    if kind not in ("demo", "none"):
        raise ValueError("seed must be 'demo' or 'none'")
    key = (kind, n_orders)
    cached = _cache.get(key)
    if cached is None:
        batches: list[list[Rec]] = []
        keep = n_orders <= CACHE_MAX_ORDERS

        def collect(batch: list[Rec]) -> None:
            if keep:
                batches.append(batch)
            if sink is not None:
                sink(batch)

        # Hundreds of thousands of long-lived dicts: the cyclic GC would rescan them over and
        # over while they are built.
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            facts = _generate(kind, n_orders, collect)
        finally:
            if gc_was_enabled:
                gc.enable()
        if keep:
            _cache[key] = (batches, facts)
        if sink is not None:
            return [], facts
        return [rec for batch in batches for rec in batch], facts
    batches, facts = cached
    if sink is not None:
        for batch in batches:
            sink(batch)
        return [], facts
    return [rec for batch in batches for rec in batch], facts


def _generate(kind: str, n_orders: int, sink: Callable[[list[Rec]], None]) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "kind": kind,
        "orders": n_orders if kind == "demo" else 0,
        "base_date": BASE.isoformat(),
        "rng_seed": RNG_SEED,
    }
    for brand in BRANDS:
        accounts = make_accounts(brand)
        sink([account_rec(a) for a in accounts])
        if kind == "none":
            sink(reference_only(brand, accounts))
            continue
        seed = _Seed(brand, n_orders if brand == "demo" else SECOND_ORDERS, accounts, sink)
        seed.build()
        facts[brand] = seed_facts(seed)
    return facts


def seed_facts(seed: _Seed) -> dict[str, Any]:
    f = seed.facts
    brightpearl = {
        k: f[k]
        for k in (
            "order_ids", "contact_ids", "product_ids", "warehouse_ids", "goods_out_note_ids",
            "sales_credit_ids", "credited_order_ids", "completed_credit_ids", "open_credit_ids",
            "orders_by_status", "first_order_by_status",
            "partial_shipment", "unshipped_note_id", "uninvoiced_order_id",
        )
    }  # fmt: skip
    brightpearl["statuses"] = {doc["name"]: sid for sid, doc in seed.statuses.items()}
    brightpearl["tags"] = {name: tid for tid, name, _ in TAGS}
    brightpearl["credit_open_status_id"] = CREDIT_OPEN_STATUS
    brightpearl["credit_complete_status_id"] = CREDIT_COMPLETE_STATUS
    if seed.demo:
        brightpearl.update(
            {
                "unknown_status_id": UNKNOWN_STATUS,
                "fraud_status_id": FRAUD_STATUS,
                "cancelled_status_id": CANCELLED_STATUS,
                "custom_status_ids": sorted(CUSTOM_STATUSES),
                "duplicate_email_contact_ids": list(DUP_EMAIL_CONTACTS),
                "duplicate_email": DUP_EMAIL,
                "bad_email_contact_id": BAD_EMAIL_CONTACT,
                "bad_email": BAD_EMAIL,
                "vip_contact_id": VIP_CONTACT,
                "wholesale_contact_id": WHOLESALE_CONTACT,
                "compliance_contact_id": COMPLIANCE_CONTACT,
                "unsubscribed_contact_id": UNSUBSCRIBED_CONTACT,
            }
        )
    else:
        brightpearl["cancelled_status_id"] = CANCELLED_STATUS
    return {
        "brightpearl": brightpearl,
        "mailchimp": f["mailchimp"],
        "bigcommerce": f["bigcommerce"],
    }


def new_brand_recs(brand: str) -> tuple[list[Account], list[Rec]]:
    """Empty accounts for one more brand (control API), with the reference data."""
    accounts = make_accounts(brand)
    return accounts, [account_rec(a) for a in accounts] + reference_only(brand, accounts)
