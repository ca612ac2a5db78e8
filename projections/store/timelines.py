"""Timelines: the clusters the outbox has lived on, and which positions each one wrote (ADR 0017).

Transaction ids are comparable only within one cluster. ``outbox_timeline`` (written by the
write side's registration on connect, ``orders_write.timelines``) lists each cluster in turn
with ``first_position``, the highest position already stored when it was registered: the
timeline's own events are the positions above it, up to the next timeline's ``first_position``.
"""

from typing import NamedTuple


class Timeline(NamedTuple):
    id: int
    system_identifier: int
    first_position: int
    first_txid: int


class TimelineSpan(NamedTuple):
    """The positions a timeline owns, ``(low, high]`` (``high`` None for the newest), and what follows."""

    low: int
    high: int | None
    same_cluster: bool  # its transaction ids compare with this cluster's (horizon applies)
    next: Timeline | None
    after_next: Timeline | None


def span_of(timeline_id: int, timelines: list[Timeline], cluster: int | None) -> TimelineSpan:
    """Return the span of ``timeline_id`` given every registered timeline (oldest first).

    ``cluster`` is the system identifier of the connection's cluster (None: not asked). A
    timeline that is not registered (a fresh database before its first row) spans from 0.
    """
    own = next((timeline for timeline in timelines if timeline.id == timeline_id), None)
    later = [timeline for timeline in timelines if timeline.id > timeline_id]
    following = later[0] if later else None
    return TimelineSpan(
        low=own.first_position if own else 0,
        high=following.first_position if following else None,
        same_cluster=own is None or cluster is None or own.system_identifier == cluster,
        next=following,
        after_next=later[1] if len(later) > 1 else None,
    )


def current(timelines: list[Timeline]) -> Timeline | None:
    """Return the newest timeline: the one new events are written on."""
    return timelines[-1] if timelines else None
