"""A Brightpearl GET whose id set matches nothing: the documented 404, or the recorded 200 []."""

from __future__ import annotations

from tests.sandbox.conftest import assert_shape, brightpearl, payload


def test_ids_that_exist_nowhere_answer_404_as_the_help_page_says(sandbox):
    # help.brightpearl.com/hc/en-us/articles/211125126 ("Empty list response codes"), and the
    # contact GET recorded in 2025 (ruby-brightpearl customer/get/empty_not_found.yml).
    client = brightpearl(sandbox)
    contact = client.get("/contact-service/contact/999999")
    assert contact.status_code == 404
    assert contact.json() == payload("brightpearl_contact_get_not_found.json")
    for path in (
        "/order-service/order/999",
        "/order-service/sales-credit/999999",
        "/product-service/product/999999",
        "/warehouse-service/order/*/goods-note/goods-out/999999",
        "/warehouse-service/product-availability/999999",
    ):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert_shape(answer.json(), payload("brightpearl_errors_structure_examples.json"))
        assert answer.json()["errors"][0]["code"] == "CMNC-404"


def test_ids_that_exist_nowhere_can_answer_the_recorded_empty_list(sandbox):
    # The order GET recorded in 2022 answered 200 (ruby-brightpearl order_get_empty_not_found).
    sandbox.configure(settings={"brightpearl_empty_get_404": False})
    answer = brightpearl(sandbox).get("/order-service/order/999")
    assert answer.status_code == 200
    assert answer.json() == {"response": []}
