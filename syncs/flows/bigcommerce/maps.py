"""The value maps Brightpearl ↔ BigCommerce flows translate through.

BigCommerce lists its order statuses (fixed ids 0–14, each with the store's own label) and
Brightpearl lists its order statuses, warehouses and selling price lists: those are offered
and checked (the price lists for the price fields' map). The other lists (BigCommerce payment
methods, customer groups, channels and locations; Brightpearl payment methods, nominal codes
and channels) are not read by the console's connectors, so their values are typed and checked
for their form.
"""

from __future__ import annotations

from brands.models import Team
from syncs.valuemaps.kinds import Part, ValueKind
from syncs.valuemaps.lists import (
    bigcommerce_status_list,
    brightpearl_order_statuses,
    brightpearl_price_list_list,
    brightpearl_warehouse_list,
)

# The flows of this pair that translate through these maps (their codes in the registry).
STOREFRONT_ORDERS = "storefront_orders"
ORDER_STATUS_BACK = "bigcommerce_order_status"
STOCK = "bigcommerce_stock"
SHIPMENTS = "bigcommerce_shipments"
STOREFRONT_PAYMENTS = "bigcommerce_payments"
CANCELLATIONS = "bigcommerce_cancellations"
PRICES = "bigcommerce_prices"

# BigCommerce's order statuses: the ids are fixed (the store may relabel them).
BIGCOMMERCE_STATUSES = (
    ("0", "Incomplete"),
    ("1", "Pending"),
    ("2", "Shipped"),
    ("3", "Partially Shipped"),
    ("4", "Refunded"),
    ("5", "Cancelled"),
    ("6", "Declined"),
    ("7", "Awaiting Payment"),
    ("8", "Awaiting Pickup"),
    ("9", "Awaiting Shipment"),
    ("10", "Completed"),
    ("11", "Awaiting Fulfillment"),
    ("12", "Manual Verification Required"),
    ("13", "Disputed"),
    ("14", "Partially Refunded"),
)


def bigcommerce_status(label: str) -> Part:
    return Part(
        name="value",
        label=label,
        example="such as 11 (Awaiting Fulfillment)",
        choices=BIGCOMMERCE_STATUSES,
        values=bigcommerce_status_list,
        whole_number=True,
    )


def brightpearl_status(label: str) -> Part:
    return Part(
        name="value",
        label=label,
        example="such as 2",
        values=brightpearl_order_statuses,
        whole_number=True,
    )


def an_id(label: str, example: str) -> Part:
    return Part(name="value", label=label, example=example, whole_number=True)


BC_ORDER_STATUS = ValueKind(
    code="bc_order_status",
    label="Storefront order statuses",
    description="Each BigCommerce order status beside the Brightpearl order status a "
    "storefront order is created in. An order in a status with no mapping waits, with a "
    "ticket for ecommerce, until the status is mapped.",
    source_system="bigcommerce",
    target_system="brightpearl",
    source=bigcommerce_status("BigCommerce order status"),
    target=brightpearl_status("Brightpearl order status"),
    team=Team.ECOMMERCE,
    flows=(STOREFRONT_ORDERS,),
    noun="orders",
)

BP_ORDER_STATUS_TO_BC = ValueKind(
    code="bp_order_status_to_bc",
    label="Statuses back to BigCommerce",
    description="Each Brightpearl order status beside the BigCommerce status the storefront "
    "order is moved to, so shoppers see where their order is. An order in a status with no "
    "mapping is not moved, and waits with a ticket for ecommerce.",
    source_system="brightpearl",
    target_system="bigcommerce",
    source=brightpearl_status("Brightpearl order status"),
    target=bigcommerce_status("BigCommerce order status"),
    team=Team.ECOMMERCE,
    flows=(ORDER_STATUS_BACK,),
    noun="orders",
)

BC_CANCELLATION = ValueKind(
    code="bc_cancellation",
    label="Cancellations → Brightpearl",
    description="The BigCommerce status an order is cancelled in (5, Cancelled) beside the "
    "Brightpearl order status a cancelled storefront order is moved to. Until it is mapped, "
    "each cancelled order waits, with a ticket for ecommerce, and Brightpearl still has it "
    "to pick and ship.",
    source_system="bigcommerce",
    target_system="brightpearl",
    source=bigcommerce_status("BigCommerce order status"),
    target=brightpearl_status("Brightpearl order status"),
    team=Team.ECOMMERCE,
    flows=(CANCELLATIONS,),
    noun="orders",
)

BC_PAYMENT_METHOD = ValueKind(
    code="bc_payment_method",
    label="Payment methods",
    description="Each BigCommerce payment method (as the order names it, such as Stripe or "
    "PayPal) beside the Brightpearl payment method and the nominal code its payment is "
    "recorded against. The order still posts; its payment, by a method with no mapping, "
    "waits with a ticket for finance.",
    source_system="bigcommerce",
    target_system="brightpearl",
    source=Part(name="value", label="BigCommerce payment method", example="such as Stripe"),
    target=Part(
        name="value",
        label="Brightpearl payment method",
        example="such as PAYPAL",
        max_length=40,
        pattern=r"[A-Za-z0-9_\-]+",
        pattern_words="use the method's code as Brightpearl shows it: letters, digits, "
        "hyphens and underscores (such as PAYPAL).",
    ),
    extra=(
        Part(
            name="nominal_code",
            label="nominal code",
            example="such as 1220",
            max_length=10,
            pattern=r"[0-9]{3,10}",
            pattern_words="a Brightpearl nominal code is a number of 3 to 10 digits "
            "(such as 1220).",
        ),
    ),
    team=Team.FINANCE,
    flows=(STOREFRONT_PAYMENTS,),
    noun="payments",
)

BC_CUSTOMER_GROUP = ValueKind(
    code="bc_customer_group",
    label="Customer groups → price lists",
    description="Each BigCommerce customer group (its id; 0 is a shopper in no group) beside "
    "the Brightpearl price list its orders are priced from. An order from a group with no "
    "mapping waits, with a ticket for ecommerce.",
    source_system="bigcommerce",
    target_system="brightpearl",
    source=an_id("BigCommerce customer group", "such as 2"),
    target=an_id("Brightpearl price list", "such as 1"),
    team=Team.ECOMMERCE,
    flows=(STOREFRONT_ORDERS,),
    noun="orders",
)

BC_CHANNEL = ValueKind(
    code="bc_channel",
    label="Channels",
    description="Each BigCommerce channel (its id; 1 is the store's own storefront) beside "
    "the Brightpearl channel its orders are recorded under. An order from a channel with no "
    "mapping waits, with a ticket for ecommerce.",
    source_system="bigcommerce",
    target_system="brightpearl",
    source=an_id("BigCommerce channel", "such as 1"),
    target=an_id("Brightpearl channel", "such as 3"),
    team=Team.ECOMMERCE,
    flows=(STOREFRONT_ORDERS,),
    noun="orders",
)

BP_WAREHOUSE = ValueKind(
    code="bp_warehouse",
    label="Warehouses → locations",
    description="Each Brightpearl warehouse beside the BigCommerce location its stock counts "
    "for. Stock in a warehouse with no mapping is not sent, and waits with a ticket for "
    "operations.",
    source_system="brightpearl",
    target_system="bigcommerce",
    source=Part(
        name="value",
        label="Brightpearl warehouse",
        example="such as 2",
        values=brightpearl_warehouse_list,
        whole_number=True,
    ),
    target=an_id("BigCommerce location", "such as 1"),
    team=Team.OPERATIONS,
    # Not shipments: a BigCommerce shipment names no location (orders.v2 orderShipment_Post).
    flows=(STOCK,),
    noun="stock levels",
)

# BigCommerce's documented shipping providers (orders.v2 `orderShipment_Post`); a third-party
# provider is `carrier_{its id}`, so the list is a suggestion, not a limit.
BC_SHIPPING_PROVIDERS = (
    ("auspost", "Australia Post"),
    ("canadapost", "Canada Post"),
    ("endicia", "Endicia"),
    ("usps", "USPS"),
    ("fedex", "FedEx"),
    ("royalmail", "Royal Mail"),
    ("ups", "UPS"),
    ("upsready", "UPS Ready"),
    ("shipperhq", "ShipperHQ"),
)

BP_SHIPPING_METHOD = ValueKind(
    code="bp_shipping_method",
    label="Shipping methods → carriers",
    description="Each Brightpearl shipping method (its id on the goods-out note) beside the "
    "BigCommerce shipping provider its shipments are sent with, so the shopper's "
    "dispatch email links to the right tracking page. A shipment by a method with no mapping "
    "waits, with a ticket for operations.",
    source_system="brightpearl",
    target_system="bigcommerce",
    source=an_id("Brightpearl shipping method", "such as 1"),
    target=Part(
        name="value",
        label="BigCommerce shipping provider",
        example="such as royalmail",
        choices=BC_SHIPPING_PROVIDERS,
        strict=False,
        max_length=60,
    ),
    team=Team.OPERATIONS,
    flows=(SHIPMENTS,),
    noun="shipments",
)

# BigCommerce's price fields of a variant (catalog v3), as the storefront names them.
BC_PRICE_FIELDS = (
    ("price", "Price"),
    ("sale_price", "Sale price"),
    ("retail_price", "MSRP (retail price)"),
)

BC_PRICE_LIST = ValueKind(
    code="bc_price_list",
    label="Price fields ← price lists",
    description="Each BigCommerce price field (price, sale price, MSRP) beside the Brightpearl "
    "price list it is set from, every night, for every SKU both catalogues have. Until price "
    "has a list, no price is sent and the products wait, with a ticket for ecommerce. A sale "
    "price or MSRP with no list here is left as the storefront has it, and so is a field "
    "whose list has no price for the product.",
    source_system="bigcommerce",
    target_system="brightpearl",
    source=Part(
        name="value",
        label="BigCommerce price field",
        example="such as price",
        choices=BC_PRICE_FIELDS,
    ),
    target=Part(
        name="value",
        label="Brightpearl price list",
        example="such as 1",
        values=brightpearl_price_list_list,
        whole_number=True,
    ),
    team=Team.ECOMMERCE,
    flows=(PRICES,),
    noun="prices",
)

KINDS = (
    BC_ORDER_STATUS,
    BP_ORDER_STATUS_TO_BC,
    BC_CANCELLATION,
    BC_PAYMENT_METHOD,
    BC_CUSTOMER_GROUP,
    BC_CHANNEL,
    BP_WAREHOUSE,
    BP_SHIPPING_METHOD,
    BC_PRICE_LIST,
)
