"""The base settings with ten consumers (the two projections and eight silent relays), for ``bench/metrics.py``."""

from bench.metrics_consumers import EXTRA_CONSUMERS
from config.settings.base import *  # noqa: F403
from config.settings.base import CONSUMERS

CONSUMERS = [*CONSUMERS, *(f"bench.metrics_consumers.Silent{number}" for number in range(EXTRA_CONSUMERS))]
