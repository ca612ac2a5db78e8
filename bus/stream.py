"""The JetStream stream the relay publishes to: how ``nats_setup`` makes it, and what the relay requires.

``nats_setup`` creates or updates it idempotently: file storage (messages outlive a server
restart), every subject under the prefix, the retention limits from the settings, and a
duplicate window well beyond the relay's retry horizon (``bus.config``). The relay checks the
stream before its first publish on each connection and refuses one whose subjects do not take
its subjects or whose window is too short: a republished batch could then land twice.
"""

from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig, StreamInfo
from nats.js.errors import NotFoundError

from bus.config import Bus, required_duplicate_window_seconds
from projections.runtime.consumer import ReceiverUnavailable


class StreamUnfit(ReceiverUnavailable):
    """The stream is missing or set up so that the relay cannot publish safely: run nats_setup."""


def wanted_config(bus: Bus) -> StreamConfig:
    return StreamConfig(
        name=bus.stream,
        subjects=[bus.subjects],
        storage=StorageType.FILE,
        retention=RetentionPolicy.LIMITS,
        discard=DiscardPolicy.OLD,
        max_age=float(bus.max_age_seconds),  # 0: unlimited
        max_bytes=bus.max_bytes or -1,
        max_msgs=bus.max_msgs or -1,
        max_msg_size=bus.max_msg_size or -1,
        duplicate_window=float(bus.duplicate_window_seconds),
        num_replicas=1,
    )


async def ensure_stream(js: JetStreamContext, bus: Bus) -> tuple[str, StreamInfo]:
    """Create the stream, or update it to the wanted config; return ``("created"|"updated", info)``."""
    config = wanted_config(bus)
    try:
        await js.stream_info(bus.stream)
    except NotFoundError:
        return "created", await js.add_stream(config)
    return "updated", await js.update_stream(config)


def covers(pattern: str, subject: str) -> bool:
    """Say whether the subject pattern ``pattern`` matches every subject ``subject`` matches."""
    wanted, given = pattern.split("."), subject.split(".")
    for index, token in enumerate(wanted):
        if token == ">":
            return len(given) > index
        if index >= len(given) or given[index] == ">" or (token != "*" and token != given[index]):
            return False
    return len(wanted) == len(given)


def problems(info: StreamInfo, bus: Bus) -> list[str]:
    """What keeps the relay from publishing to this stream safely; ``[]`` when it fits."""
    config = info.config
    found = []
    if not any(covers(pattern, bus.subjects) for pattern in config.subjects or []):
        found.append(f"its subjects {config.subjects} do not take {bus.subjects}")
    required = required_duplicate_window_seconds()
    if (config.duplicate_window or 0) < required:
        found.append(
            f"its duplicate window ({config.duplicate_window or 0:.0f} s) is shorter than the relay's "
            f"retry horizon allows ({required:.0f} s; NATS_DUPLICATE_WINDOW_SECONDS)"
        )
    return found


async def checked_stream(js: JetStreamContext, bus: Bus) -> StreamInfo:
    """Return the stream's info; raise ``StreamUnfit`` (naming the fix) when it is missing or unfit."""
    try:
        info = await js.stream_info(bus.stream)
    except NotFoundError:
        raise StreamUnfit(f"JetStream stream {bus.stream} does not exist: run manage.py nats_setup") from None
    found = problems(info, bus)
    if found:
        raise StreamUnfit(f"JetStream stream {bus.stream}: {'; '.join(found)}: run manage.py nats_setup")
    return info
