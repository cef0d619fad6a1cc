"""The demo seed's BigCommerce store and Mailchimp audience, made from the Brightpearl data."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from connectors.bigcommerce import fake as bc
from connectors.mailchimp import fake as mc
from connectors.sandbox.core import parse_time
from connectors.sandbox.seed.base import SeedBase
from connectors.sandbox.seed.reference import (
    BASE,
    BC_ONLY_SKU,
    COMPLIANCE_CONTACT,
    SPAN,
    UNSUBSCRIBED_CONTACT,
)


class StorefrontSeed(SeedBase):
    """BigCommerce and Mailchimp records (after BrightpearlSeed has run)."""

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
