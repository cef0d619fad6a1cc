"""A ticket of every type as its raiser makes it: each snapshot here is built the way the code
named beside it builds one (test_snapshot_raisers.py holds their keys to the raisers' source,
so a raiser that changes its keys fails there until this file and the renderer follow).

Each sample: the ticket's fields, and what its page must say (in the sentence or the facts).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Sample:
    type_code: str
    snapshot: dict[str, Any]
    says: tuple[str, ...]
    flow: str = "order_lifecycle"
    source_system: str = "brightpearl"
    source_id: str = "1001"
    error_code: str = ""
    error_message: str = ""
    # Where the shape comes from (for the reader; the keys are checked, not this text).
    raiser: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


SAMPLES: list[Sample] = [
    Sample(
        "unmapped_status",
        {
            "status_id": 33,
            "status_name": "Gift wrap",
            "waiting_count": 12,
            "waiting_ids": [str(n) for n in range(1001, 1013)],
            "also_waiting": {"shipments": ["5001", "5002"]},
        },
        says=(
            "Brightpearl order status “Gift wrap” (33) has no mapping yet, so 12 orders wait",
            "Gift wrap (Brightpearl id 33)",
            "1001, 1002, 1003",
            "Waiting in Shipments → Ometria",
            "5001 and 5002",
        ),
        source_id="status:33",
        raiser="syncs/flows/ometria/order_lifecycle.py raise_status_tickets",
    ),
    Sample(
        "unmapped_value",
        {
            "kind": "payment_method",
            "kind_label": "Payment methods",
            "value": "klarna",
            "value_label": "Klarna Pay Later",
            "waiting_count": 3,
            "waiting": {"storefront_orders": ["120", "121"], "refunds": ["77"]},
        },
        says=(
            "“Klarna Pay Later” (klarna) has no mapping in “Payment methods”, so 3 records wait",
            "Klarna Pay Later",
            "Waiting in Storefront orders → Brightpearl",
            "120 and 121",
            "Waiting in Refunds → Ometria",
        ),
        flow="storefront_orders",
        source_system="bigcommerce",
        source_id="value:payment_method:klarna",
        raiser="syncs/valuemaps/quarantine.py value_tickets_sync",
    ),
    Sample(
        "unmapped_sku",
        {"order": "120", "unknown_skus": ["TEE-RED-XL", "CAP-01"]},
        says=(
            "Storefront order 120 has 2 SKUs that no Brightpearl product has: TEE-RED-XL and "
            "CAP-01",
        ),
        flow="storefront_orders",
        source_system="bigcommerce",
        source_id="120",
        raiser="syncs/flows/bigcommerce/orders_in.py transform (TicketSpec)",
    ),
    Sample(
        "stock_level_refused",
        {
            "sku": "TEE-RED-XL",
            "levels": {"1": 12, "2": 0},
            "reason": "Items with identity: [sku TEE-RED-XL] not found",
        },
        says=(
            "BigCommerce refused the stock level of SKU TEE-RED-XL: Items with identity: "
            "sku TEE-RED-XL not found",
            "Brightpearl product",
        ),
        flow="bigcommerce_stock",
        source_id="1001",
        error_code="rejected",
        error_message="Items with identity: [sku TEE-RED-XL] not found",
        raiser="syncs/flows/bigcommerce/stock_out.py refusal (TicketSpec)",
    ),
    Sample(
        "order_total_mismatch",
        {
            "order": "10234",
            "brightpearl_order": "88",
            "currency": "GBP",
            "bigcommerce": {"net": "84.00", "tax": "16.80"},
            "brightpearl": {"net": "80.00", "tax": "16.00"},
            "difference_net": "4.00",
        },
        says=(
            "Order 10234 goods (ex tax): BigCommerce £84.00, Brightpearl £80.00, difference £4.00.",
            "Brightpearl order",
        ),
        flow="storefront_orders",
        source_system="bigcommerce",
        source_id="10234",
        raiser="syncs/flows/bigcommerce/totals.py totals_check (branch opmodel)",
    ),
    Sample(
        "shipment_not_notified",
        {
            "notes": ["50029"],
            "orders": {"50029": "102"},
            "brightpearl_orders": {"50029": "10002"},
            "reason": "Row 3 (SKU TEE-RED-XL) of the note is not on the storefront order.",
        },
        says=(
            "1 goods-out note shipped in Brightpearl has no shipment in BigCommerce",
            "Row 3 (SKU TEE-RED-XL) of the note is not on the storefront order.",
            "BigCommerce order",
        ),
        flow="bigcommerce_shipments",
        source_id="50029",
        raiser="syncs/flows/bigcommerce/shipments_out.py _cannot (TicketSpec)",
    ),
    Sample(
        "shipment_not_notified",
        {
            "notes": ["50033"],
            "orders": {"50033": "115"},
            "brightpearl_orders": {"50033": "10039"},
            "reason": "The daily check found no BigCommerce shipment for it.",
            "checked_since": "2026-11-20",
        },
        says=(
            "1 goods-out note shipped in Brightpearl has no shipment in BigCommerce",
            "The daily check found no BigCommerce shipment for it.",
            "2026-11-20",
        ),
        flow="bigcommerce_shipments",
        source_id="50033",
        raiser="syncs/flows/bigcommerce/shipment_check.py shipments_check",
    ),
    Sample(
        "refund_unmatched",
        {
            "order": "117",
            "refund": "3",
            "amount": "4.95",
            "currency": "GBP",
            "reason": "The refund returns no goods (shipping or a fee only).",
        },
        says=(
            "A refund of £4.95 on storefront order 117 was not credited in Brightpearl: the "
            "refund returns no goods (shipping or a fee only).",
        ),
        flow="bigcommerce_refunds",
        source_system="bigcommerce",
        source_id="117-3",
        raiser="syncs/flows/bigcommerce/refunds_in.py transform (TicketSpec)",
    ),
    Sample(
        "refund_blocked",
        {
            "order": "1001",
            "refund": "7",
            "amount": "12.50",
            "currency": "EUR",
            "order_status": "New web order",
            "reason": "Brightpearl order 10044 has no invoice yet.",
        },
        says=(
            "A refund of €12.50 on order 1001 waits: Brightpearl has not invoiced",
            "(its status there: New web order)",
        ),
        flow="bigcommerce_refunds",
        source_system="bigcommerce",
        source_id="1001-7",
        raiser="syncs/flows/bigcommerce/refunds_in.py transform (TicketSpec)",
    ),
    Sample(
        "unmapped_payment_method",
        {"payment_method": "paypal", "waiting_ids": ["120"]},
        says=("The payment method “paypal” has no mapping, so 1 order waits",),
        flow="storefront_orders",
        raiser="none now (value maps raise unmapped_value)",
    ),
    Sample(
        "unmapped_customer_group",
        {"customer_group": "7", "name": "Trade", "waiting_ids": ["3", "4"], "waiting_count": 2},
        says=("The customer group “Trade” (7) has no mapping, so 2 orders wait",),
        flow="storefront_orders",
        raiser="none now (value maps raise unmapped_value)",
    ),
    Sample(
        "rejected_by_target",
        {
            "sent": {
                "status": "complete",
                "stage": "shipped",
                "valid": True,
                "total": 84.0,
                "currency": "GBP",
                "contact": "201",
                "email": "ann@example.com",
                "refunded": 0,
                "_maps": {"order_status": ["4"]},
            }
        },
        says=("Ometria refused: email: not a valid value (code INVALID)",),
        error_code="INVALID",
        error_message="email: not a valid value",
        raiser="syncs/batches.py send_batch",
    ),
    Sample(
        "async_rejection",
        {
            "ometria_error": {
                "error_message": "is not a valid email",
                "error_path": "customer.email",
                "@type": "order",
                "id": "1001",
                "request_id": "req-9",
                "timestamp": "2026-12-03T12:38:00+00:00",
                "visible_at": 1796301480.0,
            }
        },
        says=("Ometria accepted it, then refused it on its own check: is not a valid email",),
        error_message="is not a valid email",
        raiser="syncs/flows/ometria/rejections.py ometria_rejections_collect",
    ),
    Sample(
        # The documented shape: Ometria's error names only a message and a path; the console
        # says how it matched it to the record.
        "async_rejection",
        {
            "ometria_error": {
                "error_message": "is not a valid email",
                "error_path": "root > email",
            },
            "matched": "the only contact in its push with an e-mail that is not an address",
        },
        says=("Ometria accepted it, then refused it on its own check: is not a valid email",),
        error_message="is not a valid email",
        raiser="syncs/flows/ometria/rejections.py _reject",
    ),
    Sample(
        # Several records could be the one: the console names them all and guesses none.
        "async_rejection",
        {
            "ometria_error": {
                "error_message": "is not a valid email",
                "error_path": "root > email",
            },
            "candidates": [["customers", "201"], ["customers", "203"]],
        },
        says=("Ometria accepted it, then refused it on its own check: is not a valid email",),
        error_message="is not a valid email",
        raiser="syncs/flows/ometria/rejections.py _unmatched",
    ),
    Sample(
        "salesforce_multiple_matches",
        {
            "sobject": "Account",
            "external_id_field": "Brightpearl_Contact_Id__c",
            "value": "201",
            "candidates": ["0015g00000AAAAAAAA", "0015g00000BBBBBBBB"],
            "instance_url": "https://acme.my.salesforce.com",
        },
        says=(
            "2 Salesforce Accounts hold 201 in Brightpearl_Contact_Id__c",
            "https://acme.my.salesforce.com/0015g00000BBBBBBBB",
        ),
        flow="salesforce_accounts",
        source_id="201",
        error_code="MULTIPLE_MATCHES",
        raiser="syncs/flows/salesforce/accounts.py multiple_matches (raised by syncs/batches.py)",
    ),
    Sample(
        "unmapped_sku",
        {"order": "8015g0000000008AAA", "unknown_skus": ["SF-ONLY-001"]},
        says=(
            "Salesforce order 8015g0000000008AAA has 1 SKU that no Brightpearl product has: "
            "SF-ONLY-001",
        ),
        flow="salesforce_orders_in",
        source_system="salesforce",
        source_id="8015g0000000008AAA",
        raiser="syncs/flows/salesforce/orders_in.py transform (TicketSpec)",
    ),
    Sample(
        "salesforce_account_unlinked",
        {"order": "8015g0000000008AAA", "account": "0015g0000000005AAA"},
        says=(
            "Salesforce order 8015g0000000008AAA is for Account 0015g0000000005AAA, which is "
            "not a Brightpearl customer yet",
        ),
        flow="salesforce_orders_in",
        source_system="salesforce",
        source_id="8015g0000000008AAA",
        raiser="syncs/flows/salesforce/orders_in.py transform (TicketSpec)",
    ),
    Sample(
        "salesforce_parent_missing",
        {"contact_id": "207", "flow": "Customers → Salesforce accounts"},
        says=("Brightpearl contact 207) has no Salesforce Account yet",),
        flow="salesforce_orders",
        source_id="10321",
        raiser="syncs/flows/salesforce/orders_out.py _no_account (TicketSpec)",
    ),
    Sample(
        "salesforce_parent_missing",
        {"flow": "Orders → Salesforce", "credits": ["3101", "3102"]},
        says=("the order has no Salesforce Order yet", "3101, 3102"),
        flow="salesforce_credits",
        source_id="10321",
        raiser="syncs/flows/salesforce/credits_out.py transform (TicketSpec)",
    ),
    Sample(
        "salesforce_product_missing",
        {
            "currency": "EUR",
            "lines": [
                {
                    "row": "55",
                    "sku": "TEE-BLA-1001",
                    "products": ["01t5g0000000001AAA"],
                    "why": "no active EUR entry in the brand's price book",
                }
            ],
        },
        says=("no EUR price in the brand's price book", "TEE-BLA-1001"),
        flow="salesforce_orders",
        source_id="10321",
        raiser="syncs/flows/salesforce/orders_out.py _no_product (TicketSpec)",
    ),
    Sample(
        "duplicate_contact",
        {"email": "ann@example.com", "contact_ids": ["201", "305"]},
        says=("2 Brightpearl contacts use the e-mail address ann@example.com: 201 and 305.",),
        flow="customers",
        source_system="email",
        source_id="ann@example.com",
        raiser="syncs/flows/ometria/customers.py flag_duplicate_emails",
    ),
    *[
        Sample(
            code,
            {"run": 41, "status": status, "path": "/public-api/acme/order-service/order/1001"},
            says=(says, "Run 41 stopped there", "/public-api/acme/order-service/order/1001"),
            source_id="connection:3",
            raiser="syncs/services.py _failed",
        )
        for code, status, says in (
            ("auth_failure", 401, "Brightpearl refused the console's credentials (HTTP 401"),
            ("configuration_missing", 404, "Brightpearl could not be used as set up"),
            ("api_allowance_spent", 503, "Brightpearl's API allowance was spent (HTTP 503"),
        )
    ],
    Sample(
        "sync_delayed",
        {"behind_minutes": 95, "allowed_minutes": 60},
        says=("The oldest change not yet read is 1 h 35 min old; more than 1 h counts",),
        source_system="console",
        source_id="flow:order_lifecycle:delay",
        raiser="syncs/sweeper.py _check_delay",
    ),
    Sample(
        "attempts_exhausted",
        {"run": 4, "waiting_ids": ["1001", "1002"]},
        says=("Run 4 failed on every attempt", "It was syncing 2 records: 1001 and 1002."),
        source_system="console",
        source_id="flow:order_lifecycle",
        raiser="syncs/services.py _attempts_exhausted",
    ),
    Sample(
        "run_crashed",
        {"run": 9, "waiting_ids": []},
        says=(
            "Run 9 stopped on an unexpected error",
            "It was a run of the whole of “Order lifecycle → Ometria”",
        ),
        source_system="console",
        source_id="flow:order_lifecycle",
        error_code="unexpected_error",
        raiser="syncs/services.py flow_run",
    ),
    Sample(
        "record_missing",
        {},
        says=("Brightpearl has no record 1001 any more",),
        raiser="syncs/engine.py _missing (no snapshot)",
    ),
    Sample(
        "record_unreadable",
        {},
        says=("could not read record 1001 from Brightpearl: The field “orderRows” is missing",),
        error_message="The field “orderRows” is missing from it.",
        raiser="syncs/batches.py _transform (TicketSpec, no snapshot)",
    ),
    Sample(
        "webhook_unknown_ids",
        {"unknown_ids": 1204, "known_ids": 3, "connection": 7},
        says=("named 1,204 ids that Brightpearl does not have, and 3 that it has",),
        flow="",
        source_id="connection:7",
        raiser="syncs/webhook_sources.py _raise",
    ),
    Sample(
        "silent_flow",
        {
            "from": "2026-12-03T10:00:00+00:00",
            "to": "2026-12-03T12:00:00+00:00",
            "sent": 0,
            "usual": 40,
            "weeks": [38, 40, 41, 44],
            "enough": 20,
        },
        says=(
            "0 records went through “Order lifecycle → Ometria”; at these hours it is usually 40",
            "38, 40, 41 and 44",
            "20 or more in the window",
        ),
        source_system="console",
        source_id="silence:order_lifecycle",
        raiser="syncs/history/silence.py _raise",
    ),
    Sample(
        "drift_found",
        {
            "run": 812,
            "compared": 1200,
            "differed": 3,
            "ids": ["1001", "1002", "1003"],
            "target": "ometria",
            "mapping_changes": 2,
        },
        says=(
            "The daily check (run 812) compared 1,200 records with Ometria: 3 differed and were "
            "sent again, so they match now.",
            "1001, 1002 and 1003",
            "Mapping changes since the last check",
        ),
        source_system="console",
        source_id="drift:order_lifecycle",
        raiser="syncs/history/drift.py drift_ticket",
    ),
    Sample(
        "price_refused",
        {
            "sku": "TEE-RED-1004",
            "prices": {"price": "21.99", "MSRP": "27.49"},
            "reason": "Variant 1114 was not found",
        },
        says=(
            "BigCommerce refused the prices of SKU TEE-RED-1004: Variant 1114 was not found.",
            "27.49",
        ),
        flow="bigcommerce_prices",
        source_id="1004",
        raiser="syncs/flows/bigcommerce/prices_out.py refusal (TicketSpec)",
    ),
    Sample(
        "sku_only_in_bigcommerce",
        {
            "sku": "GIFT-CARD",
            "bigcommerce_product": "151",
            "bigcommerce_variant": "1151",
            "audited_on": "2026-12-04",
        },
        says=("SKU GIFT-CARD is on the storefront, and Brightpearl has no product with it", "1151"),
        flow="",
        source_system="bigcommerce",
        source_id="GIFT-CARD",
        raiser="syncs/flows/bigcommerce/catalogue_audit.py catalogue_audit",
    ),
    Sample(
        "sku_only_in_brightpearl",
        {"sku": "WRAP-GIFT-1041", "brightpearl_product": "1041", "audited_on": "2026-12-04"},
        says=("SKU WRAP-GIFT-1041 is a Brightpearl product the storefront does not list", "1041"),
        flow="",
        source_id="WRAP-GIFT-1041",
        raiser="syncs/flows/bigcommerce/catalogue_audit.py catalogue_audit",
    ),
]
