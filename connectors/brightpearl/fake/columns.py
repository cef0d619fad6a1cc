"""The search columns Brightpearl's resource searches answer, and their filters and sorts as SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from connectors.sandbox.core import iso_ms, parse_idset, parse_time, sortable

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


def search_filter(col: Col, expr: str, value: str) -> tuple[str, list[Any]]:
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


def search_sort(
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
