"""The commands of the order page: which button runs which service, and when it is offered.

Each command is a small form posted to the order page by a button with a stable name
(``_confirm``, ``_ship`` …), carrying the version the staff member saw. The page offers a
command only in the statuses the rules allow it; the service checks again, so a stale page
gets an error message, never a wrong change.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms

from events import OrderStatus
from orders_write.admin.order_forms import (
    AddLineForm,
    CancelForm,
    DiscountForm,
    RemoveLineForm,
    ShipForm,
    VersionedForm,
)
from orders_write.services import (
    CommandResult,
    order_cancel,
    order_confirm,
    order_deliver,
    order_discount_apply,
    order_line_add,
    order_line_remove,
    order_ship,
)

PENDING, CONFIRMED, SHIPPED = OrderStatus.PENDING, OrderStatus.CONFIRMED, OrderStatus.SHIPPED


@dataclass(frozen=True)
class OrderCommand:
    slug: str
    label: str  # the button's text
    done: str  # how the success message says it
    form: type[forms.Form]
    run: Callable[..., CommandResult]  # called with order_id, actor and the form's cleaned data
    offered_in: frozenset[str]
    per_line: bool = False  # offered beside each line rather than once for the order

    @property
    def button(self) -> str:
        """The submit button's ``name``: what the order page's POST says was pressed."""
        return f"_{self.slug}"

    @property
    def html_id(self) -> str:
        return f"order-{self.slug.replace('_', '-')}"

    def bound_form(self, data: Any) -> forms.Form:
        return self.form(data, auto_id=f"id_{self.slug}_%s")

    def unbound_form(self, version: int, **initial: Any) -> forms.Form:
        return self.form(initial={"expected_version": version, **initial}, auto_id=f"id_{self.slug}_%s")


ORDER_COMMANDS = (
    OrderCommand("confirm", "Confirm order", "confirmed", VersionedForm, order_confirm, frozenset({PENDING})),
    OrderCommand("ship", "Ship order", "shipped", ShipForm, order_ship, frozenset({CONFIRMED})),
    OrderCommand("deliver", "Mark as delivered", "delivered", VersionedForm, order_deliver, frozenset({SHIPPED})),
    OrderCommand("cancel", "Cancel order", "cancelled", CancelForm, order_cancel, frozenset({PENDING, CONFIRMED})),
    OrderCommand("add_line", "Add line", "got a new line", AddLineForm, order_line_add, frozenset({PENDING})),
    OrderCommand(
        "apply_discount",
        "Apply discount",
        "got a new discount",
        DiscountForm,
        order_discount_apply,
        frozenset({PENDING}),
    ),
    OrderCommand(
        "remove_line", "Remove", "lost a line", RemoveLineForm, order_line_remove, frozenset({PENDING}), per_line=True
    ),
)


def command_posted(post: Any) -> OrderCommand | None:
    """Return the command whose button was pressed, if any."""
    return next((command for command in ORDER_COMMANDS if command.button in post), None)


def commands_offered(status: str) -> list[OrderCommand]:
    """Return the order-wide commands the rules allow in ``status``, in page order."""
    return [command for command in ORDER_COMMANDS if status in command.offered_in and not command.per_line]


def run_command(command: OrderCommand, *, order_id: int, data: dict[str, Any], actor: Any) -> CommandResult:
    """Run ``command`` on one order; a blank optional field (the discount's other half) is left out."""
    arguments = {name: value for name, value in data.items() if value is not None}
    return command.run(order_id=order_id, actor=actor, **arguments)
