import pytest

from tests.read_tables import empty_read_tables
from tests.webhooks.receiver import Receiver


@pytest.fixture
def receiver():
    running = Receiver().start()
    yield running
    running.stop()


@pytest.fixture
def private_targets(settings):
    """Let webhooks reach the receiver on 127.0.0.1, and retry quickly."""
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0.05


@pytest.fixture(autouse=True)
def empty_tables(transactional_db):
    empty_read_tables()
