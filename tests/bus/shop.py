"""A small shop seeded through the domain services: every kind of event, several orders interleaved."""

from orders_write.services import (
    LineInput,
    customer_register,
    customer_rename,
    order_cancel,
    order_confirm,
    order_deliver,
    order_discount_apply,
    order_line_add,
    order_place,
    order_ship,
    product_add,
    product_reprice,
)


def seed_shop(tag: str = "shop", orders: int = 12) -> list[int]:
    """Seed customers, products and ``orders`` orders in assorted states; return the order ids."""
    customers = [customer_register(name=f"{tag} customer {n}", email=f"{tag}{n}@example.com").aggregate_id
                 for n in range(3)]  # fmt: skip
    skus = [f"{tag.upper()}-{n}" for n in range(4)]
    for n, sku in enumerate(skus):
        product_add(sku=sku, name=f"{tag} product {n}", price=1000 + 250 * n)
    product_reprice(sku=skus[0], price=1100)
    customer_rename(customer_id=customers[0], name=f"{tag} renamed")
    placed = []
    for n in range(orders):
        order_id = order_place(customer_id=customers[n % 3], lines=[LineInput(skus[n % 4], 1 + n % 3)]).order_id
        placed.append(order_id)
    for n, order_id in enumerate(placed):  # interleave the orders' later events
        if n % 4 == 0:
            order_line_add(order_id=order_id, sku=skus[(n + 1) % 4], quantity=2)
            order_discount_apply(order_id=order_id, percent=10)
        if n % 4 != 3:
            order_confirm(order_id=order_id)
        if n % 4 in (1, 2):
            order_ship(order_id=order_id, tracking_number=f"TRACK-{order_id}")
        if n % 4 == 2:
            order_deliver(order_id=order_id)
        if n % 4 == 3:
            order_cancel(order_id=order_id, reason="changed mind")
    return placed
