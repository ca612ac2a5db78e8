"""The consumers that exist: ``settings.CONSUMERS``, dotted paths to their classes, loaded once.

Nothing else lists consumers: drain, rebuild, verify, status, parking, the admin health page
and the API all ask here, so adding one is one module and one line in the settings.
"""

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from projections.runtime.consumer import Consumer, Projection


@cache
def _load(paths: tuple[str, ...]) -> dict[str, Consumer]:
    loaded = [import_string(path)() for path in paths]
    named = {consumer.name: consumer for consumer in loaded}
    if len(named) != len(loaded):
        raise ValueError(f"settings.CONSUMERS names a consumer twice: {paths}")
    return named


def consumers() -> dict[str, Consumer]:
    """Return every configured consumer by name, in the settings' order."""
    return _load(tuple(settings.CONSUMERS))


def projections() -> dict[str, Projection]:
    """Return the configured projections (consumers that write read tables) by name."""
    return {name: c for name, c in consumers().items() if isinstance(c, Projection)}


def owners_of(*models: type) -> tuple[str, ...]:
    """Return the names of the projections that own any of ``models`` (the tables a screen reads)."""
    return tuple(name for name, projection in projections().items() if set(projection.models) & set(models))
