"""On SQLite (the quick start) the store reads each event's id, as on PostgreSQL: the feed, the
webhooks and the bus identify events by it, so a missing one would go out as ``"None"``."""

import json

import pytest

from tests.projections.processes import child_env, manage

READ_BACK = """
import json
from events import EVENT_TYPES
from orders_write.models import OutboxEvent
from orders_write.services import customer_register
from projections.store import START
from projections.store.feed import read_page
from projections.store.public import public_event

customer_register(name="Ada Lovelace", email="ada@example.com")
(stored,) = read_page(after=START, event_types=frozenset(EVENT_TYPES), limit=10).events
print("RESULT " + json.dumps({"public": public_event(stored, contacts=False)["event_id"],
                              "outbox": str(OutboxEvent.objects.get().event_id)}))
"""


@pytest.fixture
def empty_read_tables():
    """Override the PostgreSQL clean-up of this package's conftest: nothing here touches it."""


@pytest.mark.smoke
def test_the_feed_shows_each_events_own_id_on_sqlite(tmp_path):
    env = child_env(f"sqlite:///{tmp_path / 'ids.sqlite3'}")
    manage(env, "migrate", "--noinput")

    output = manage(env, "shell", "-c", READ_BACK, timeout=120)

    (line,) = [line for line in output.splitlines() if line.startswith("RESULT ")]
    ids = json.loads(line.removeprefix("RESULT "))
    assert ids["public"] == ids["outbox"] != "None", ids
