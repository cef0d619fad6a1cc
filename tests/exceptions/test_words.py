"""The small pieces of plain English the ticket pages are written with (exceptions/words.py)."""

from __future__ import annotations

import pytest

from exceptions.words import count, duration, joined, money, system_name, vendor_name


@pytest.mark.parametrize(
    ("items", "total", "expected"),
    [
        ([], None, ""),
        (["1001"], None, "1001"),
        (["1001", "1002"], None, "1001 and 1002"),
        (["1", "2", "3"], None, "1, 2 and 3"),
        (["1", "2"], 5, "1, 2 and 3 more"),
        ([str(n) for n in range(25)], None, ", ".join(str(n) for n in range(20)) + " and 5 more"),
        ([], 4, "4 not listed"),
    ],
)
def test_joined(items, total, expected):
    assert joined(items, total) == expected


@pytest.mark.parametrize(
    ("value", "currency", "expected"),
    [
        ("84", "GBP", "£84.00"),
        ("1234.5", "eur", "€1,234.50"),
        ("-4.005", "USD", "-$4.01"),
        ("12", "SEK", "12.00 SEK"),
        ("12", "", "12.00"),
        ("n/a", "GBP", "n/a"),
        (None, "GBP", "None"),
    ],
)
def test_money(value, currency, expected):
    assert money(value, currency) == expected


def test_counts_durations_and_names():
    assert count(1, "order") == "1 order"
    assert count(1204, "order") == "1,204 orders"
    assert count(2, "SKU") == "2 SKUs"
    assert duration(45) == "45 minutes"
    assert duration(90) == "1 h 30 min"
    assert duration(120) == "2 h"
    assert duration(60 * 72) == "3 days"
    assert system_name("bigcommerce") == "BigCommerce"
    assert system_name("new_vendor") == "New Vendor"
    assert vendor_name("console") == "Console"
    assert vendor_name("") == "The target system"
