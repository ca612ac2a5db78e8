"""Connect to NATS failing fast when nobody answers (the callers retry on their own terms).

nats-py's ``connect`` keeps retrying a server that refuses, ``reconnect_time_wait`` apart, until
``max_reconnect_attempts`` is exceeded, and for ever when that is 0: one retry, 0.1 s later.
"""

from typing import Any

import nats
from nats.aio.client import Client

from bus.config import CONNECT_TIMEOUT_SECONDS


async def connect(url: str, **options: Any) -> Client:
    return await nats.connect(
        url.split(","),
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        max_reconnect_attempts=1,
        reconnect_time_wait=0.1,
        **options,
    )
