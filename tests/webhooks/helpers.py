"""Creating endpoints through the API and running the webhook pipeline until a condition holds."""

import time
from collections.abc import Callable

from config.rights import MANAGE_WEBHOOKS
from projections.runtime.loop import drain
from tests.api.conftest import client_for, make_user
from webhooks.delivery import deliver_due
from webhooks.services import replay_page
from webhooks.transport import ConnectionPool


def webhook_client():
    return client_for(make_user(MANAGE_WEBHOOKS))


def create_endpoint(client, url: str, event_types: list[str] | None = None) -> dict:
    response = client.post("/api/webhooks/", {"url": url, "event_types": event_types or []}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def run_until(done: Callable[[], bool], timeout: float = 20, pool: ConnectionPool | None = None) -> None:
    """Fan out, replay and deliver (in this thread, over ``pool`` if given) until ``done()``, for ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError("the webhooks were not delivered in time")
        drain("webhooks")
        replay_page()
        if not deliver_due(pool=pool):
            time.sleep(0.02)
