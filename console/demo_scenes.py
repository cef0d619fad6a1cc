"""What happens at the vendors before the demo goes live, so every team has work to show.

Used only by `manage.py demo` (console/demo.py). Each scene is made the way the real world
would make it: a shopper's order in the storefront, a phone order typed into Brightpearl, a
smaller API allowance. They go through the sandbox's back-office control API and the vendors'
own APIs, never into the console's tables: the console's flows meet them as they would meet
the real thing, and the tickets that follow are the flows' own.

Each scene is made once: a scene already in the sandbox (its shopper's e-mail is there) is
left alone, so `make demo` can start again on the same data.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx

# A shopper's order the storefront flagged for a fraud check (BigCommerce status 12, "Manual
# Verification Required"): the demo's storefront status template leaves it unmapped, so the
# order waits with a ticket for ecommerce.
REVIEW_EMAIL = "review.me@shopper.example"
REVIEW_STATUS = 12
# A storefront order the phone team typed into Brightpearl before the console went live, with
# a discount the storefront never gave: Brightpearl holds it already, so the console links it
# and finance gets the difference.
PHONE_EMAIL = "phone.order@shopper.example"
PHONE_PRICE = Decimal("30.00")
PHONE_DISCOUNT = Decimal("0.85")
TAX = Decimal("0.2")
TIMEOUT = 10.0


def _control(discovery: dict[str, Any]) -> httpx.Client:
    return httpx.Client(base_url=discovery["sandbox"]["control"], timeout=TIMEOUT)


def _answer(response: httpx.Response) -> Any:
    response.raise_for_status()
    return response.json()


def _already(control: httpx.Client, account: str, email: str) -> bool:
    found = _answer(
        control.get(
            "state/bigcommerce/orders", params={"account": account, "lookup": email, "limit": 1}
        )
    )
    return bool(found["count"])


def _a_product(control: httpx.Client, account: str) -> dict[str, Any]:
    [product] = _answer(
        control.get("state/brightpearl/products", params={"account": account, "limit": 1})
    )["items"]
    return product


def _place(control: httpx.Client, account: str, **order: Any) -> dict[str, Any]:
    return _answer(control.post("bigcommerce/orders", json={"account": account, **order}))


def storefront_scenes_stage(discovery: dict[str, Any], account: str = "demo") -> list[str]:
    """Place the demo's storefront orders (once); returns what it placed, in words."""
    placed: list[str] = []
    with _control(discovery) as control:
        sku = _a_product(control, account)["identity"]["sku"]
        if not _already(control, account, REVIEW_EMAIL):
            order = _place(
                control,
                account,
                email=REVIEW_EMAIL,
                first_name="Robin",
                last_name="Review",
                payment_method="Stripe",
                status_id=REVIEW_STATUS,
                lines=[{"sku": sku, "quantity": 2}],
            )
            placed.append(f"storefront order {order['id']} waiting for a fraud check")
        if not _already(control, account, PHONE_EMAIL):
            order = _place(
                control,
                account,
                email=PHONE_EMAIL,
                first_name="Pat",
                last_name="Phone",
                payment_method="PayPal",
                status_id=11,
                lines=[{"sku": sku, "quantity": 1, "price": str(PHONE_PRICE)}],
            )
            twin = _phone_order_in_brightpearl(discovery, account, order, sku)
            placed.append(
                f"storefront order {order['id']}, typed into Brightpearl as order {twin} at a "
                "discount the storefront did not give"
            )
    return placed


def _phone_order_in_brightpearl(
    discovery: dict[str, Any], account: str, order: dict[str, Any], sku: str
) -> int:
    """The phone team's copy, posted through Brightpearl's own API with the storefront order
    as its external ref (as a channel app would), at their discounted price."""
    entry = discovery["accounts"][account]["brightpearl"]
    net = (PHONE_PRICE * PHONE_DISCOUNT).quantize(Decimal("0.01"))
    contact = discovery["seed"][account]["brightpearl"]["vip_contact_id"]
    with httpx.Client(
        base_url=f"{entry['base_url']}/public-api/{entry['account']}",
        headers=entry["headers"],
        timeout=TIMEOUT,
    ) as bp:
        body = _answer(
            bp.post(
                "/order-service/sales-order",
                json={
                    "customer": {"id": contact},
                    "ref": f"PHONE-{order['id']}",
                    "externalRef": str(order["id"]),
                    "statusId": 3,  # New phone order
                    "currency": {"code": "GBP"},
                    "rows": [
                        {
                            "sku": sku,
                            "name": "Phone order",
                            "quantity": 1,
                            "net": str(net),
                            "tax": str((net * TAX).quantize(Decimal("0.01"))),
                        }
                    ],
                },
            )
        )
    return int(body["response"])


def brightpearl_allowance_set(discovery: dict[str, Any], account: str, per_minute: int) -> None:
    """Give one brand's Brightpearl account a smaller allowance than the 200 a minute every
    other account has (as when another app spends most of it): the console must wait."""
    with _control(discovery) as control:
        _answer(
            control.post(
                "config",
                json={"account_limits": {account: {"brightpearl_per_minute": per_minute}}},
            )
        )
