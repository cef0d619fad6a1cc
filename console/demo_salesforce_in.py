"""The demo's Salesforce scenes: what sales did in Salesforce before the console went live.

Made through the sandbox's back-office control API (`POST /_sandbox/salesforce/records`, a
record a person made in Salesforce's own pages: CreatedById is a sales rep, not the console),
never in the console's tables, so the flows meet them as they would meet a real org:

- products whose Product Code is a Brightpearl SKU, and one Brightpearl does not sell;
- accounts for six Brightpearl customers (their Brightpearl id in the external id field, as
  the accounts flow leaves it), and customers sales made that Brightpearl has never seen
  (an Account and its Contact each, one of them Hillside Garden Centre): the accounts flow
  from Salesforce creates them in Brightpearl once;
- an activated order for each known customer (they post to Brightpearl once), a draft (it
  waits to be activated), one with the unknown product (a ticket for operations) and one for
  the new account (a ticket until the account is a Brightpearl customer).

Used by `manage.py demo` and by the flow contract suite. Made once: an org holding the
scene's first product already is left alone.
"""

from __future__ import annotations

from typing import Any

import httpx

EXTERNAL_ID_FIELD = "Brightpearl_Contact_Id__c"
UNKNOWN_SKU = "SF-ONLY-001"
# Brightpearl customers with an account in the org, each with one activated order.
CUSTOMERS = 6
NEW_ACCOUNT = "Hillside Garden Centre"
# Customers sales made in Salesforce: (company, first name, last name).
NEW_CUSTOMERS = (
    (NEW_ACCOUNT, "Hazel", "Hill"),
    ("Brook Interiors", "Bea", "Brook"),
    ("Cedar Outfitters", "Cal", "Cedar"),
    ("Dale Home", "Dina", "Dale"),
    ("Elm Street Gifts", "Ed", "Elm"),
    ("Fern and Co", "Fay", "Fern"),
    ("Glen Supplies", "Gil", "Glen"),
    ("Heath Studio", "Hal", "Heath"),
)
ACCOUNT_TYPES = ("Customer - Channel", "Customer - Direct")
# Their Account Types → Brightpearl customer groups (retail 1, wholesale 2).
ACCOUNT_TYPE_GROUPS = {"Customer - Direct": "1", "Customer - Channel": "2"}
TIMEOUT = 10.0


def _answer(response: httpx.Response) -> Any:
    response.raise_for_status()
    return response.json()


def _insert(control: httpx.Client, account: str, sobject: str, **fields: Any) -> str:
    record = _answer(
        control.post(
            "salesforce/records", json={"account": account, "type": sobject, "fields": fields}
        )
    )
    return str(record["Id"])


def salesforce_scenes_stage(control_url: str, account: str = "demo") -> list[str]:
    """Put the scene in the org (once); returns what it made, in words."""
    with httpx.Client(base_url=control_url, timeout=TIMEOUT) as control:
        have = {
            str(p.get("ProductCode")): p["Id"]
            for p in _answer(
                control.get(
                    "state/salesforce/Product2", params={"account": account, "limit": 100_000}
                )
            )["items"]
        }
        if UNKNOWN_SKU in have:
            return []
        products = _answer(
            control.get("state/brightpearl/products", params={"account": account, "limit": 3})
        )["items"]
        customers = _answer(
            control.get(
                "state/brightpearl/contacts", params={"account": account, "limit": CUSTOMERS}
            )
        )["items"]
        product_ids = [
            have.get(p["identity"]["sku"])
            or _insert(
                control,
                account,
                "Product2",
                Name=p.get("name") or p["identity"]["sku"],
                ProductCode=p["identity"]["sku"],
                IsActive=True,
            )
            for p in products
        ]
        unknown = _insert(
            control, account, "Product2", Name="Showroom sample", ProductCode=UNKNOWN_SKU
        )
        accounts = [
            _insert(
                control,
                account,
                "Account",
                Name=f"{c.get('firstName', '')} {c.get('lastName', '')}".strip() or "Customer",
                **{EXTERNAL_ID_FIELD: str(c["contactId"])},
            )
            for c in customers
        ]
        new_account = ""
        for n, (company, first, last) in enumerate(NEW_CUSTOMERS):
            account_id = _insert(
                control,
                account,
                "Account",
                Name=company,
                Type=ACCOUNT_TYPES[n % 2],
                Phone=f"020 7946 {n:04d}",
            )
            _insert(
                control,
                account,
                "Contact",
                AccountId=account_id,
                FirstName=first,
                LastName=last,
                Email=f"{first}.{last}@{company.split()[0]}.example".lower(),
                MobilePhone=f"07700 900{n:03d}",
            )
            new_account = new_account or account_id

        def order(account_id: str, status: str, lines: list[tuple[str, int, str]]) -> str:
            order_id = _insert(
                control,
                account,
                "Order",
                AccountId=account_id,
                Status=status,
                EffectiveDate="2026-12-01",
                OrderNumber=f"000{len(made) + 101}",
            )
            for product_id, quantity, price in lines:
                _insert(
                    control,
                    account,
                    "OrderItem",
                    OrderId=order_id,
                    Product2Id=product_id,
                    Quantity=quantity,
                    UnitPrice=float(price),
                    TotalPrice=round(quantity * float(price), 2),
                )
            made.append(order_id)
            return order_id

        made: list[str] = []
        for account_id in accounts:
            order(
                account_id,
                "Activated",
                [(product_ids[0], 2, "12.50"), (product_ids[1], 1, "40.00")],
            )
        order(accounts[0], "Draft", [(product_ids[2], 1, "9.99")])
        order(accounts[0], "Activated", [(unknown, 1, "0.00")])
        order(new_account, "Activated", [(product_ids[2], 3, "9.99")])
    return [
        f"Salesforce: {len(accounts)} accounts of Brightpearl customers and "
        f"{len(NEW_CUSTOMERS)} customers new to Brightpearl; {len(made)} orders made by sales "
        f"(one a draft, one with a product Brightpearl does not sell, one for {NEW_ACCOUNT})"
    ]
