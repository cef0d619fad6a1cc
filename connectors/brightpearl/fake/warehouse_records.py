"""Goods-out note, contact, product and stock documents in the JSON Brightpearl serves."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from connectors.brightpearl.fake.constants import V
from connectors.sandbox.core import dumps, iso_ms, parse_time, sortable
from connectors.sandbox.state import Rec


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
