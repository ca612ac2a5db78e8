"""Rebuild a projection from the log without downtime (property 9): shadow tables, catch up, swap.

1. **Shadows.** For each table ``T`` the projection owns, ``T__shadow`` is created empty with
   the same columns and primary key (stale shadows of an earlier, interrupted run are dropped
   first). On PostgreSQL ``LIKE T INCLUDING ALL`` copies the indexes too, and they are renamed
   ``<index>__shadow`` so the swap can give them back their names. On SQLite the table's DDL is
   re-issued under the shadow name and the secondary indexes are built at the swap.
2. **Build.** The log is replayed from the start into the shadows through the projection's own
   ``apply`` (the projection writes the shadow names, ``Projection.shadow``), one batch per
   transaction, with a progress bar; several projections share one pass over the log
   (``rebuild_many``). The shadows' non-unique indexes are dropped for the build and created
   once at its end (cheaper than maintaining them through every upsert). The live tables keep
   serving reads and the normal drain keeps moving them; the shadow's position is kept in memory.
3. **Catch up and swap, in one transaction.** Lock the live checkpoint row (waiting: this pauses
   the live drain for the moment of the swap only), apply to the shadows the events up to the
   live checkpoint, then drop each live table and rename its shadow (and the shadow's indexes)
   into place. The checkpoint stays where it was (or moves to the shadow's position when the
   build ran ahead of a lagging drain), so the drain resumes exactly after what the new tables
   hold. Readers on PostgreSQL wait on the swap's lock for its few milliseconds and then read
   the new table; on SQLite (WAL) they keep reading the old one until the swap commits.

A handler failing during the rebuild stops it: the shadows are dropped, nothing is swapped, the
error is raised (``RebuildError``). Parked streams are left as they are: their retry re-reads
the stream and skips the events the rebuilt tables already hold. See
docs/decisions/0009-zero-downtime-rebuild.md.
"""

import re
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import OperationalError, connections, transaction
from django.utils import timezone
from tqdm import tqdm

from config.databases import read_alias
from projections.models import Checkpoint
from projections.runtime.apply import apply_events, batches
from projections.runtime.backoff import Backoff
from projections.runtime.checkpoints import ensure_checkpoints, move, position_of
from projections.runtime.consumer import Projection
from projections.runtime.loop import analyze
from projections.runtime.registry import projections
from projections.sql import on_postgresql
from projections.store import START, Position, event_store

SHADOW = "__shadow"
BUILD_BATCH = 2000
LOCK_TIMEOUT_MS = 2000  # the longest a swap waits for a table lock (readers queue behind it meanwhile)
SWAP_ATTEMPTS = 10
SWAP_BACKOFF = Backoff(first=0.1, cap=2.0)  # between swap attempts whose locks timed out (ADR 0034)
_LOCK_NOT_AVAILABLE = "55P03"


class RebuildError(RuntimeError):
    """The rebuild could not finish; the live tables were left untouched."""


@dataclass(frozen=True)
class RebuildResult:
    projection: str
    events: int  # events applied to the shadows (build and catch-up)
    position: Position  # the swapped-in tables are exactly as of this point in drain order


def shadow_name(table: str, suffix: str = SHADOW) -> str:
    return f"{table}{suffix}"


def rebuild(
    name: str,
    *,
    batch_size: int = BUILD_BATCH,
    progress: bool = False,
    lock_timeout_ms: int = LOCK_TIMEOUT_MS,
    swap_attempts: int = SWAP_ATTEMPTS,
) -> RebuildResult:
    """Rebuild projection ``name`` into shadow tables from position 0 and swap them in."""
    (result,) = rebuild_many(
        [name], batch_size=batch_size, progress=progress, lock_timeout_ms=lock_timeout_ms, swap_attempts=swap_attempts
    )
    return result


def rebuild_many(
    names: list[str],
    *,
    batch_size: int = BUILD_BATCH,
    progress: bool = False,
    lock_timeout_ms: int = LOCK_TIMEOUT_MS,
    swap_attempts: int = SWAP_ATTEMPTS,
) -> list[RebuildResult]:
    """Rebuild several projections in one pass over the log, then swap each in (one at a time).

    One read of the log feeds every shadow, so rebuilding all projections costs one replay of
    the log, not one per projection. Each projection still catches up and swaps on its own,
    against its own checkpoint.
    """
    known = projections()
    lives = [known[name] for name in dict.fromkeys(names)]
    shadows = [live.shadow(SHADOW) for live in lives]
    tables = tuple(table for live in lives for table in live.tables())
    ensure_checkpoints([live.name for live in lives])
    with ExitStack() as locks:
        for live in lives:
            locks.enter_context(_one_rebuild_at_a_time(live.name))
        indexes = create_shadows(tables)
        try:
            deferred = _defer_secondary_indexes(tables)
            position, built = _build(shadows, batch_size=batch_size, progress=progress)
            _create_deferred_indexes(deferred)
            results = []
            for live, shadow in zip(lives, shadows, strict=True):
                analyze(shadow)  # statistics for the new tables before readers reach them
                reached, caught_up = _catch_up_and_swap(
                    live, shadow, position, indexes, lock_timeout_ms=lock_timeout_ms, attempts=swap_attempts
                )
                events = built[live.name] + caught_up
                results.append(RebuildResult(projection=live.name, events=events, position=reached))
        except BaseException:
            drop_shadows(tables)  # the shadows of projections already swapped in no longer exist
            raise
    return results


def _postgres() -> bool:
    return on_postgresql(read_alias())


@contextmanager
def _one_rebuild_at_a_time(name: str) -> Iterator[None]:
    """Two rebuilds of one projection would share its shadow tables: refuse the second one."""
    if not _postgres():
        yield  # SQLite is the single-process quick start
        return
    key = f"rebuild_projections:{name}"
    with connections[read_alias()].cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [key])
        if not cursor.fetchone()[0]:
            raise RebuildError(f"{name}: another rebuild of this projection is running")
    try:
        yield
    finally:
        with connections[read_alias()].cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", [key])


# --- shadows -----------------------------------------------------------------------------------


def create_shadows(tables: tuple[str, ...], suffix: str = SHADOW) -> dict[str, list[str]]:
    """Create an empty ``T__shadow`` per table; return, per table, the index names to restore at the swap."""
    drop_shadows(tables, suffix)
    indexes = {}
    with transaction.atomic(using=read_alias()), connections[read_alias()].cursor() as cursor:
        for table in tables:
            indexes[table] = (
                _create_postgres_shadow(cursor, table, suffix)
                if _postgres()
                else _create_sqlite_shadow(cursor, table, suffix)
            )
    return indexes


def _defer_secondary_indexes(tables: tuple[str, ...]) -> list[str]:
    """Drop the shadows' non-unique indexes for the build; return the statements that recreate them.

    Building an index once over the finished table is far cheaper than maintaining it through a
    million upserts (every status change moves an order in each of them). Unique indexes stay:
    the upserts' ``ON CONFLICT`` needs them. The recreated indexes keep their ``__shadow`` names,
    so the swap renames them as before. SQLite shadows have no secondary indexes until the swap.
    """
    if not _postgres():
        return []
    statements = []
    with transaction.atomic(using=read_alias()), connections[read_alias()].cursor() as cursor:
        for table in tables:
            cursor.execute(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                "WHERE i.indrelid = %s::regclass AND NOT i.indisunique",
                [shadow_name(table)],
            )
            for name, definition in cursor.fetchall():
                statements.append(definition)
                cursor.execute(f"DROP INDEX {name}")
    return statements


def _create_deferred_indexes(statements: list[str]) -> None:
    with transaction.atomic(using=read_alias()), connections[read_alias()].cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def drop_shadows(tables: tuple[str, ...], suffix: str = SHADOW) -> None:
    with transaction.atomic(using=read_alias()), connections[read_alias()].cursor() as cursor:
        for table in tables:
            cursor.execute(f"DROP TABLE IF EXISTS {shadow_name(table, suffix)}")


def _create_postgres_shadow(cursor: Any, table: str, suffix: str) -> list[str]:
    """``LIKE … INCLUDING ALL`` (columns, defaults, constraints, primary key, indexes), privileges too.

    PostgreSQL names the copied indexes itself; each is matched to its original by definition
    and renamed ``<original>__shadow``, so the swap can rename it back.
    """
    shadow = shadow_name(table, suffix)
    cursor.execute(f"CREATE TABLE {shadow} (LIKE {table} INCLUDING ALL)")
    originals = _postgres_indexes(cursor, table)
    for generated, definition in _postgres_indexes(cursor, shadow):
        original = next(name for name, other in originals if other == definition)
        originals.remove((original, definition))
        cursor.execute(f"ALTER INDEX {generated} RENAME TO {shadow_name(original, suffix)}")
    cursor.execute(
        "SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END,"
        " a.privilege_type FROM pg_class c, aclexplode(c.relacl) a"
        " WHERE c.oid = %s::regclass AND a.grantee <> c.relowner",
        [table],
    )
    for grantee, privilege in cursor.fetchall():
        cursor.execute(f"GRANT {privilege} ON {shadow} TO {grantee}")
    return [name for name, _ in _postgres_indexes(cursor, table)]


def _postgres_indexes(cursor: Any, table: str) -> list[tuple[str, str]]:
    """Return (name, definition without its name and table) of each index of ``table``."""
    cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = %s "
        "ORDER BY indexname",
        [table],
    )
    return [
        (name, re.sub(r"^(CREATE (?:UNIQUE )?INDEX) \S+ ON \S+ ", r"\1 ON ", sql)) for name, sql in cursor.fetchall()
    ]


def _create_sqlite_shadow(cursor: Any, table: str, suffix: str) -> list[str]:
    """Re-issue the table's own DDL under the shadow name; its secondary indexes come at the swap."""
    cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = %s", [table])
    (ddl,) = cursor.fetchone()
    renamed, count = re.subn(
        rf'^(CREATE TABLE\s+)(["`]?){table}\2(?=[\s(])', rf"\1{shadow_name(table, suffix)}", ddl, flags=re.I
    )
    if count != 1:
        raise RebuildError(f"cannot read the DDL of {table}: {ddl[:80]!r}")
    cursor.execute(renamed)
    return []


# --- build -------------------------------------------------------------------------------------


def _build(shadows: list[Projection], *, batch_size: int, progress: bool) -> tuple[Position, dict[str, int]]:
    """Replay the log from the start into every shadow, one batch per transaction; count events per shadow."""
    event_types = frozenset().union(*(shadow.event_types() for shadow in shadows))
    after, applied = START, dict.fromkeys((shadow.name for shadow in shadows), 0)
    with tqdm(
        total=event_store().count(event_types),
        desc=f"rebuilding {', '.join(applied)}",
        unit="event",
        file=sys.stderr,
        disable=not progress,
    ) as bar:
        for batch in batches(after=after, event_types=event_types, limit=batch_size):
            with transaction.atomic(using=read_alias()), connections[read_alias()].cursor() as cursor:
                for shadow in shadows:
                    applied[shadow.name] += _apply_own(shadow, batch.events, cursor, after)
            after = batch.end
            bar.update(len(batch.events))
    return after, applied


def _apply_own(shadow: Projection, events: list, cursor: Any, after: Position) -> int:
    """Apply the events ``shadow`` handles; return how many. A failure stops the rebuild."""
    handled = shadow.event_types()
    own = [event for event in events if event.event.event_type in handled]
    if not own:
        return 0
    try:
        apply_events(shadow, own, cursor)
    except OperationalError:
        raise  # the database itself is failing, not the projection
    except Exception as error:
        raise RebuildError(
            f"{shadow.name}: an event at positions {events[0].position}..{events[-1].position} (after {after}) "
            f"failed: {type(error).__name__}: {error}. Nothing was swapped; the live tables are untouched."
        ) from error
    return len(own)


def catch_up(shadow: Projection, cursor: Any, *, after: Position, until: Position, held=None) -> tuple[Position, int]:
    """Apply to ``shadow`` the events after ``after`` up to ``until``, in this transaction.

    Return the position reached and how many events were applied. ``held`` maps streams to the
    position they are held back from (verify mirrors the drain's parked streams with it).
    """
    applied, held = 0, held or {}
    for batch in batches(after=after, event_types=shadow.event_types(), limit=BUILD_BATCH, until=until):
        ready = [e for e in batch.events if e.position < held.get(e.stream, e.position + 1)]
        if ready:
            apply_events(shadow, ready, cursor)
        applied += len(ready)
        after = batch.end
    return after, applied


# --- catch up and swap -------------------------------------------------------------------------


def _catch_up_and_swap(
    live: Projection,
    shadow: Projection,
    position: Position,
    indexes: dict[str, list[str]],
    *,
    lock_timeout_ms: int,
    attempts: int,
) -> tuple[Position, int]:
    """Bring the shadows to the live checkpoint and swap them in, in one transaction.

    On PostgreSQL every lock is waited for at most ``lock_timeout_ms`` (a long reader would
    otherwise hold the swap, and every reader queued behind the swap, for as long as it runs);
    on a timeout the whole transaction is rolled back and tried again.
    """
    for attempt in range(1, attempts + 1):
        try:
            with transaction.atomic(using=read_alias()), connections[read_alias()].cursor() as cursor:
                if _postgres():
                    cursor.execute(f"SET LOCAL lock_timeout = '{int(lock_timeout_ms)}ms'")
                checkpoint = Checkpoint.objects.using(read_alias()).select_for_update().get(projection=live.name)
                at = position_of(checkpoint)
                try:
                    reached, applied = catch_up(shadow, cursor, after=position, until=at)
                except OperationalError:
                    raise
                except Exception as error:
                    raise RebuildError(
                        f"{live.name}: catching up to {at} failed: {type(error).__name__}: {error}. "
                        "Nothing was swapped; the live tables are untouched."
                    ) from error
                for table in live.tables():
                    _swap(cursor, table, indexes[table])
                now = timezone.now()
                if reached > at:  # the build ran ahead of a lagging drain: the new tables hold more
                    move(checkpoint, reached)
                    checkpoint.last_applied_at = now
                checkpoint.heartbeat_at = now
                checkpoint.save(using=read_alias())
            return reached, applied
        except OperationalError as error:
            if getattr(error.__cause__, "sqlstate", None) != _LOCK_NOT_AVAILABLE:
                raise
            if attempt == attempts:
                raise RebuildError(
                    f"{live.name}: the swap could not take its locks within {lock_timeout_ms} ms, {attempts} times "
                    "(a long reader or transaction holds a table). Nothing was swapped; the live tables are untouched."
                ) from error
            time.sleep(SWAP_BACKOFF.delay(attempt))
    raise AssertionError("unreachable")


def _swap(cursor: Any, table: str, indexes: list[str]) -> None:
    """Replace ``table`` by its shadow, under the original table and index names."""
    shadow = shadow_name(table)
    if _postgres():
        cursor.execute(f"DROP TABLE {table}")
        cursor.execute(f"ALTER TABLE {shadow} RENAME TO {table}")
        for index in indexes:
            cursor.execute(f"ALTER INDEX {shadow_name(index)} RENAME TO {index}")
        return
    # SQLite: an index stays with its table, so the live table's secondary indexes are rebuilt on the new one.
    cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL", [table])
    index_ddl = [sql for (sql,) in cursor.fetchall()]
    cursor.execute(f"DROP TABLE {table}")
    cursor.execute(f"ALTER TABLE {shadow} RENAME TO {table}")
    for sql in index_ddl:
        cursor.execute(sql)
