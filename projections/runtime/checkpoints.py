"""Checkpoint rows: where each consumer is, its drain lock and its heartbeat."""

from config.databases import read_alias
from projections.models import Checkpoint
from projections.store import Position


def ensure_checkpoints(names: list[str]) -> None:
    """Create missing checkpoint rows (at the start of the log) for the given consumers."""
    Checkpoint.objects.using(read_alias()).bulk_create(
        [Checkpoint(projection=name) for name in names], ignore_conflicts=True
    )


def position_of(checkpoint: Checkpoint) -> Position:
    return Position(checkpoint.timeline, checkpoint.last_txid, checkpoint.last_position)


def move(checkpoint: Checkpoint, position: Position) -> None:
    checkpoint.timeline, checkpoint.last_txid, checkpoint.last_position = position
