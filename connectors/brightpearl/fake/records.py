"""Order, sales-credit and order-status documents in the JSON Brightpearl serves."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from connectors.brightpearl.fake.constants import (
    ORDER_TYPE_IDS,
    PAYMENT_STATUS_IDS,
    SHIPPING_STATUS_IDS,
    STOCK_STATUS_IDS,
    V,
)
from connectors.sandbox.core import dumps, iso_ms, money, parse_time, sortable
from connectors.sandbox.state import Rec

# --- record builders (used by the seed and by writes) ------------------------------------


def party(contact: dict[str, Any], with_id: bool = True) -> dict[str, Any]:
    """One `parties` entry of an order, from a contact summary."""
    out: dict[str, Any] = {"contactId": contact["contactId"]} if with_id else {}
    out.update(
        {
            "addressFullName": contact["name"],
            "companyName": contact.get("company", ""),
            "addressLine1": contact.get("line1", ""),
            "addressLine2": contact.get("line2", ""),
            "addressLine3": contact.get("city", ""),
            "addressLine4": contact.get("county", ""),
            "postalCode": contact.get("postcode", ""),
            "country": "United Kingdom",
            "telephone": contact.get("phone", ""),
            "mobileTelephone": "",
            "fax": "",
            "email": contact.get("email", ""),
            "countryId": 222,
            "countryIsoCode": "GB",
            "countryIsoCode3": "GBR",
        }
    )
    return out


@lru_cache(maxsize=4096)
def _row_values(
    price: Decimal, quantity: Decimal, rate: Decimal, cost: Decimal, currency: str
) -> tuple[dict[str, Any], Decimal, Decimal]:
    """The money parts of an order row, shared between rows with the same numbers.

    The seed writes hundreds of thousands of rows from a few dozen products; computing each
    combination once keeps it fast. The dicts are never mutated (changes rebuild rows).
    """
    net = (price * quantity).quantize(Decimal("0.0001"))
    tax = (net * rate / 100).quantize(Decimal("0.01"))
    parts = {
        "quantity": {"magnitude": money(quantity, "0.0001")},
        "itemCost": {"currencyCode": currency, "value": money(cost, "0.0001")},
        "productPrice": {"currencyCode": currency, "value": money(price, "0.0001")},
        "discountPercentage": "0.00",
        "rowValue": {
            "taxRate": money(rate, "0.0001"),
            "taxCode": "T" if rate else "Z",
            "taxCalculator": "brightpearl",
            "rowNet": {"currencyCode": currency, "value": money(net, "0.0001")},
            "rowTax": {"currencyCode": currency, "value": money(tax)},
            "taxClassId": 2,
        },
    }
    return parts, net, tax


_COMPOSITION = {"bundleParent": False, "bundleChild": False, "parentOrderRowId": 0}


def _decimal(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def order_rows(
    rows: list[dict[str, Any]], currency: str
) -> tuple[dict[str, Any], Decimal, Decimal]:
    """Order rows keyed by row id, and the net and tax totals.

    Each input row: rowId, productId, productName, sku, quantity, price (net unit), taxRate.
    """
    out: dict[str, Any] = {}
    net_total = tax_total = Decimal("0")
    for seq, row in enumerate(rows, start=1):
        parts, net, tax = _row_values(
            _decimal(row["price"]),
            _decimal(row["quantity"]),
            _decimal(row.get("taxRate", 20)),
            _decimal(row.get("cost", 0)),
            currency,
        )
        net_total += net
        tax_total += tax
        out[str(row["rowId"])] = {
            "orderRowSequence": str(seq * 10),
            "productId": row["productId"],
            "productName": row["productName"],
            "productSku": row["sku"],
            **parts,
            "nominalCode": row.get("nominalCode", "4000"),
            "composition": _COMPOSITION,
            "clonedFromId": 0,
        }
    return out, net_total, tax_total


def order_doc(
    *,
    order_id: int,
    type_code: str,
    status: dict[str, Any],
    contact: dict[str, Any],
    rows: list[dict[str, Any]],
    placed: datetime,
    updated: datetime,
    parent_id: int = 0,
    invoice_ref: str = "",
    shipping_status: str = "SNS",
    payment_status: str = "UNPAID",
    stock_status: str = "SON",
    allocation_status: str = "ANA",
    warehouse_id: int = 1,
    channel_id: int = 1,
    reference: str = "",
    external_ref: str = "",
    price_list_id: int = 1,
    currency: str = "GBP",
    version: int = 1,
    closed: datetime | None = None,
) -> dict[str, Any]:
    """An order in the shape of examples/brightpearl_order_get_response.json."""
    row_map, net, tax = order_rows(rows, currency)
    total = net + tax
    placed_text = iso_ms(placed)
    doc: dict[str, Any] = {
        "id": order_id,
        "parentOrderId": parent_id,
        "orderTypeCode": type_code,
        "reference": reference,
        "version": version,
        "state": {"tax": "INVOICED" if invoice_ref else "READY"},
        "orderStatus": {"orderStatusId": status["statusId"], "name": status["name"]},
        "tax": {"errors": []},
        "orderPaymentStatus": payment_status,
        "stockStatusCode": stock_status,
        "allocationStatusCode": allocation_status,
        "shippingStatusCode": shipping_status,
        "placedOn": placed_text,
        "createdOn": placed_text,
        "updatedOn": iso_ms(updated),
        **({"closedOn": iso_ms(closed)} if closed else {}),
        "createdById": 4,
        "priceListId": price_list_id,
        "priceModeCode": "EXC",
        "delivery": {"deliveryDate": placed_text, "shippingMethodId": 1},
        "invoices": [
            {
                "invoiceReference": invoice_ref,
                "taxDate": placed_text if invoice_ref else "",
                "dueDate": placed_text if invoice_ref else "",
            }
        ],
        "currency": {
            "accountingCurrencyCode": currency,
            "orderCurrencyCode": currency,
            "exchangeRate": "1.000000",
            "fixedExchangeRate": False,
        },
        "totalValue": {
            "net": money(net),
            "taxAmount": money(tax),
            "baseNet": money(net),
            "baseTaxAmount": money(tax),
            "baseTotal": money(total),
            "total": money(total),
        },
        "assignment": {
            "current": {
                "staffOwnerContactId": 0,
                "projectId": 0,
                "channelId": channel_id,
                "leadSourceId": 0,
                "teamId": 0,
            }
        },
        # The seed pre-renders each contact's parties once and shares them between orders.
        "parties": contact.get("parties")
        or {
            "customer": party(contact),
            "delivery": party(contact, with_id=False),
            "billing": party(contact),
        },
        "orderRows": row_map,
        "warehouseId": warehouse_id,
        "acknowledged": 0,
        "costPriceListId": 1,
        "historicalOrder": False,
        **({"originalInvoiceDate": placed_text} if invoice_ref else {}),
        "orderWeighting": 100,
    }
    if external_ref:
        doc["externalRef"] = external_ref
    return doc


def order_rec(
    account: str,
    doc: dict[str, Any],
    placed: datetime | None = None,
    updated: datetime | None = None,
) -> Rec:
    """The stored row of an order; the seed passes the times it already has."""
    placed = placed or parse_time(doc["createdOn"])
    updated = updated or parse_time(doc["updatedOn"])
    type_id = ORDER_TYPE_IDS.get(doc["orderTypeCode"], 1)
    invoice = (doc.get("invoices") or [{}])[0]
    row = [
        doc["id"],
        type_id,
        doc["parties"]["customer"].get("contactId"),
        doc["orderStatus"]["orderStatusId"],
        STOCK_STATUS_IDS.get(doc["stockStatusCode"], 13),
        doc["createdOn"],
        doc.get("createdById", 4),
        doc.get("reference", ""),
        PAYMENT_STATUS_IDS.get(doc["orderPaymentStatus"], 5),
        doc["updatedOn"],
        doc.get("parentOrderId", 0),
        SHIPPING_STATUS_IDS.get(doc["shippingStatusCode"], 1),
        doc.get("externalRef") or None,
        None,
        doc.get("warehouseId"),
        0,
        invoice.get("taxDate") or None,
        0,
        (doc.get("delivery") or {}).get("deliveryDate"),
    ]
    return Rec(
        V,
        account,
        "order",
        str(doc["id"]),
        dumps(doc),
        num=doc["id"],
        updated=sortable(updated),
        created=sortable(placed),
        parent=str(doc.get("parentOrderId") or 0),
        owner=str(doc["parties"]["customer"].get("contactId")),
        status=str(doc["orderStatus"]["orderStatusId"]),
        type=str(type_id),
        row=dumps(row),
    )


def credit_doc(
    *,
    credit_id: int,
    order: dict[str, Any],
    status: dict[str, Any],
    rows: list[dict[str, Any]],
    created: datetime,
    reference: str = "",
    updated: datetime | None = None,
    external_ref: str = "",
) -> dict[str, Any]:
    """A sales credit as the sales-credit resource answers it (unconfirmed shape, documented).

    Each input row: productId (None: a free-text row), name, sku, quantity, price (net
    unit), taxRate, and optionally net and tax (the row's values as sent). `updated` is
    when it last changed (e.g. was completed); by default, when it was created.
    """
    currency = order["currency"]["orderCurrencyCode"]
    out_rows = []
    net_total = tax_total = Decimal("0")
    for n, row in enumerate(rows, start=1):
        quantity = Decimal(str(row["quantity"]))
        net = (Decimal(str(row["price"])) * quantity).quantize(Decimal("0.01"))
        tax = (net * Decimal(str(row.get("taxRate", 20))) / 100).quantize(Decimal("0.01"))
        if row.get("net") is not None:
            # The row's own values, as the POST sent them (sales-order row: net, tax).
            net = Decimal(str(row["net"])).quantize(Decimal("0.01"))
            tax = Decimal(str(row.get("tax") or 0)).quantize(Decimal("0.01"))
        net_total += net
        tax_total += tax
        out_rows.append(
            {
                "id": credit_id * 10 + n,
                "productId": row["productId"],
                "name": row["name"],
                "sku": row["sku"],
                "quantity": money(quantity, "0.0001"),
                "taxCode": "T",
                "net": money(net),
                "tax": money(tax),
                "total": money(net + tax),
                "nominalCode": "4000",
            }
        )
    customer = order["parties"]["customer"]
    return {
        "id": credit_id,
        "parentId": order["id"],
        "statusId": status["statusId"],
        "ref": reference or f"SC-{credit_id}",
        "externalRef": external_ref,
        "customer": {"id": customer["contactId"], "email": customer.get("email", "")},
        "billing": {
            "contactId": customer["contactId"],
            "address": {k: v for k, v in customer.items() if k != "contactId"},
        },
        "createdOn": iso_ms(created),
        "updatedOn": iso_ms(updated or created),
        "createdById": 4,
        "taxDate": iso_ms(created),
        "currency": {"code": currency, "exchangeRate": "1.000000", "fixedExchangeRate": True},
        "priceListId": order.get("priceListId", 1),
        "warehouseId": order.get("warehouseId", 1),
        "channelId": order["assignment"]["current"]["channelId"],
        "rows": out_rows,
        "total": {
            "net": money(net_total),
            "tax": money(tax_total),
            "total": money(net_total + tax_total),
        },
    }


def credit_rec(account: str, credit: dict[str, Any]) -> Rec:
    """The stored row of the sales-credit resource (its status and times are indexed)."""
    return Rec(
        V,
        account,
        "sales_credit",
        str(credit["id"]),
        dumps(credit),
        num=credit["id"],
        updated=sortable(parse_time(credit["updatedOn"])),
        created=sortable(parse_time(credit["createdOn"])),
        parent=str(credit["parentId"]),
        owner=str(credit["customer"]["id"]),
        status=str(credit["statusId"]),
        type="3",
    )


def credit_recs(
    account: str, credit: dict[str, Any], order: dict[str, Any], status: dict
) -> list[Rec]:
    """The credit as a sales-credit resource, and as the SC order the order service shows.

    Both carry the same status and the same createdOn/updatedOn: they are one credit.
    """
    created = parse_time(credit["createdOn"])
    updated = parse_time(credit["updatedOn"])
    contact = {
        "contactId": credit["customer"]["id"],
        "name": order["parties"]["customer"]["addressFullName"],
        "email": credit["customer"].get("email", ""),
    }
    rows = [
        {
            "rowId": r["id"],
            "productId": r["productId"],
            "productName": r["name"],
            "sku": r["sku"],
            "quantity": r["quantity"],
            "price": Decimal(r["net"]) / Decimal(r["quantity"]),
            "taxRate": 20,
        }
        for r in credit["rows"]
    ]
    as_order = order_doc(
        order_id=credit["id"],
        type_code="SC",
        status=status,
        contact=contact,
        rows=rows,
        placed=created,
        updated=updated,
        parent_id=order["id"],
        reference=credit["ref"],
        external_ref=credit.get("externalRef") or "",
        payment_status="NOT_APPLICABLE",
        shipping_status="NST",
        warehouse_id=credit["warehouseId"],
        channel_id=credit["channelId"],
        # A credit that has moved on from its first status has been saved twice.
        version=1 if updated == created else 2,
    )
    return [credit_rec(account, credit), order_rec(account, as_order, created, updated)]


def status_rec(account: str, doc: dict[str, Any]) -> Rec:
    return Rec(V, account, "order_status", str(doc["statusId"]), dumps(doc), num=doc["statusId"])


def simple_rec(account: str, kind: str, num: int, doc: Any) -> Rec:
    return Rec(V, account, kind, str(num), dumps(doc), num=num)


def order_status_doc(
    status_id: int, name: str, type_code: str, sort_order: int, state: str, color: str
) -> dict[str, Any]:
    """An order status as order_status_get.yml shows it."""
    return {
        "statusId": status_id,
        "name": name,
        "orderTypeCode": type_code,
        "sortOrder": sort_order,
        "disabled": False,
        "visible": True,
        "color": color,
        "remindAfterDays": 0,
        "alertEmails": [],
        "emailContent": "",
        "batchProcess": False,
        "state": state,
    }


def rows_back(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Order rows back into builder input, to rebuild totals after a change."""
    out = []
    for row_id, row in doc["orderRows"].items():
        out.append(
            {
                "rowId": int(row_id),
                "productId": row["productId"],
                "productName": row["productName"],
                "sku": row["productSku"],
                "quantity": Decimal(row["quantity"]["magnitude"]),
                "price": Decimal(row["productPrice"]["value"]),
                "taxRate": Decimal(row["rowValue"]["taxRate"]),
                "nominalCode": row.get("nominalCode", "4000"),
            }
        )
    return out


def rebuild_rows(doc: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    currency = doc["currency"]["orderCurrencyCode"]
    row_map, net, tax = order_rows(rows, currency)
    doc["orderRows"] = row_map
    total = net + tax
    doc["totalValue"] = {
        "net": money(net),
        "taxAmount": money(tax),
        "baseNet": money(net),
        "baseTaxAmount": money(tax),
        "baseTotal": money(total),
        "total": money(total),
    }
