"""A brand's times, as its people read them: its own zone, a 24-hour clock, today/yesterday."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.template import Context, Template
from django.test import override_settings
from django.utils import timezone

from brands.models import Brand
from brands.times import age, ago, full_time, readable_time, zone_of


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


NOW = utc(2026, 12, 3, 15, 0)  # 15:00 in London, 10:00 in New York


@pytest.mark.parametrize(
    ("value", "zone", "expected"),
    [
        (utc(2026, 12, 3, 12, 38), "Europe/London", "today 12:38"),
        (utc(2026, 12, 3, 0, 5), "Europe/London", "today 00:05"),
        (utc(2026, 12, 2, 9, 10), "Europe/London", "yesterday 09:10"),
        (utc(2026, 12, 4, 8, 0), "Europe/London", "tomorrow 08:00"),
        (utc(2026, 11, 30, 14, 2), "Europe/London", "30 Nov 14:02"),
        (utc(2025, 12, 3, 14, 2), "Europe/London", "3 Dec 2025, 14:02"),
        # Afternoon, never "p.m.": a 24-hour clock.
        (utc(2026, 12, 3, 13, 5), "Europe/London", "today 13:05"),
        # The brand's day, not the server's: 03:00 UTC is 22:00 the day before in New York.
        (utc(2026, 12, 3, 3, 0), "America/New_York", "yesterday 22:00"),
        # …and in Tokyo it is already 4 December (00:00): midday on the 3rd was yesterday.
        (utc(2026, 12, 3, 3, 0), "Asia/Tokyo", "yesterday 12:00"),
        (utc(2026, 12, 3, 15, 0), "Asia/Tokyo", "today 00:00"),
    ],
)
def test_readable_time(value, zone, expected):
    assert readable_time(value, zone, now=NOW) == expected


def test_a_brand_is_read_in_its_own_zone():
    tokyo = Brand(name="Kaisha", slug="kaisha", timezone="Asia/Tokyo")
    assert readable_time(utc(2026, 12, 3, 3, 0), tokyo, now=NOW) == "yesterday 12:00"
    assert readable_time(utc(2026, 12, 3, 3, 0), Brand(timezone="Europe/London"), now=NOW) == (
        "today 03:00"
    )


def test_across_the_clocks_going_forward_days_and_hours_stay_right():
    # London went to summer time at 01:00 UTC on Sunday 29 March 2026.
    now = utc(2026, 3, 29, 12, 0)  # 13:00 BST
    assert readable_time(utc(2026, 3, 29, 0, 30), "Europe/London", now=now) == "today 00:30"
    assert readable_time(utc(2026, 3, 29, 1, 30), "Europe/London", now=now) == "today 02:30"
    assert readable_time(utc(2026, 3, 28, 23, 30), "Europe/London", now=now) == "yesterday 23:30"
    assert full_time(utc(2026, 3, 29, 0, 30), "Europe/London").endswith("00:30 GMT (Europe/London)")
    assert full_time(utc(2026, 3, 29, 1, 30), "Europe/London").endswith("02:30 BST (Europe/London)")


def test_across_the_clocks_going_back_the_repeated_hour_is_told_apart():
    # London went back to winter time at 01:00 UTC on Sunday 25 October 2026: 01:30 twice.
    first, second = utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30)
    now = utc(2026, 10, 25, 20, 0)
    assert readable_time(first, "Europe/London", now=now) == "today 01:30"
    assert readable_time(second, "Europe/London", now=now) == "today 01:30"
    assert "01:30 BST" in full_time(first, "Europe/London")
    assert "01:30 GMT" in full_time(second, "Europe/London")
    # 23 h after the last Saturday evening, yet the calendar says yesterday.
    assert readable_time(utc(2026, 10, 24, 21, 0), "Europe/London", now=now) == ("yesterday 22:00")


@override_settings(TIME_ZONE="America/New_York")
def test_anything_but_a_brand_or_a_known_zone_is_read_in_the_consoles_zone():
    assert zone_of(None).key == "America/New_York"
    assert zone_of("Mars/Olympus_Mons").key == "America/New_York"
    assert zone_of(Brand(timezone="")).key == "America/New_York"
    assert readable_time(utc(2026, 12, 3, 3, 0), None, now=NOW) == "yesterday 22:00"


def test_a_naive_time_is_taken_as_the_consoles_own():
    naive = datetime(2026, 12, 3, 12, 38)
    assert readable_time(naive, "Europe/London", now=NOW) == "today 12:38"


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (5, "just now"),
        (60, "1 min"),
        (59 * 60, "59 min"),
        (3600, "1 h"),
        (47 * 3600, "47 h"),
        (48 * 3600, "2 days"),
        (13 * 86400, "13 days"),
        (15 * 86400, "2 weeks"),
        (-30, "just now"),  # a clock a little ahead: never a negative age
    ],
)
def test_age(seconds, expected):
    assert age(NOW - timezone.timedelta(seconds=seconds), now=NOW) == expected


def test_ago():
    assert ago(NOW - timezone.timedelta(seconds=20), now=NOW) == "just now"
    assert ago(NOW - timezone.timedelta(days=3), now=NOW) == "3 days ago"


def test_the_filters_are_on_every_page_without_a_load():
    brand = Brand(name="Yankee", slug="yankee", timezone="America/New_York")
    when = timezone.now() - timezone.timedelta(minutes=3)
    out = Template(
        "{{ when|brand_time:brand }}|{{ when|brand_time_text:brand }}|{{ when|age }}|{{ when|ago }}"
    )
    html, text, old, words = out.render(Context({"when": when, "brand": brand})).split("|")
    local = when.astimezone(zone_of(brand))
    assert text.endswith(f"{local:%H:%M}") and " " in text
    assert html.startswith(f'<time datetime="{when.isoformat()}" title="')
    assert "(America/New_York)" in html and html.endswith(f">{text}</time>")
    assert (old, words) == ("3 min", "3 min ago")


def test_the_filters_leave_an_empty_time_empty():
    out = Template(
        "[{{ none|brand_time }}][{{ none|brand_time_text }}][{{ none|age }}][{{ none|ago }}]"
    )
    assert out.render(Context({"none": None})) == "[][][][]"
