"""Connections of a test's own, to the cluster the suite runs on (whatever port DATABASE_URL names)."""

from django.db import connection


def _server() -> tuple[str, str, str]:
    settings = connection.settings_dict
    return settings["HOST"] or "127.0.0.1", str(settings["PORT"] or 5432), settings["USER"] or "postgres"


def server_dsn() -> str:
    """The libpq keywords of the test cluster, without a database name."""
    host, port, user = _server()
    return f"host={host} port={port} user={user}"


def database_dsn() -> str:
    """The libpq keywords of the test database itself, for a second, independent connection."""
    return f"{server_dsn()} dbname={connection.settings_dict['NAME']}"


def server_url(database: str) -> str:
    """``postgres://`` URL of ``database`` on the test cluster (for a child process's DATABASE_URL)."""
    host, port, user = _server()
    return f"postgres://{user}@{host}:{port}/{database}"
