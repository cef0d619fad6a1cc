"""Salesforce look-ups the order flows need: products by Product Code, and their price-book
entries, by SOQL (`GET /query?q=`, then `nextRecordsUrl`: the client's `query`).

Salesforce needs a PricebookEntry for every OrderItem (`OrderItem.PricebookEntryId` is
required), of the Order's price book and, in a multi-currency org, of the Order's currency
(an entry has one CurrencyIsoCode). Both look-ups go 200 values a query: a SOQL statement may
be 100,000 characters long (SOQL and SOSL Limits), so 200 quoted codes stay far below it, and
each answers in one page of up to 2,000 records.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from connectors.http import chunks

if TYPE_CHECKING:
    from connectors.salesforce.client import Salesforce

PER_QUERY = 200


def soql_quote(value: str) -> str:
    """A SOQL string literal: single quotes, with \\ and ' escaped (SOQL's quoted string
    escape sequences)."""
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def soql_in(values: Iterable[str]) -> str:
    return "(" + ",".join(soql_quote(v) for v in values) + ")"


def ids_by_field(
    sf: Salesforce, sobject: str, field: str, values: Iterable[str]
) -> dict[str, list[str]]:
    """{value: the ids of the records holding it in `field`}, one query a 200 values: the
    look-up after lost answers, in one call where a GET by external id would take one each."""
    found: dict[str, list[str]] = {}
    for batch in chunks(sorted({str(v) for v in values if str(v)}), PER_QUERY):
        # nosec B608 below: SOQL for Salesforce's API, not SQL; field names are constants or
        # settings, and values are quoted by soql_in / soql_quote.
        soql = f"SELECT Id, {field} FROM {sobject} WHERE {field} IN {soql_in(batch)}"  # nosec B608
        for record in sf.query(soql):
            found.setdefault(str(record[field]), []).append(str(record["Id"]))
    return found


def products_by_code(sf: Salesforce, codes: Iterable[str]) -> dict[str, list[str]]:
    """{Product Code: the ids of the active products carrying it}. ProductCode is not unique
    in Salesforce: a code on two products is the caller's to refuse, never a guess."""
    found: dict[str, list[str]] = {}
    for batch in chunks(sorted({str(c) for c in codes if str(c)}), PER_QUERY):
        soql = (
            "SELECT Id, ProductCode FROM Product2 "  # nosec B608
            f"WHERE ProductCode IN {soql_in(batch)} AND IsActive = true"
        )
        for record in sf.query(soql):
            found.setdefault(str(record["ProductCode"]), []).append(str(record["Id"]))
    return found


def pricebook_entries(
    sf: Salesforce, pricebook_id: str, product_ids: Iterable[str], currencies: Iterable[str]
) -> dict[tuple[str, str], dict]:
    """{(Product2Id, CurrencyIsoCode): the active entry} in one price book."""
    found: dict[tuple[str, str], dict] = {}
    wanted = sorted({str(c).upper() for c in currencies if str(c)})
    for batch in chunks(sorted({str(p) for p in product_ids if str(p)}), PER_QUERY):
        soql = (
            "SELECT Id, Product2Id, CurrencyIsoCode, UnitPrice FROM PricebookEntry "  # nosec B608
            f"WHERE Pricebook2Id = {soql_quote(pricebook_id)} AND Product2Id IN {soql_in(batch)}"
            f" AND CurrencyIsoCode IN {soql_in(wanted)} AND IsActive = true"
        )
        for record in sf.query(soql):
            key = (str(record["Product2Id"]), str(record.get("CurrencyIsoCode") or "").upper())
            found[key] = record
    return found
