"""Record links: made once, found from either side, and the safe-create protocol's steps."""

from __future__ import annotations

import pytest

from connectors.errors import RejectedError, TransientError
from syncs import links
from syncs.models import RecordLink

pytestmark = pytest.mark.django_db


def test_a_record_is_linked_once_however_often_it_is_resolved(brand_a):
    first = links.links_resolve(
        brand_id=brand_a.pk, kind="order", system="brightpearl", ids=["1", "2"]
    )
    again = links.links_resolve(
        brand_id=brand_a.pk, kind="order", system="brightpearl", ids=["2", "3"]
    )
    assert first["2"].pk == again["2"].pk
    assert first["1"].entity == "order:brightpearl:1"
    assert RecordLink.objects.filter(brand=brand_a).count() == 3


def test_an_entity_is_found_from_the_other_side(brand_a):
    bc = links.links_resolve(brand_id=brand_a.pk, kind="order", system="bigcommerce", ids=["120"])
    pending = links.create_begin(
        brand_id=brand_a.pk,
        kind="order",
        system="brightpearl",
        entity=bc["120"].entity,
        create_key="storefront_orders:120",
        natural_key="120",
    )
    assert pending.pending
    done = links.create_done(pending, external_id="5001", digest="h", view={"s": 1}, flow="f")
    found = links.links_of_entities(
        brand_id=brand_a.pk, kind="order", system="brightpearl", entities=[bc["120"].entity]
    )
    assert found[bc["120"].entity].external_id == "5001" == done.external_id
    assert done.written_hash == "h"


def test_a_create_completed_for_a_record_another_flow_linked_first_joins_the_entities(brand_a):
    """The webhook of the order the console just created reached another flow before the
    create's answer was stored: that flow linked the record as an entity of its own. When the
    answer is stored, the two are one entity, and nothing is linked twice."""
    bc = links.links_resolve(brand_id=brand_a.pk, kind="order", system="bigcommerce", ids=["7"])
    pending = links.create_begin(
        brand_id=brand_a.pk,
        kind="order",
        system="brightpearl",
        entity=bc["7"].entity,
        create_key="k",
        natural_key="7",
    )
    early = links.links_resolve(
        brand_id=brand_a.pk, kind="order", system="brightpearl", ids=["9001"]
    )["9001"]
    links.links_ensure(
        brand_id=brand_a.pk, kind="order", system="ometria", records=[(early.entity, "9001")]
    )
    done = links.create_done(pending, external_id="9001")
    assert done.pk == early.pk and done.entity == bc["7"].entity
    assert set(
        RecordLink.objects.filter(brand=brand_a, entity=bc["7"].entity).values_list(
            "system", flat=True
        )
    ) == {"bigcommerce", "brightpearl", "ometria"}
    assert not RecordLink.objects.filter(pk=pending.pk).exists()


def make(brand, **kwargs):
    calls = {"find": 0, "create": 0}

    def find():
        calls["find"] += 1
        return kwargs.get("found")

    def create():
        calls["create"] += 1
        if "fail" in kwargs:
            raise kwargs["fail"]
        return "42"

    def go():
        return links.link_or_create(
            brand_id=brand.pk,
            kind="contact",
            system="brightpearl",
            entity="contact:email:a@example.com",
            natural_key="a@example.com",
            create_key="flow:customer:a@example.com",
            find=find,
            create=create,
        )

    return go, calls


def test_link_or_create_searches_before_it_creates_and_then_never_again(brand_a):
    go, calls = make(brand_a, found="17")
    assert go() == "17" and calls == {"find": 1, "create": 0}
    assert go() == "17" and calls == {"find": 1, "create": 0}  # linked: no call at all


def test_link_or_create_after_a_lost_answer_looks_before_creating_again(brand_a):
    go, calls = make(brand_a, fail=TransientError("lost", vendor="brightpearl"))
    with pytest.raises(TransientError):
        go()
    assert calls == {"find": 1, "create": 1}
    link = RecordLink.objects.get(brand=brand_a, create_key="flow:customer:a@example.com")
    assert link.external_id is None  # pending: the create may have happened
    # The next attempt finds it (the lost create had made it): no second create.
    go2, calls2 = make(brand_a, found="42")
    assert go2() == "42" and calls2 == {"find": 1, "create": 0}
    assert RecordLink.objects.filter(brand=brand_a, kind="contact").count() == 1


def test_link_or_create_refused_outright_leaves_nothing_pending(brand_a):
    go, calls = make(brand_a, fail=RejectedError("no last name", vendor="brightpearl"))
    with pytest.raises(RejectedError):
        go()
    assert calls == {"find": 1, "create": 1}
    assert not RecordLink.objects.filter(brand=brand_a, kind="contact").exists()
