"""The demo seed's Brightpearl account: statuses, warehouses, tags, products, contacts, orders."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from connectors.brightpearl import fake as bp
from connectors.sandbox.seed.base import SeedBase
from connectors.sandbox.seed.reference import (
    BAD_EMAIL,
    BAD_EMAIL_CONTACT,
    BASE,
    CLOSED,
    COLOURS,
    CREDIT_COMPLETE_STATUS,
    CREDIT_OPEN_STATUS,
    CUSTOM_STATUSES,
    CUSTOMER_CUSTOM_FIELDS,
    DUP_EMAIL,
    DUP_EMAIL_CONTACTS,
    FIRST,
    INVOICED,
    ITEMS,
    LAST,
    ORDER_MIX,
    SHIPPED_ALL,
    SPAN,
    STATUSES,
    TAGS,
    VIP_CONTACT,
    WAREHOUSES,
    WHOLESALE_CONTACT,
)


class BrightpearlSeed(SeedBase):
    """Brightpearl's records; the storefronts are built from them."""

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
        for field_id, field_code, name, kind in CUSTOMER_CUSTOM_FIELDS:
            doc = {"id": field_id, "code": field_code, "name": name, "customFieldType": kind,
                   "required": False}  # fmt: skip
            self.emit(bp.simple_rec(code, "customer_field_meta", field_id, doc))

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
        # A contact for every three orders (a small seed still has its named special cases).
        count = max(60 if self.demo else 10, self.n_orders // 3)
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


def _level(on_hand: int, allocated: int) -> dict[str, int]:
    return {
        "inStock": on_hand + allocated,
        "onHand": on_hand,
        "allocated": allocated,
        "inTransit": 0,
    }
