"""Which read tables a selector reads, declared on the selector itself.

A screen that says how current its figures are must follow every projection behind them, so it
needs the tables it reads; a list kept beside the screen drifts from the selectors it calls (the
dashboard's once left out the reports rollups, so a lagging ``reports`` consumer looked fresh).
Each selector is marked with ``@reads(...)``, naming models or the selectors it calls, and a
screen asks ``tables_read(...)`` of the selectors it calls. Tests compare the declarations with
the SQL the selectors run.
"""

from collections.abc import Callable
from typing import TypeVar

from django.db.models import Model

Selector = TypeVar("Selector", bound=Callable)


def reads(*sources: type[Model] | Callable) -> Callable[[Selector], Selector]:
    """Mark a selector with the read tables it reads: models, or selectors whose tables it reads in turn."""
    tables = tables_read(*sources)

    def mark(selector: Selector) -> Selector:
        selector.reads = tables  # type: ignore[attr-defined]
        return selector

    return mark


def tables_read(*sources: type[Model] | Callable) -> tuple[type[Model], ...]:
    """Return the models behind ``sources`` (models, or selectors marked with ``@reads``), each once, in order.

    An unmarked selector is an error, not an empty set: a screen's freshness must never skip a
    table because a selector forgot to say it reads one.
    """
    found: dict[type[Model], None] = {}
    for source in sources:
        if isinstance(source, type) and issubclass(source, Model):
            found[source] = None
            continue
        marked = getattr(source, "reads", None)
        if marked is None:
            raise TypeError(f"{source!r} is neither a read model nor a selector marked with @reads")
        found.update(dict.fromkeys(marked))
    return tuple(found)
