"""Refuse writes to write-side models from anywhere but a domain service.

A raw ``save()`` or ``QuerySet.update()`` would change state without an outbox event, and the
read side would silently drift. Services open a write scope; everything else (admin forms,
the shell, a stray script) gets ``WriteOutsideServiceError`` instead of a silent bypass.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import models

_writes_allowed: ContextVar[bool] = ContextVar("writes_allowed", default=False)


class WriteOutsideServiceError(RuntimeError):
    """A write-side model was changed outside a domain service."""


@contextmanager
def service_write_scope() -> Iterator[None]:
    """Allow write-side model writes for the duration of one domain service call."""
    token = _writes_allowed.set(True)
    try:
        yield
    finally:
        _writes_allowed.reset(token)


def require_write_scope(what: str) -> None:
    if not _writes_allowed.get():
        raise WriteOutsideServiceError(
            f"{what} outside a domain service; use orders_write.services so the change reaches the outbox"
        )


class GuardedQuerySet(models.QuerySet):
    def update(self, **kwargs):
        require_write_scope(f"{self.model.__name__}.objects.update()")
        return super().update(**kwargs)

    def delete(self):
        require_write_scope(f"{self.model.__name__}.objects.delete()")
        return super().delete()

    def bulk_create(self, objs, *args, **kwargs):
        require_write_scope(f"{self.model.__name__}.objects.bulk_create()")
        return super().bulk_create(objs, *args, **kwargs)

    def bulk_update(self, objs, *args, **kwargs):
        require_write_scope(f"{self.model.__name__}.objects.bulk_update()")
        return super().bulk_update(objs, *args, **kwargs)


class GuardedModel(models.Model):
    """Base of every write-side model: saves and deletes only inside a service scope."""

    objects = GuardedQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        require_write_scope(f"{type(self).__name__}.save()")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        require_write_scope(f"{type(self).__name__}.delete()")
        return super().delete(*args, **kwargs)
