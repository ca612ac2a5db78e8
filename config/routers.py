"""Send the read side to its own database when ``READ_DATABASE_URL`` is set.

Read tables, projection checkpoints and parked streams live together in the read database, so
a batch's rows and its checkpoint still commit in one transaction there (exactly once). The
shared cache (the drain's debounce mark) lives there too. The write side, the outbox, auth,
sessions and django-q2's queue stay on ``default``; projections read the outbox from it.

``READ_ALIAS`` is the one spelling of the read database's alias (the settings name it so);
code asks ``config.databases.read_alias()``/``write_alias()`` rather than naming either alias.
"""

from django.db import DEFAULT_DB_ALIAS

READ_SIDE_APPS = {"orders_read", "projections", "django_cache", "webhooks"}  # webhooks: ADR 0020
READ_ALIAS = "read"


class ReadSideRouter:
    def db_for_read(self, model, **hints):
        return READ_ALIAS if model._meta.app_label in READ_SIDE_APPS else None

    def db_for_write(self, model, **hints):
        return READ_ALIAS if model._meta.app_label in READ_SIDE_APPS else None

    def allow_relation(self, obj1, obj2, **hints):
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == READ_ALIAS if app_label in READ_SIDE_APPS else db == DEFAULT_DB_ALIAS
