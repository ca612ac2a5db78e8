"""Settings for bench/reads.py only: the production-like stack plus one bare view to compare against.

Never used by the project: ``DJANGO_SETTINGS_MODULE=bench.baseline_settings`` is set by
``bench/reads.py`` for its own gunicorn, so the baseline URL exists nowhere else.
"""

from config.settings.base import *  # noqa: F403

ROOT_URLCONF = "bench.baseline_urls"
