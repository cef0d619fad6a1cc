"""Named people on two brands, shared by every test package."""

import importlib
import os

import pytest
from django.contrib.auth import get_user_model

from brands.models import Brand, Membership, Team

pytest_plugins = [
    "tests.fixtures.browser",
    "tests.fixtures.flows",
    "tests.fixtures.payments_flow",
    "tests.fixtures.processes",
    "tests.fixtures.sandbox",
]


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto` (`make test`): two workers per core, at most 8. Most tests wait on a sandbox,
    a browser or a cluster, so one worker a core left the cores half idle (the suite took
    9:43 on SQLite and 13:35 on PostgreSQL with two workers on two cores, 6:53 and 10:55
    with four). Each worker runs its own sandbox, Chromium and clusters, and its own Redis
    database (tests/syncs/test_cluster.py: Redis has 16)."""
    return max(1, min(2 * len(os.sched_getaffinity(0)), 8))


def _transactional(item: pytest.Item) -> bool:
    marker = item.get_closest_marker("django_db")
    if marker and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")):
        return True
    return bool({"transactional_db", "live_server"} & set(getattr(item, "fixturenames", ())))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The longest tests first, then the slow ones: a worker that picks up a minute-long test
    near the end keeps the whole run waiting for it. Transactional tests still come after
    the others, as pytest-django ordered them: their flush empties the tables a rolled-back
    test expects seeded by migrations. (A stable sort, so the order is the same in every
    xdist worker, as it must be.)"""

    def weight(item: pytest.Item) -> tuple[bool, int]:
        if item.get_closest_marker("longest"):
            rank = 0
        else:
            rank = 1 if item.get_closest_marker("slow") else 2
        return _transactional(item), rank

    items.sort(key=weight)


def make_user(username: str, brand: Brand | None = None, *teams: str, **extra):
    user = get_user_model().objects.create_user(
        username=username, password="pw", email=f"{username}@example.com", **extra
    )
    for team in teams:
        Membership.objects.create(user=user, brand=brand, team=team)
    return user


def reseed_migrated_rows() -> None:
    """Put back the rows data migrations create (exception types, the default status
    template, the sweeper's schedule): a transactional test's flush deletes them."""
    from django.apps import apps

    for module in (
        "exceptions.migrations.0002_seed_exception_types",
        "exceptions.migrations.0016_sfin_salesforce_account_unlinked_type",
        "exceptions.migrations.0005_more_exception_types",
        "exceptions.migrations.0007_async_rejection_resolves_later",
        "exceptions.migrations.0010_unmapped_value_type",
        "exceptions.migrations.0011_webhook_unknown_ids_type",
        "exceptions.migrations.0012_history_ticket_types",
        "exceptions.migrations.0013_stock_level_refused_type",
        "exceptions.migrations.0013_bigcommerce_orders_types",
        "exceptions.migrations.0013_salesforce_multiple_matches_type",
        "exceptions.migrations.0016_bcprices_price_and_catalogue_types",
        "exceptions.migrations.0016_sforders_salesforce_order_types",
        "exceptions.migrations.0019_refund_unmatched_text",
        "syncs.migrations.0003_seed_defaults_and_sweeper",
    ):
        importlib.import_module(module).seed(apps, None)


@pytest.fixture(autouse=True)
def _migrated_rows(request):
    marker = request.node.get_closest_marker("django_db")
    if marker and marker.kwargs.get("transaction"):
        request.getfixturevalue("transactional_db")
        reseed_migrated_rows()


@pytest.fixture
def brand_a(db):
    return Brand.objects.create(name="Acme Apparel", slug="acme")


@pytest.fixture
def brand_b(db):
    return Brand.objects.create(name="Bravo Beauty", slug="bravo")


@pytest.fixture
def ops_user(brand_a):
    return make_user("olivia_ops", brand_a, Team.OPERATIONS)


@pytest.fixture
def marketing_user(brand_a):
    return make_user("mark_marketing", brand_a, Team.MARKETING)


@pytest.fixture
def finance_user(brand_a):
    return make_user("fiona_finance", brand_a, Team.FINANCE)


@pytest.fixture
def admin_user(brand_a):
    return make_user("ada_admin", brand_a, Team.ADMIN, is_staff=True, is_superuser=True)


@pytest.fixture
def bravo_user(brand_b):
    return make_user("bob_bravo", brand_b, Team.OPERATIONS, Team.FINANCE)
