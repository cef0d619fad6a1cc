"""Brightpearl: the ERP, as its public API answers (recordings in shared/vendors/brightpearl/).

Paths: /brightpearl/public-api/{account}/{service}-service/... Every answer carries the
account's `brightpearl-requests-remaining` and `brightpearl-next-throttle-period`, 401s too.
Records are stored in the exact JSON the API serves; this module builds that JSON (for the seed
and for writes) and answers the calls.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from connectors.sandbox.core import (
    Account,
    BadRequest,
    Request,
    Response,
    Router,
    Vendor,
    compress_ids,
    dumps,
    idset_size,
    iso_ms,
    json_response,
    money,
    parse_idset,
    parse_time,
    raw_json,
    sortable,
    utcnow,
)
from connectors.sandbox.deliveries import Delivery
from connectors.sandbox.state import Rec
from connectors.sandbox.throttle import Hit

V = "brightpearl"
JSON_UTF8 = "application/json;charset=UTF-8"
BRIGHTPEARL_VERSION = "2.0.0"  # what ${brightpearl-version} renders to; unconfirmed
# Fired (besides order.modified.order-status) when a sales credit changes status. Brightpearl's
# published event list does not name one: this follows the order event and the sandbox's
# `sales-credit.created`, so a `sales-credit` subscription hears a credit raised and completed.
CREDIT_STATUS_EVENT = "sales-credit.modified.order-status"

ORDER_TYPE_IDS = {"SO": 1, "PO": 2, "SC": 3, "PC": 4}
ORDER_TYPE_NAMES = {
    "1": "SALES_ORDER",
    "2": "PURCHASE_ORDER",
    "3": "SALES_CREDIT",
    "4": "PURCHASE_CREDIT",
}
# The search columns carry ids for these codes; the ids are the sandbox's (unconfirmed).
PAYMENT_STATUS_IDS = {"PAID": 1, "UNPAID": 2, "PARTIALLY_PAID": 3, "NOT_APPLICABLE": 5}
SHIPPING_STATUS_IDS = {"NST": 1, "SNS": 2, "SPS": 3, "ASS": 4}
SHIPPING_STATUS_NAMES = {
    "1": "No stock tracked products on order",
    "2": "Not shipped",
    "3": "Partially shipped",
    "4": "All shipped",
}
STOCK_STATUS_IDS = {"SON": 1, "SPA": 2, "SOA": 3}
STOCK_STATUS_NAMES = {"1": "Not fulfilled", "2": "Part fulfilled", "3": "Fulfilled", "13": "Unset"}


# --- search column definitions ----------------------------------------------------------


@dataclass(frozen=True)
class Col:
    name: str
    type: str  # IDSET, INTEGER, PERIOD, STRING, SEARCH_STRING, BOOLEAN
    sql: str | None = None  # an indexed column of `records`; else json_extract on the row
    ref: str | None = None  # the name of its reference data
    sortable: bool = True

    def meta(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "sortable": self.sortable,
            "filterable": True,
            "reportDataType": self.type,
            "referenceData": [self.ref] if self.ref else [],
            "isFreeTextSearchable": False,
            "required": False,
        }


# The 19 columns of a recorded order-search answer (order_search.yml), in order.
ORDER_COLUMNS = (
    Col("orderId", "IDSET", "num"),
    Col("orderTypeId", "IDSET", "type", "orderTypeNames"),
    Col("contactId", "INTEGER", "owner"),
    Col("orderStatusId", "INTEGER", "status", "orderStatusNames"),
    Col("orderStockStatusId", "INTEGER", None, "orderStockStatusNames"),
    Col("createdOn", "PERIOD", "created"),
    Col("createdById", "INTEGER"),
    Col("customerRef", "STRING"),
    Col("orderPaymentStatusId", "INTEGER", None, "orderPaymentStatusNames"),
    Col("updatedOn", "PERIOD", "updated"),
    Col("parentOrderId", "IDSET", "parent"),
    Col("orderShippingStatusId", "INTEGER", None, "orderShippingStatusNames"),
    Col("externalRef", "STRING"),
    Col("installedIntegrationInstanceId", "INTEGER"),
    Col("warehouseId", "IDSET"),
    Col("staffOwnerContactId", "INTEGER"),
    Col("taxDate", "PERIOD"),
    Col("departmentId", "INTEGER"),
    Col("deliveryDate", "PERIOD"),
)

# The 21 columns of a recorded contact-search answer (customer/search/simple_search.yml).
CONTACT_COLUMNS = (
    Col("contactId", "IDSET", "num"),
    Col("primaryEmail", "SEARCH_STRING", "lookup"),
    Col("secondaryEmail", "SEARCH_STRING"),
    Col("tertiaryEmail", "SEARCH_STRING"),
    Col("firstName", "SEARCH_STRING"),
    Col("lastName", "SEARCH_STRING"),
    Col("isSupplier", "BOOLEAN", sortable=False),
    Col("companyName", "SEARCH_STRING"),
    Col("isStaff", "BOOLEAN", sortable=False),
    Col("isCustomer", "BOOLEAN", sortable=False),
    Col("createdOn", "PERIOD", "created"),
    Col("updatedOn", "PERIOD", "updated"),
    Col("lastContactedOn", "PERIOD"),
    Col("lastOrderedOn", "PERIOD"),
    Col("nominalCode", "INTEGER"),
    Col("isPrimary", "BOOLEAN"),
    Col("pri", "STRING", sortable=False),
    Col("sec", "STRING", sortable=False),
    Col("mob", "STRING", sortable=False),
    Col("exactCompanyName", "STRING"),
    Col("title", "STRING"),
)

# Goods-out-note search: the endpoint is real; this column list is partly inferred from public
# client code (goodsOutNoteId first, transfer 4th, orderId 6th, warehouseId 8th, channelId
# 14th). Read columns by name from metaData.columns, never by position.
GON_COLUMNS = (
    Col("goodsOutNoteId", "IDSET", "num"),
    Col("createdOn", "PERIOD", "created"),
    Col("createdById", "INTEGER"),
    Col("releaseDate", "PERIOD"),
    Col("transfer", "BOOLEAN"),
    Col("priority", "BOOLEAN"),
    Col("orderId", "IDSET", "parent"),
    Col("shippingMethodId", "INTEGER"),
    Col("warehouseId", "IDSET"),
    Col("printed", "BOOLEAN"),
    Col("picked", "BOOLEAN"),
    Col("packed", "BOOLEAN"),
    Col("shipped", "BOOLEAN", "status"),
    Col("shippedOn", "PERIOD", "updated"),
    Col("channelId", "INTEGER"),
)

PRODUCT_COLUMNS = (
    Col("productId", "IDSET", "num"),
    Col("productName", "SEARCH_STRING"),
    Col("SKU", "SEARCH_STRING", "lookup"),
    Col("barcode", "STRING"),
    Col("EAN", "STRING"),
    Col("UPC", "STRING"),
    Col("ISBN", "STRING"),
    Col("stockTracked", "BOOLEAN"),
    Col("salesChannelName", "STRING"),
    Col("createdOn", "PERIOD", "created"),
    Col("updatedOn", "PERIOD", "updated"),
    Col("productStatus", "STRING"),
)


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
) -> dict[str, Any]:
    """A sales credit as the sales-credit resource answers it (unconfirmed shape, documented).

    Each input row: productId, name, sku, quantity, price (net unit), taxRate. `updated` is
    when it last changed (e.g. was completed); by default, when it was created.
    """
    currency = order["currency"]["orderCurrencyCode"]
    out_rows = []
    net_total = tax_total = Decimal("0")
    for n, row in enumerate(rows, start=1):
        quantity = Decimal(str(row["quantity"]))
        net = (Decimal(str(row["price"])) * quantity).quantize(Decimal("0.01"))
        tax = (net * Decimal(str(row.get("taxRate", 20))) / 100).quantize(Decimal("0.01"))
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
        "externalRef": "",
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
        payment_status="NOT_APPLICABLE",
        shipping_status="NST",
        warehouse_id=credit["warehouseId"],
        channel_id=credit["channelId"],
        # A credit that has moved on from its first status has been saved twice.
        version=1 if updated == created else 2,
    )
    return [credit_rec(account, credit), order_rec(account, as_order, created, updated)]


def gon_doc(
    *,
    note_id: int,
    order_id: int,
    warehouse_id: int,
    rows: dict[str, list[dict[str, Any]]],
    created: datetime,
    sequence: int,
    shipped_on: datetime | None = None,
    shipping_method_id: int = 1,
    reference: str = "",
    event_version: int = 1,
) -> dict[str, Any]:
    """A goods-out note in the shape of examples/brightpearl_goods_out_note_get_response.json."""
    status: dict[str, Any] = {"shipped": False, "packed": False, "picked": False, "printed": False}
    events = [{"occured": iso_ms(created), "eventOwnerId": 4, "eventCode": "PLA"}]
    if shipped_on is not None:
        status = ship_status(shipped_on)
        events += ship_events(shipped_on)
    return {
        "orderId": order_id,
        "warehouseId": warehouse_id,
        "transfer": False,
        "priority": False,
        "status": status,
        "shipping": {"reference": reference, "shippingMethodId": shipping_method_id},
        "releaseDate": iso_ms(created),
        "createdOn": iso_ms(created),
        "createdBy": 4,
        "orderRows": rows,
        "sequence": sequence,
        "events": events,
        "lastEventVersion": event_version + len(events),
    }


def ship_status(shipped_on: datetime) -> dict[str, Any]:
    stamp = iso_ms(shipped_on)
    return {
        "shipped": True,
        "packed": True,
        "picked": True,
        "printed": True,
        "pickedOn": stamp,
        "packedOn": stamp,
        "shippedOn": stamp,
        "printedOn": stamp,
        "pickedById": 4,
        "packedById": 4,
        "shippedById": 4,
        "printedById": 4,
    }


def ship_events(shipped_on: datetime) -> list[dict[str, Any]]:
    stamp = iso_ms(shipped_on)
    return [
        {"occured": stamp, "eventOwnerId": 4, "eventCode": code}
        for code in ("SHW", "PRI", "PIC", "PAC")
    ]


def gon_rec(
    account: str,
    note_id: int,
    doc: dict[str, Any],
    channel_id: int = 1,
    created: datetime | None = None,
    shipped: datetime | None = None,
) -> Rec:
    status = doc["status"]
    shipped_on = status.get("shippedOn")
    row = [
        note_id,
        doc["createdOn"],
        doc["createdBy"],
        doc["releaseDate"],
        doc["transfer"],
        doc["priority"],
        doc["orderId"],
        doc["shipping"]["shippingMethodId"],
        doc["warehouseId"],
        status["printed"],
        status["picked"],
        status["packed"],
        status["shipped"],
        shipped_on,
        channel_id,
    ]
    created = created or parse_time(doc["createdOn"])
    if shipped_on and shipped is None:
        shipped = parse_time(shipped_on)
    return Rec(
        V,
        account,
        "goods_out_note",
        str(note_id),
        dumps(doc),
        num=note_id,
        # `updated` holds the shipping time, so shippedOn searches run on an index.
        updated=sortable(shipped) if shipped else None,
        created=sortable(created),
        parent=str(doc["orderId"]),
        status="true" if status["shipped"] else "false",
        type=str(doc["warehouseId"]),
        row=dumps(row),
    )


def contact_doc(
    *,
    contact_id: int,
    first: str,
    last: str,
    email: str,
    phone: str,
    tags: list[int],
    customer_group: str,
    created: datetime,
    updated: datetime,
    company: str = "",
    price_list_id: int = 1,
    newsletter: bool = True,
) -> dict[str, Any]:
    """A contact in the shape of customer/get/simple_get.yml.

    Additions (unconfirmed, asked for by the console): `customerGroup` and
    relationshipToAccount.isCustomer. Brightpearl's own price list is financialDetails.priceListId.
    """
    return {
        "contactId": contact_id,
        "isPrimaryContact": True,
        "salutation": "",
        "firstName": first,
        "lastName": last,
        "postAddressIds": {"DEF": contact_id * 2, "BIL": contact_id * 2, "DEL": contact_id * 2 + 1},
        "communication": {
            "emails": {"PRI": {"email": email}} if email else {},
            "telephones": {"PRI": phone} if phone else {},
            "messagingVoips": {},
            "websites": {},
        },
        "contactStatus": {"current": {"contactStatusId": 0}},
        "relationshipToAccount": {"isSupplier": False, "isStaff": False, "isCustomer": True},
        "marketingDetails": {"isReceiveEmailNewsletter": newsletter},
        "financialDetails": {
            "priceListId": price_list_id,
            "nominalCode": "4000",
            "creditLimit": 0,
            "creditTermDays": 30 if customer_group == "Wholesale" else 0,
            "currencyId": 1,
            "discountPercentage": 0.00,
            "creditTermTypeId": 1,
        },
        "assignment": {"current": {}},
        "organisation": {"organisationId": contact_id, "name": company} if company else {},
        "tradeStatus": "TRADE" if customer_group == "Wholesale" else "RETAIL",
        "createdByid": 0,
        "createdOn": iso_ms(created),
        "updatedOn": iso_ms(updated),
        "contactTags": ",".join(str(t) for t in tags),
        "customerGroup": {"id": 2 if customer_group == "Wholesale" else 1, "name": customer_group},
        "aliases": {},
        "companyId": 0,
    }


def contact_email(doc: dict[str, Any]) -> str:
    return ((doc["communication"].get("emails") or {}).get("PRI") or {}).get("email", "")


def contact_rec(account: str, doc: dict[str, Any]) -> Rec:
    email = contact_email(doc)
    emails = doc["communication"].get("emails") or {}
    company = (doc.get("organisation") or {}).get("name", "")
    row = [
        doc["contactId"],
        email,
        (emails.get("SEC") or {}).get("email", ""),
        (emails.get("TER") or {}).get("email", ""),
        doc["firstName"],
        doc["lastName"],
        doc["relationshipToAccount"].get("isSupplier", False),
        company,
        doc["relationshipToAccount"].get("isStaff", False),
        doc["relationshipToAccount"].get("isCustomer", True),
        doc["createdOn"],
        doc["updatedOn"],
        None,
        None,
        0,
        doc.get("isPrimaryContact", True),
        (doc["communication"].get("telephones") or {}).get("PRI", ""),
        "",
        "",
        company,
        doc.get("salutation") or None,
    ]
    return Rec(
        V,
        account,
        "contact",
        str(doc["contactId"]),
        dumps(doc),
        num=doc["contactId"],
        updated=sortable(parse_time(doc["updatedOn"])),
        created=sortable(parse_time(doc["createdOn"])),
        lookup=email.lower() or None,
        row=dumps(row),
    )


def product_doc(*, product_id: int, sku: str, name: str, created: datetime) -> dict[str, Any]:
    return {
        "id": product_id,
        "brandId": 1,
        "productTypeId": 1,
        "identity": {"sku": sku, "isbn": "", "ean": "", "upc": "", "mpn": "", "barcode": ""},
        "productGroupId": 0,
        "featured": False,
        "stock": {"stockTracked": True, "weight": {"magnitude": 0.5}},
        "financialDetails": {"taxable": True, "taxCode": {"id": 1, "code": "T"}},
        "salesChannels": [
            {
                "salesChannelName": "Brightpearl",
                "productName": name,
                "productCondition": "new",
                "categories": [],
                "description": {"languageCode": "en", "text": "", "format": "HTML_FRAGMENT"},
                "shortDescription": {"languageCode": "en", "text": "", "format": "HTML_FRAGMENT"},
            }
        ],
        "composition": {"bundle": False},
        "variations": [],
        "createdOn": iso_ms(created),
        "updatedOn": iso_ms(created),
        "nominalCodeStock": "1000",
        "nominalCodePurchases": "5000",
        "nominalCodeSales": "4000",
        "status": "LIVE",
    }


def product_rec(account: str, doc: dict[str, Any]) -> Rec:
    channel = doc["salesChannels"][0]
    row = [
        doc["id"],
        channel["productName"],
        doc["identity"]["sku"],
        doc["identity"]["barcode"],
        doc["identity"]["ean"],
        doc["identity"]["upc"],
        doc["identity"]["isbn"],
        doc["stock"]["stockTracked"],
        channel["salesChannelName"],
        doc["createdOn"],
        doc["updatedOn"],
        doc["status"],
    ]
    return Rec(
        V,
        account,
        "product",
        str(doc["id"]),
        dumps(doc),
        num=doc["id"],
        updated=sortable(parse_time(doc["updatedOn"])),
        created=sortable(parse_time(doc["createdOn"])),
        lookup=doc["identity"]["sku"].lower(),
        row=dumps(row),
    )


def availability_doc(levels: dict[int, dict[str, int]]) -> dict[str, Any]:
    """{warehouseId: {inStock, onHand, allocated, inTransit}} -> product-availability entry."""
    total = {"inStock": 0, "onHand": 0, "allocated": 0, "inTransit": 0}
    warehouses = {}
    for warehouse_id, level in sorted(levels.items()):
        warehouses[str(warehouse_id)] = dict(level)
        for key in total:
            total[key] += level[key]
    return {"total": total, "warehouses": warehouses}


def availability_rec(account: str, product_id: int, doc: dict[str, Any]) -> Rec:
    return Rec(V, account, "availability", str(product_id), dumps(doc), num=product_id)


def status_rec(account: str, doc: dict[str, Any]) -> Rec:
    return Rec(V, account, "order_status", str(doc["statusId"]), dumps(doc), num=doc["statusId"])


def simple_rec(account: str, kind: str, num: int, doc: Any) -> Rec:
    return Rec(V, account, kind, str(num), dumps(doc), num=num)


# --- webhooks -----------------------------------------------------------------------------


def subscribes(subscribe_to: str, event: str) -> bool:
    """'goods-out-note' takes every goods-out-note event; 'order.modified' takes its specifiers."""
    return event == subscribe_to or event.startswith(subscribe_to + ".")


def fire(
    app: Any, req: Request, account: Account, event: str, resource_id: int, copies: int = 1
) -> int:
    """Queue the account's matching webhooks for after the transaction; returns how many."""
    resource_type, _, rest = event.partition(".")
    lifecycle = rest.split(".")[0] if rest else ""
    raised_on = iso_ms(utcnow())
    values = {
        "account-code": account.code,
        "resource-type": resource_type,
        "resource-id": str(resource_id),
        "lifecycle-event": lifecycle,
        "full-event": event,
        "raised-on": raised_on,
        "brightpearl-version": BRIGHTPEARL_VERSION,
    }

    def render(template: str) -> str:
        for key, value in values.items():
            template = template.replace("${" + key + "}", value)
        return template

    hooks = [json.loads(d) for (d,) in app.store.rows(V, account.code, "webhook", columns="data")]
    count = 0
    for hook in hooks:
        if not subscribes(hook["subscribeTo"], event):
            continue
        method = hook.get("httpMethod", "POST").upper()
        body = render(hook.get("bodyTemplate") or "") if method in ("POST", "PUT") else ""
        headers = {"Content-Type": hook.get("contentType") or "application/json"} if body else {}
        delivery = Delivery(
            vendor=V,
            account=account.code,
            event=event,
            hook_id=str(hook["id"]),
            method=method,
            url=render(hook["uriTemplate"]),
            body=body.encode(),
            headers=headers,
            # qualityOfService 1 is at least once (retried); 0 is at most once.
            max_attempts=10 if hook.get("qualityOfService", 1) else 1,
            extra={"resource_id": resource_id},
        )
        req.after_commit.append(lambda d=delivery: app.deliverer.enqueue(d, copies))
        count += 1
    return count


# --- the API ----------------------------------------------------------------------------------


def errors(code: str, message: str, status: int) -> Response:
    return json_response(
        {"errors": [{"code": code, "message": message}]}, status, content_type=JSON_UTF8
    )


class Brightpearl(Vendor):
    name = V
    router = Router()
    route = router.route

    def _parts(self, req: Request) -> tuple[str, str]:
        """(account code, the path after it) from /public-api/{account}/..."""
        parts = req.path.split("/", 3)
        if len(parts) < 3 or parts[1] != "public-api":
            return "", req.path
        return parts[2], "/" + (parts[3] if len(parts) > 3 else "")

    def bucket(self, req: Request) -> str:
        return self._parts(req)[0] or "-"

    def authenticate(self, req: Request) -> Response | None:
        code, rest = self._parts(req)
        req.path = rest
        account = self.app.accounts.get(V, code)
        app_ref = req.headers.get("brightpearl-app-ref")
        token = req.headers.get("brightpearl-account-token")
        bearer = (req.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
        if not app_ref or not (token or bearer):
            return json_response(
                {"response": "Not authenticated. You must provide a valid authentication token."},
                401,
                content_type=JSON_UTF8,
            )
        if account is None:
            return json_response(
                {"response": f"Invalid account code: {code}"}, 401, content_type=JSON_UTF8
            )
        creds = account.creds
        if token:
            ok = app_ref == creds["app_ref"] and token == creds["account_token"]
            shown = token
        else:
            ok = (
                app_ref == creds["app_ref"]
                and req.headers.get("brightpearl-dev-ref") == creds["dev_ref"]
                and bearer == creds["oauth_token"]
            )
            shown = bearer
        if not ok:
            return json_response(
                {"response": f"Invalid instance token: {shown}"}, 401, content_type=JSON_UTF8
            )
        req.account = account
        return None

    def limit_headers(self, req: Request, hit: Hit | None) -> dict[str, str]:
        if hit is None:
            return {}
        # Unlimited (limit 0/None) still reports a plausible budget: the real range is 0-199.
        remaining = hit.remaining if hit.limit else 199
        return {
            "brightpearl-requests-remaining": str(remaining),
            "brightpearl-next-throttle-period": str(hit.reset_ms),
        }

    def throttled(self, req: Request) -> Response:
        return json_response(
            {
                "response": "You have sent too many requests. "
                "Please wait before sending another request"
            },
            503,
            content_type=JSON_UTF8,
        )

    def server_error(self, req: Request) -> Response:
        return errors("CMNU-003", "Internal Server Error", 500)

    def not_found(self, req: Request) -> Response:
        return errors("CMNC-404", f"Cannot find the resource {req.path}", 404)

    def bad_request(self, req: Request, message: str) -> Response:
        return errors("CMNC-400", message, 400)

    # --- helpers ---------------------------------------------------------------------------

    @property
    def settings(self) -> Any:
        return self.app.settings

    def _ids(self, text: str, limit: int) -> list[int] | Response:
        """Parse an id set, refusing one larger than the resource allows.

        What Brightpearl answers for an oversized set is not recorded: the sandbox answers
        413 with Brightpearl's error structure (documented in the README).
        """
        try:
            size = idset_size(text)
            if size > limit:
                return errors(
                    "CMNC-413",
                    f"Too many ids requested ({size}). The maximum for this resource is {limit}; "
                    "use OPTIONS on the id set to get URIs of acceptable size.",
                    413,
                )
            return parse_idset(text)
        except ValueError:
            return errors("CMNC-404", f"Cannot parse the id set {text}", 404)

    def _get_list(self, req: Request, kind: str, ids_text: str, limit: int) -> Response:
        ids = self._ids(ids_text, limit)
        if isinstance(ids, Response):
            return ids
        found = self.app.store.get_many(V, req.account.code, kind, ids)
        present = [str(i) for i in sorted(ids) if str(i) in found]
        parts = [found[i] for i in present]
        optional = set((req.q("includeOptional") or "").split(","))
        if "customFields" in optional and kind in ("order", "contact"):
            # Like Brightpearl, custom fields come only when asked for.
            customs = self.app.store.get_many(V, req.account.code, kind + "_custom", present)
            parts = [_with_custom(found[i], customs.get(i, "{}")) for i in present]
        return raw_json('{"response":[' + ",".join(parts) + "]}", content_type=JSON_UTF8)

    def _options(self, req: Request, kind: str, ids_text: str, prefix: str, limit: int) -> Response:
        if ids_text:
            try:
                wanted = parse_idset(ids_text)
            except ValueError:
                return errors("CMNC-404", f"Cannot parse the id set {ids_text}", 404)
            found = self.app.store.get_many(V, req.account.code, kind, wanted)
            ids = sorted(int(i) for i in found)
        else:
            ids = [r[0] for r in self.app.store.rows(V, req.account.code, kind, columns="num")]
        uris = [
            f"/{prefix}/{compress_ids(ids[start : start + limit])}"
            for start in range(0, len(ids), limit)
        ]
        return json_response({"response": {"getUris": uris}}, content_type=JSON_UTF8)

    def _search(
        self,
        req: Request,
        kind: str,
        columns: tuple[Col, ...],
        reference: dict[str, Any] | None = None,
        extra_where: str = "",
        extra_params: tuple[Any, ...] = (),
    ) -> Response:
        """Brightpearl's resource search: filters by column, 1-based firstResult, pageSize."""
        by_name = {c.name: (i, c) for i, c in enumerate(columns)}
        where: list[str] = [extra_where] if extra_where else []
        params: list[Any] = list(extra_params)
        for name, values in req.query.items():
            if name not in by_name:
                continue  # filters the sandbox does not know are ignored (unconfirmed)
            index, col = by_name[name]
            value = values[0]
            expr = col.sql or f"json_extract(row, '$[{index}]')"
            try:
                clause, clause_params = _filter(col, expr, value)
            except ValueError:
                return errors(
                    "CMNC-018",
                    f"The filter {name}={value} cannot be parsed as: {col.type}",
                    500,
                )
            where.append(clause)
            params.extend(clause_params)
        try:
            page_size = int(req.q("pageSize") or self.settings.brightpearl_default_page_size)
            first = int(req.q("firstResult") or 1)
        except ValueError:
            return errors("CMNC-018", "pageSize and firstResult must be integers", 500)
        page_size = max(1, min(page_size, self.settings.brightpearl_max_page_size))
        first = max(first, 1)
        order_sql, sort_meta = _sort(req.q("sort"), columns, by_name)
        if order_sql is None:
            return errors("CMNC-018", f"The sort {req.q('sort')} cannot be parsed", 500)
        where_sql = " AND ".join(f"({w})" for w in where)
        total, rows = self.app.store.search_page(
            V, req.account.code, kind, where_sql, params, order_sql, page_size, first - 1
        )
        picked = req.q("columns")
        shown = columns
        if picked:
            names = [n.strip() for n in picked.split(",") if n.strip() in by_name]
            shown = tuple(by_name[n][1] for n in names)
            indexes = [by_name[n][0] for n in names]
            rows = [dumps([json.loads(r)[i] for i in indexes]) for r in rows]
        returned = len(rows)
        meta = {
            "morePagesAvailable": first - 1 + returned < total,
            "resultsAvailable": total,
            "resultsReturned": returned,
            "firstResult": first if returned else 0,
            "lastResult": first - 1 + returned if returned else 0,
            "columns": [c.meta() for c in shown],
            "sorting": sort_meta,
        }
        text = (
            '{"response":{"results":['
            + ",".join(rows)
            + '],"metaData":'
            + dumps(meta)
            + '},"reference":'
            + dumps(reference or {})
            + "}"
        )
        return raw_json(text, content_type=JSON_UTF8)

    def _statuses(self, account: str) -> dict[int, dict[str, Any]]:
        return {int(i): json.loads(d) for i, d in self.app.store.rows(V, account, "order_status")}

    def _order_reference(self, account: str) -> dict[str, Any]:
        return {
            "orderShippingStatusNames": SHIPPING_STATUS_NAMES,
            "orderTypeNames": ORDER_TYPE_NAMES,
            "orderPaymentStatusNames": {str(v): k for k, v in PAYMENT_STATUS_IDS.items()},
            "orderStockStatusNames": STOCK_STATUS_NAMES,
            "orderStatusNames": {str(k): v["name"] for k, v in self._statuses(account).items()},
        }

    def _touch_order(self, account: str, doc: dict[str, Any], when: datetime | None = None) -> None:
        doc["updatedOn"] = iso_ms(when or utcnow())
        doc["version"] = doc.get("version", 1) + 1
        self.app.store.put(order_rec(account, doc))

    # --- order service ---------------------------------------------------------------------

    @route("GET", r"/order-service/order/(?P<ids>[^/]+)")
    def order_get(self, req: Request, ids: str) -> Response:
        return self._get_list(req, "order", ids, self.settings.brightpearl_idset_max)

    @route("OPTIONS", r"/order-service/order(?:/(?P<ids>[^/]*))?")
    def order_options(self, req: Request, ids: str | None = None) -> Response:
        return self._options(req, "order", ids or "", "order", self.settings.brightpearl_idset_max)

    @route("GET", r"/order-service/order-search")
    def order_search(self, req: Request) -> Response:
        return self._search(req, "order", ORDER_COLUMNS, self._order_reference(req.account.code))

    @route("GET", r"/order-service/order-status(?:/(?P<ids>[^/]*))?")
    def order_status_get(self, req: Request, ids: str | None = None) -> Response:
        rows = self.app.store.rows(V, req.account.code, "order_status")
        if ids:
            try:
                wanted = {str(i) for i in parse_idset(ids)}
            except ValueError:
                return errors("CMNC-404", f"Cannot parse the id set {ids}", 404)
            rows = [r for r in rows if r[0] in wanted]
        return raw_json(
            '{"response":[' + ",".join(d for _, d in rows) + "]}", content_type=JSON_UTF8
        )

    @route("PUT", r"/order-service/order/(?P<order_id>\d+)/status")
    def order_status_put(self, req: Request, order_id: str) -> Response:
        body = req.json()
        if not isinstance(body, dict) or "orderStatusId" not in body:
            return errors("ORDC-016", "You have not supplied an order status id", 400)
        result = self.set_status(req, int(order_id), int(body["orderStatusId"]))
        if isinstance(result, Response):
            return result
        return raw_json("{}", content_type=JSON_UTF8)

    def set_status(
        self, req: Request, order_id: int, status_id: int, copies: int = 1
    ) -> dict[str, Any] | Response:
        """Change an order's status and fire order.modified.order-status (API and back office).

        A sales credit is one record seen twice, as an SC order and as the sales-credit
        resource: both take the new status and the same updatedOn, and the credit's own
        event fires too (`sales-credit.modified.order-status`, unconfirmed name, see README).
        """
        account = req.account
        store = self.app.store
        doc = store.get_json(V, account.code, "order", order_id)
        if doc is None:
            return errors("ORDC-001", f"Order {order_id} does not exist", 404)
        status = self._statuses(account.code).get(status_id)
        if status is None or status["orderTypeCode"] != doc["orderTypeCode"]:
            return errors("ORDC-017", f"Order status {status_id} is not valid for this order", 400)
        now = utcnow()
        doc["orderStatus"] = {"orderStatusId": status_id, "name": status["name"]}
        self._touch_order(account.code, doc, now)
        fire(self.app, req, account, "order.modified.order-status", order_id, copies)
        if doc["orderTypeCode"] == "SC":
            credit = store.get_json(V, account.code, "sales_credit", order_id)
            if credit is not None:
                credit["statusId"] = status_id
                credit["updatedOn"] = doc["updatedOn"]
                store.put(credit_rec(account.code, credit))
                fire(self.app, req, account, CREDIT_STATUS_EVENT, order_id, copies)
        return doc

    @route("POST", r"/order-service/order")
    def order_post(self, req: Request) -> Response:
        """The low-level order POST: the order first, rows added by order-row POSTs."""
        body = req.json()
        if not isinstance(body, dict) or not body.get("orderTypeCode"):
            return errors("ORDC-005", "You have not supplied an order type code", 400)
        if body["orderTypeCode"] not in ORDER_TYPE_IDS:
            return errors("ORDC-006", f"Unknown order type code {body['orderTypeCode']}", 400)
        return self._create_order(req, body, rows=[])

    @route("POST", r"/order-service/sales-order")
    def sales_order_post(self, req: Request) -> Response:
        """The atomic sales-order POST: order and rows in one call (fires sales-order.created).

        Body (v2 style, unconfirmed in detail): {customer:{id}, ref, externalRef, channelId,
        currency:{code}, warehouseId, statusId, priceListId, placedOn, rows:[{productId |
        sku, name, quantity, net, tax, taxCode, nominalCode}]}.
        """
        body = req.json()
        if not isinstance(body, dict):
            raise BadRequest("The body must be a JSON object")
        customer = body.get("customer") or {}
        order_body = {
            "orderTypeCode": "SO",
            "reference": body.get("ref", ""),
            "externalRef": body.get("externalRef", ""),
            "priceListId": body.get("priceListId", 1),
            "placedOn": body.get("placedOn"),
            "warehouseId": body.get("warehouseId", 1),
            "orderStatus": {"orderStatusId": body.get("statusId")} if body.get("statusId") else {},
            "currency": {"orderCurrencyCode": (body.get("currency") or {}).get("code", "GBP")},
            "parties": {"customer": {"contactId": customer.get("id")}},
            "assignment": {"current": {"channelId": body.get("channelId", 1)}},
        }
        rows = []
        for row in body.get("rows") or []:
            quantity = Decimal(str(row.get("quantity", 1)))
            net = Decimal(str(row.get("net", 0)))
            tax = Decimal(str(row.get("tax", 0)))
            rows.append(
                {
                    "productId": row.get("productId"),
                    "sku": row.get("sku"),
                    "productName": row.get("name", ""),
                    "quantity": quantity,
                    "price": net / quantity if quantity else net,
                    "taxRate": (tax / net * 100).quantize(Decimal("0.01")) if net else 0,
                    "nominalCode": row.get("nominalCode", "4000"),
                }
            )
        return self._create_order(req, order_body, rows, event="sales-order.created")

    def _create_order(
        self,
        req: Request,
        body: dict[str, Any],
        rows: list[dict[str, Any]],
        event: str = "order.created",
    ) -> Response:
        account = req.account
        store = self.app.store
        contact_id = ((body.get("parties") or {}).get("customer") or {}).get("contactId")
        contact = store.get_json(V, account.code, "contact", contact_id) if contact_id else None
        if contact is None:
            return errors("ORDC-012", f"Customer contact {contact_id} does not exist", 400)
        resolved = []
        for n, row in enumerate(rows, start=1):
            product = self._find_product(account.code, row.get("productId"), row.get("sku"))
            if product is None:
                return errors(
                    "ORDC-023",
                    f"Product {row.get('productId') or row.get('sku')} does not exist",
                    400,
                )
            resolved.append(_row_from_product(product, row, n))
        statuses = self._statuses(account.code)
        wanted = (body.get("orderStatus") or {}).get("orderStatusId")
        type_code = body["orderTypeCode"]
        if wanted:
            status = statuses.get(int(wanted))
            if status is None:
                return errors("ORDC-017", f"Order status {wanted} does not exist", 400)
        else:
            status = min(
                (s for s in statuses.values() if s["orderTypeCode"] == type_code),
                key=lambda s: s["sortOrder"],
            )
        order_id = store.max_num(V, account.code, ["order"]) + 1
        now = utcnow()
        placed = parse_time(body["placedOn"]) if body.get("placedOn") else now
        doc = order_doc(
            order_id=order_id,
            type_code=type_code,
            status=status,
            contact=_contact_summary(contact),
            rows=[{**r, "rowId": order_id * 10 + i} for i, r in enumerate(resolved, start=1)],
            placed=placed,
            updated=now,
            reference=body.get("reference", ""),
            external_ref=body.get("externalRef", ""),
            warehouse_id=body.get("warehouseId", 1),
            channel_id=((body.get("assignment") or {}).get("current") or {}).get("channelId", 1),
            price_list_id=body.get("priceListId", 1),
            currency=(body.get("currency") or {}).get("orderCurrencyCode", "GBP"),
        )
        store.put(order_rec(account.code, doc))
        fire(self.app, req, account, event, order_id)
        if event != "order.created":
            fire(self.app, req, account, "order.created", order_id)
        return json_response({"response": order_id}, content_type=JSON_UTF8)

    @route("POST", r"/order-service/order/(?P<order_id>\d+)/row")
    def order_row_post(self, req: Request, order_id: str) -> Response:
        """Add a row: {productId, productName, quantity:{magnitude}, rowValue:{taxCode, rowNet:
        {value}, rowTax:{value}}, nominalCode}. Answers the new row id."""
        account = req.account
        doc = self.app.store.get_json(V, account.code, "order", order_id)
        if doc is None:
            return errors("ORDC-001", f"Order {order_id} does not exist", 404)
        body = req.json()
        if not isinstance(body, dict):
            raise BadRequest("The body must be a JSON object")
        product = self._find_product(account.code, body.get("productId"), body.get("sku"))
        if body.get("productId") and product is None:
            return errors("ORDC-023", f"Product {body['productId']} does not exist", 400)
        quantity = Decimal(str((body.get("quantity") or {}).get("magnitude", 1)))
        value = body.get("rowValue") or {}
        net = Decimal(str((value.get("rowNet") or {}).get("value", 0)))
        tax = Decimal(str((value.get("rowTax") or {}).get("value", 0)))
        rows = _rows_back(doc)
        row_id = max([int(r) for r in doc["orderRows"]] + [int(order_id) * 10]) + 1
        rows.append(
            {
                "rowId": row_id,
                "productId": product["id"] if product else 0,
                "productName": body.get("productName")
                or (product["salesChannels"][0]["productName"] if product else ""),
                "sku": product["identity"]["sku"] if product else "",
                "quantity": quantity,
                "price": net / quantity if quantity else net,
                "taxRate": (tax / net * 100).quantize(Decimal("0.01")) if net else 0,
                "nominalCode": body.get("nominalCode", "4000"),
            }
        )
        _rebuild_rows(doc, rows)
        self._touch_order(account.code, doc)
        return json_response({"response": row_id}, content_type=JSON_UTF8)

    def _find_product(self, account: str, product_id: Any, sku: Any) -> dict[str, Any] | None:
        store = self.app.store
        if product_id:
            return store.get_json(V, account, "product", product_id)
        if sku:
            found = store.rows(V, account, "product", "lookup = ?", (str(sku).lower(),), "data")
            return json.loads(found[0][0]) if found else None
        return None

    # --- sales credits ---------------------------------------------------------------------

    @route("GET", r"/order-service/sales-credit/(?P<ids>[^/]+)")
    def sales_credit_get(self, req: Request, ids: str) -> Response:
        wanted = self._ids(ids, self.settings.brightpearl_idset_max)
        if isinstance(wanted, Response):
            return wanted
        found = self.app.store.get_many(V, req.account.code, "sales_credit", wanted)
        parts = [found[str(i)] for i in sorted(wanted) if str(i) in found]
        if parts and len(parts) < len(wanted):
            # A partial hit is a multi-status answer (README: "A partial hit returns 207").
            missing = [i for i in sorted(wanted) if str(i) not in found]
            text = (
                '{"response":['
                + ",".join(parts)
                + '],"errors":'
                + dumps(
                    [
                        {"code": "CMNC-404", "message": f"Sales credit {i} was not found"}
                        for i in missing
                    ]
                )
                + "}"
            )
            return raw_json(text, 207, content_type=JSON_UTF8)
        return raw_json('{"response":[' + ",".join(parts) + "]}", content_type=JSON_UTF8)

    @route("POST", r"/order-service/sales-credit")
    def sales_credit_post(self, req: Request) -> Response:
        """Raise a credit on a sales order: {parentId, rows:[{productId|sku, quantity, net?}],
        statusId?} (statusId: any SC status; default the first, "Sales credit").

        Refused when the parent order is not invoiced (the seeds' "blocked refund").
        """
        body = req.json()
        if not isinstance(body, dict) or not body.get("parentId"):
            return errors("ORDC-030", "A sales credit needs the parentId of its sales order", 400)
        status_id = body.get("statusId")
        result = self.raise_credit(
            req,
            int(body["parentId"]),
            body.get("rows"),
            status_id=int(status_id) if status_id is not None else None,
        )
        if isinstance(result, Response):
            return result
        return json_response({"response": result["id"]}, content_type=JSON_UTF8)

    def raise_credit(
        self,
        req: Request,
        order_id: int,
        rows: list[dict[str, Any]] | None,
        copies: int = 1,
        status_id: int | None = None,
    ) -> dict[str, Any] | Response:
        """Raise a credit, in the first SC status or in `status_id` (e.g. 11, already complete)."""
        account = req.account
        store = self.app.store
        order = store.get_json(V, account.code, "order", order_id)
        if order is None or order["orderTypeCode"] != "SO":
            return errors("ORDC-001", f"Sales order {order_id} does not exist", 404)
        if not order["invoices"][0]["invoiceReference"]:
            return errors(
                "ORDC-031",
                f"Sales order {order_id} has not been invoiced, so it cannot be credited",
                400,
            )
        by_product = {r["productId"]: r for r in order["orderRows"].values()}
        by_sku = {r["productSku"]: r for r in order["orderRows"].values()}
        credit_rows = []
        for wanted in rows or [next(iter(order["orderRows"].values()))]:
            source = by_product.get(wanted.get("productId")) or by_sku.get(
                wanted.get("sku") or wanted.get("productSku")
            )
            if source is None:
                return errors("ORDC-032", "A credit row names a product not on the order", 400)
            quantity = wanted.get("quantity", source["quantity"]["magnitude"])
            if isinstance(quantity, dict):
                quantity = quantity.get("magnitude", 1)
            credit_rows.append(
                {
                    "productId": source["productId"],
                    "name": source["productName"],
                    "sku": source["productSku"],
                    "quantity": Decimal(str(quantity)),
                    "price": Decimal(source["productPrice"]["value"]),
                    "taxRate": Decimal(source["rowValue"]["taxRate"]),
                }
            )
        credit_statuses = [
            s
            for s in sorted(self._statuses(account.code).values(), key=lambda s: s["sortOrder"])
            if s["orderTypeCode"] == "SC"
        ]
        if status_id is None:
            status = credit_statuses[0]
        else:
            status = next((s for s in credit_statuses if s["statusId"] == status_id), None)
            if status is None:
                return errors(
                    "ORDC-017", f"Order status {status_id} is not valid for a sales credit", 400
                )
        credit_id = store.max_num(V, account.code, ["order"]) + 1
        credit = credit_doc(
            credit_id=credit_id, order=order, status=status, rows=credit_rows, created=utcnow()
        )
        store.put_many(credit_recs(account.code, credit, order, status))
        fire(self.app, req, account, "sales-credit.created", credit_id, copies)
        fire(self.app, req, account, "order.created", credit_id, copies)
        return credit

    # --- warehouse service -----------------------------------------------------------------

    @route(
        "GET",
        r"/warehouse-service/order/(?P<orders>[^/]+)/goods-note/goods-out(?:/(?P<notes>[^/]*))?",
    )
    def goods_out_get(self, req: Request, orders: str, notes: str | None = None) -> Response:
        limit = self.settings.brightpearl_gon_idset_max
        store = self.app.store
        code = req.account.code
        if notes:
            note_ids = self._ids(notes, limit)
            if isinstance(note_ids, Response):
                return note_ids
            found = store.get_many(V, code, "goods_out_note", note_ids)
            items = sorted((int(k), v) for k, v in found.items())
            if orders != "*":
                order_ids = self._ids(orders, limit)
                if isinstance(order_ids, Response):
                    return order_ids
                allowed = set(order_ids)
                items = [(k, v) for k, v in items if json.loads(v)["orderId"] in allowed]
        else:
            if orders == "*":
                return errors("CMNC-400", "Name an order id set or a goods-out note id set", 400)
            order_ids = self._ids(orders, limit)
            if isinstance(order_ids, Response):
                return order_ids
            marks = ",".join("?" * len(order_ids))
            # "+num": sort the few notes found by the parent index, rather than let the
            # planner walk every note in num order to avoid that sort.
            items = [
                (int(i), d)
                for i, d in store.rows(
                    V,
                    code,
                    "goods_out_note",
                    f"parent IN ({marks})",
                    [str(o) for o in order_ids],
                    order="+num, id",
                )
            ]
        text = '{"response":{' + ",".join(f'"{k}":{v}' for k, v in items) + "}}"
        return raw_json(text, content_type=JSON_UTF8)

    @route("GET", r"/warehouse-service/goods-note/goods-out-search")
    def goods_out_search(self, req: Request) -> Response:
        return self._search(req, "goods_out_note", GON_COLUMNS)

    def ship_note(self, req: Request, note_id: int, copies: int = 1) -> dict[str, Any] | Response:
        """Mark a goods-out note shipped (back office), update its order, fire the events."""
        account = req.account
        store = self.app.store
        doc = store.get_json(V, account.code, "goods_out_note", note_id)
        if doc is None:
            return errors("WHSC-404", f"Goods-out note {note_id} does not exist", 404)
        if doc["status"]["shipped"]:
            return errors("WHSC-022", f"Goods-out note {note_id} has already been shipped", 400)
        now = utcnow()
        doc["status"] = ship_status(now)
        doc["events"] += ship_events(now)
        doc["lastEventVersion"] += 4
        order = store.get_json(V, account.code, "order", doc["orderId"])
        channel = order["assignment"]["current"]["channelId"] if order else 1
        store.put(gon_rec(account.code, note_id, doc, channel))
        fire(self.app, req, account, "goods-out-note.modified.shipped", note_id, copies)
        if order is not None:
            siblings = [
                json.loads(d)
                for (d,) in store.rows(
                    V, account.code, "goods_out_note", "parent = ?", (str(order["id"]),), "data"
                )
            ]
            all_shipped = all(n["status"]["shipped"] for n in siblings)
            order["shippingStatusCode"] = "ASS" if all_shipped else "SPS"
            # Brightpearl bumps the order's updatedOn when a note ships: a client that only
            # searches orders by updatedOn still sees the change.
            self._touch_order(account.code, order, now)
            if all_shipped:
                fire(self.app, req, account, "order.modified.fully-shipped", order["id"], copies)
        return doc

    @route("GET", r"/warehouse-service/product-availability/(?P<ids>[^/]+)")
    def availability_get(self, req: Request, ids: str) -> Response:
        wanted = self._ids(ids, self.settings.brightpearl_idset_max)
        if isinstance(wanted, Response):
            return wanted
        found = self.app.store.get_many(V, req.account.code, "availability", wanted)
        text = '{"response":{' + ",".join(f'"{k}":{v}' for k, v in found.items()) + "}}"
        return raw_json(text, content_type=JSON_UTF8)

    @route("GET", r"/warehouse-service/warehouse(?:/(?P<ids>[^/]*))?")
    def warehouse_get(self, req: Request, ids: str | None = None) -> Response:
        rows = self.app.store.rows(V, req.account.code, "warehouse")
        if ids:
            wanted = {str(i) for i in parse_idset(ids)}
            rows = [r for r in rows if r[0] in wanted]
        return raw_json(
            '{"response":[' + ",".join(d for _, d in rows) + "]}", content_type=JSON_UTF8
        )

    # --- product service -------------------------------------------------------------------

    @route("GET", r"/product-service/product/(?P<ids>[^/]+)")
    def product_get(self, req: Request, ids: str) -> Response:
        return self._get_list(req, "product", ids, self.settings.brightpearl_idset_max)

    @route("OPTIONS", r"/product-service/product(?:/(?P<ids>[^/]*))?")
    def product_options(self, req: Request, ids: str | None = None) -> Response:
        return self._options(
            req, "product", ids or "", "product", self.settings.brightpearl_idset_max
        )

    @route("GET", r"/product-service/product-search")
    def product_search(self, req: Request) -> Response:
        return self._search(req, "product", PRODUCT_COLUMNS)

    # --- contact service -------------------------------------------------------------------

    @route("GET", r"/contact-service/contact/(?P<ids>[^/]+)")
    def contact_get(self, req: Request, ids: str) -> Response:
        return self._get_list(req, "contact", ids, self.settings.brightpearl_idset_max)

    @route("OPTIONS", r"/contact-service/contact(?:/(?P<ids>[^/]*))?")
    def contact_options(self, req: Request, ids: str | None = None) -> Response:
        return self._options(
            req, "contact", ids or "", "contact", self.settings.brightpearl_idset_max
        )

    @route("GET", r"/contact-service/contact-search")
    def contact_search(self, req: Request) -> Response:
        return self._search(req, "contact", CONTACT_COLUMNS)

    @route("POST", r"/contact-service/contact")
    def contact_post(self, req: Request) -> Response:
        body = req.json()
        if not isinstance(body, dict):
            raise BadRequest("The body must be a JSON object")
        if not (body.get("firstName") or body.get("lastName")):
            return errors("CONC-010", "A contact needs a first name or a last name", 400)
        store = self.app.store
        code = req.account.code
        contact_id = store.max_num(V, code, ["contact"]) + 1
        emails = (body.get("communication") or {}).get("emails") or {}
        phones = (body.get("communication") or {}).get("telephones") or {}
        now = utcnow()
        doc = contact_doc(
            contact_id=contact_id,
            first=body.get("firstName", ""),
            last=body.get("lastName", ""),
            email=(emails.get("PRI") or {}).get("email", ""),
            phone=phones.get("PRI", ""),
            tags=[],
            customer_group="Retail",
            created=now,
            updated=now,
            company=(body.get("organisation") or {}).get("name", ""),
        )
        store.put(contact_rec(code, doc))
        fire(self.app, req, req.account, "contact.created", contact_id)
        return json_response({"response": contact_id}, content_type=JSON_UTF8)

    @route("GET", r"/contact-service/tag(?:/(?P<ids>[^/]*))?")
    def tag_get(self, req: Request, ids: str | None = None) -> Response:
        rows = self.app.store.rows(V, req.account.code, "tag")
        if ids:
            wanted = {str(i) for i in parse_idset(ids)}
            rows = [r for r in rows if r[0] in wanted]
        text = '{"response":{' + ",".join(f'"{i}":{d}' for i, d in rows) + "}}"
        return raw_json(text, content_type=JSON_UTF8)

    @route("POST", r"/contact-service/contact/(?P<ids>[^/]+)/tag/(?P<tags>[^/]+)")
    def contact_tag_post(self, req: Request, ids: str, tags: str) -> Response:
        contact_ids = self._ids(ids, self.settings.brightpearl_idset_max)
        if isinstance(contact_ids, Response):
            return contact_ids
        tag_ids = self._ids(tags, self.settings.brightpearl_idset_max)
        if isinstance(tag_ids, Response):
            return tag_ids
        store = self.app.store
        code = req.account.code
        known = {r[0] for r in store.rows(V, code, "tag", columns="id")}
        unknown = [t for t in tag_ids if str(t) not in known]
        if unknown:
            return errors("CONC-040", f"Tag {unknown[0]} does not exist", 400)
        found = store.get_many(V, code, "contact", contact_ids)
        now = utcnow()
        for text in found.values():
            doc = json.loads(text)
            current = [int(t) for t in doc["contactTags"].split(",") if t]
            doc["contactTags"] = ",".join(str(t) for t in sorted(set(current) | set(tag_ids)))
            doc["updatedOn"] = iso_ms(now)
            store.put(contact_rec(code, doc))
        return raw_json("{}", content_type=JSON_UTF8)

    @route("GET", r"/contact-service/contact/(?P<contact_id>\d+)/custom-field")
    def custom_field_get(self, req: Request, contact_id: str) -> Response:
        store = self.app.store
        if store.get(V, req.account.code, "contact", contact_id) is None:
            return errors("CONC-404", f"Contact {contact_id} does not exist", 404)
        custom = store.get(V, req.account.code, "contact_custom", contact_id) or "{}"
        return raw_json('{"response":' + custom + "}", content_type=JSON_UTF8)

    @route("PATCH", r"/contact-service/contact/(?P<contact_id>\d+)/custom-field")
    def custom_field_patch(self, req: Request, contact_id: str) -> Response:
        """JSON-Patch on the custom fields. Like Brightpearl, updatedOn does not move."""
        store = self.app.store
        code = req.account.code
        if store.get(V, code, "contact", contact_id) is None:
            return errors("CONC-404", f"Contact {contact_id} does not exist", 404)
        custom = json.loads(store.get(V, code, "contact_custom", contact_id) or "{}")
        ops = req.json()
        if not isinstance(ops, list):
            raise BadRequest("The body must be a JSON-Patch array")
        for op in ops:
            key = str(op.get("path", "")).lstrip("/")
            if not key:
                raise BadRequest("Every operation needs a path such as /PCF_LOYALTY")
            if op.get("op") in ("add", "replace"):
                custom[key] = op.get("value")
            elif op.get("op") == "remove":
                custom.pop(key, None)
            else:
                raise BadRequest(f"Unsupported operation {op.get('op')!r}")
        store.put(simple_rec(code, "contact_custom", int(contact_id), custom))
        return json_response({"response": custom}, content_type=JSON_UTF8)

    # --- integration service: webhooks -------------------------------------------------------

    @route("GET", r"/integration-service/webhook(?:/(?P<ids>[^/]*))?")
    def webhook_get(self, req: Request, ids: str | None = None) -> Response:
        rows = self.app.store.rows(V, req.account.code, "webhook")
        if ids:
            wanted = {str(i) for i in parse_idset(ids)}
            rows = [r for r in rows if r[0] in wanted]
        return raw_json(
            '{"response":[' + ",".join(d for _, d in rows) + "]}", content_type=JSON_UTF8
        )

    @route("POST", r"/integration-service/webhook")
    def webhook_post(self, req: Request) -> Response:
        body = req.json()
        if not isinstance(body, dict):
            raise BadRequest("The body must be a JSON object")
        for field in ("subscribeTo", "httpMethod", "uriTemplate"):
            if not body.get(field):
                return errors("INTC-001", f"{field} is required", 400)
        if body["httpMethod"].upper() not in ("GET", "POST", "PUT", "DELETE"):
            return errors("INTC-002", "httpMethod must be GET, POST, PUT or DELETE", 400)
        store = self.app.store
        code = req.account.code
        hook_id = store.max_num(V, code, ["webhook"]) + 1
        doc = {
            "id": hook_id,
            "subscribeTo": body["subscribeTo"],
            "httpMethod": body["httpMethod"].upper(),
            "uriTemplate": body["uriTemplate"],
            "bodyTemplate": body.get("bodyTemplate", ""),
            "contentType": body.get("contentType", "application/json"),
            "idSetAccepted": bool(body.get("idSetAccepted", False)),
            "qualityOfService": int(body.get("qualityOfService", 1)),
        }
        store.put(simple_rec(code, "webhook", hook_id, doc))
        return json_response({"response": hook_id}, content_type=JSON_UTF8)

    @route("DELETE", r"/integration-service/webhook/(?P<hook_id>\d+)")
    def webhook_delete(self, req: Request, hook_id: str) -> Response:
        if not self.app.store.delete(V, req.account.code, "webhook", hook_id):
            return errors("INTC-404", f"Webhook {hook_id} does not exist", 404)
        return raw_json("{}", content_type=JSON_UTF8)


# --- small helpers ------------------------------------------------------------------------------


def _with_custom(text: str, custom: str) -> str:
    """Splice customFields into a stored record without re-serialising it."""
    return text[:-1] + ',"customFields":' + custom + "}"


def _contact_summary(contact: dict[str, Any]) -> dict[str, Any]:
    return {
        "contactId": contact["contactId"],
        "name": f"{contact['firstName']} {contact['lastName']}".strip(),
        "company": (contact.get("organisation") or {}).get("name", ""),
        "email": contact_email(contact),
        "phone": (contact["communication"].get("telephones") or {}).get("PRI", ""),
        "line1": "1 High Street",
        "city": "London",
        "postcode": "EC1A 1AA",
    }


def _row_from_product(product: dict[str, Any], row: dict[str, Any], n: int) -> dict[str, Any]:
    return {
        "productId": product["id"],
        "productName": row.get("productName") or product["salesChannels"][0]["productName"],
        "sku": product["identity"]["sku"],
        "quantity": row["quantity"],
        "price": row["price"],
        "taxRate": row.get("taxRate", 20),
        "nominalCode": row.get("nominalCode", "4000"),
    }


def _rows_back(doc: dict[str, Any]) -> list[dict[str, Any]]:
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


def _rebuild_rows(doc: dict[str, Any], rows: list[dict[str, Any]]) -> None:
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


def _filter(col: Col, expr: str, value: str) -> tuple[str, list[Any]]:
    """One search filter as SQL. Raises ValueError when the value does not parse as the type."""
    if col.type == "IDSET":
        ids = parse_idset(value)
        if not ids:
            raise ValueError(value)
        marks = ",".join("?" * len(ids))
        if expr == "num":
            return f"num IN ({marks})", ids
        if col.sql:
            return f"{expr} IN ({marks})", [str(i) for i in ids]
        return f"{expr} IN ({marks})", ids
    if col.type == "INTEGER":
        number = int(value)
        return (f"{expr} = ?", [str(number)]) if col.sql else (f"{expr} = ?", [number])
    if col.type == "BOOLEAN":
        lowered = value.lower()
        if lowered not in ("true", "false"):
            raise ValueError(value)
        if col.sql:
            return f"{expr} = ?", [lowered]
        return f"{expr} = ?", [1 if lowered == "true" else 0]
    if col.type == "PERIOD":
        start_text, slash, end_text = value.partition("/")
        clauses, params = [], []
        indexed = col.sql is not None
        if start_text.strip():
            start = parse_time(start_text)
            clauses.append(f"{expr} >= ?")
            params.append(sortable(start) if indexed else iso_ms(start))
        if end_text.strip():
            end = parse_time(end_text)
            clauses.append(f"{expr} <= ?")
            params.append(sortable(end) if indexed else iso_ms(end))
        if not slash and start_text.strip():
            # A bare date means that day.
            end = parse_time(start_text)
            if len(start_text.strip()) == 10:
                end = end + timedelta(days=1)
                clauses.append(f"{expr} < ?")
                params.append(sortable(end) if indexed else iso_ms(end))
        if not clauses:
            raise ValueError(value)
        clauses.append(f"{expr} IS NOT NULL")
        return " AND ".join(clauses), params
    if col.type == "SEARCH_STRING":
        if expr == "lookup":
            return "lookup = ?", [value.lower()]  # stored lowercased: the index can find it
        return f"lower({expr}) = ?", [value.lower()]
    return f"{expr} = ?", [value]


def _sort(
    text: str | None, columns: tuple[Col, ...], by_name: dict[str, tuple[int, Col]]
) -> tuple[str | None, list[dict[str, Any]]]:
    """'updatedOn.DESC' (also 'updatedOn|DESC' or 'updatedOn DESC') -> SQL and metaData."""
    if not text:
        first = columns[0]
        # num is the record's own id in every searched kind, so it alone is a total order.
        return "num", [{"filterable": first.meta(), "direction": "ASC"}]
    clauses, meta = [], []
    for part in text.split(","):
        name, direction = part, "ASC"
        for sep in (".", "|", " "):
            if sep in part:
                name, _, direction = part.rpartition(sep)
                break
        direction = direction.upper()
        if name not in by_name or direction not in ("ASC", "DESC"):
            return None, []
        index, col = by_name[name]
        expr = col.sql or f"json_extract(row, '$[{index}]')"
        if expr in ("status", "owner", "type", "parent"):
            expr = f"CAST({expr} AS INTEGER)"
        clauses.append(f"{expr} {direction}")
        meta.append({"filterable": col.meta(), "direction": direction})
    clauses.append("num")
    return ", ".join(clauses), meta


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
