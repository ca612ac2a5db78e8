"""The base settings topped up with silent relays to ten consumers, for ``bench/metrics.py``."""

from bench.metrics_consumers import TOTAL_CONSUMERS
from config.settings.base import *  # noqa: F403
from config.settings.base import CONSUMERS

CONSUMERS = [
    *CONSUMERS,
    *(f"bench.metrics_consumers.Silent{number}" for number in range(TOTAL_CONSUMERS - len(CONSUMERS))),
]
