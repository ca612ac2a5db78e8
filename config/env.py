"""Read configuration from the environment, failing at start with the variable's name.

Every setting a deployer can change comes through these helpers, so a typo such as
``DEBUG=ture`` or a malformed ``DATABASE_URL`` stops the process with a message that names
the variable instead of surfacing later as a confusing error deep inside Django.
"""

import os
import re
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    return None if value is None or value.strip() == "" else value.strip()


def env_str(name: str, default: str | None = None) -> str | None:
    """Return the variable's text, or ``default`` when it is unset or blank."""
    value = _raw(name)
    return default if value is None else value


def env_bool(name: str, default: bool) -> bool:
    """Return the variable as a boolean; anything but a known spelling is an error."""
    value = _raw(name)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}: expected one of true/false/1/0/yes/no/on/off, got {value!r}")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    """Return the variable as an integer no smaller than ``minimum``."""
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}: expected an integer, got {value!r}") from None
    if number < minimum:
        raise ImproperlyConfigured(f"{name}: must be at least {minimum}, got {number}")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    """Return a comma-separated variable as a list of non-empty items."""
    value = _raw(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_file(name: str) -> str | None:
    """Return the variable as the path of a file that exists, or ``None`` when it is unset."""
    value = _raw(name)
    if value is not None and not os.path.isfile(value):
        raise ImproperlyConfigured(f"{name}: no such file: {value!r}")
    return value


# The userinfo of any URL: from "scheme://" to the last "@" before the host (ADR 0029).
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s,]*@")


def without_credentials(text: str) -> str:
    """Return ``text`` with the user, password or token of every URL in it removed (ADR 0029).

    A URL is shown in logs, errors and status pages; its userinfo may be a password or a token.
    """
    return _USERINFO.sub(r"\1", text)


def env_choice(name: str, default: str, *, pattern: str, meaning: str) -> str:
    """Return the variable when it matches ``pattern``; ``meaning`` describes it in the error."""
    value = _raw(name)
    if value is None:
        return default
    if not re.fullmatch(pattern, value):
        raise ImproperlyConfigured(f"{name}: expected {meaning}, got {value!r}")
    return value


_SUPPORTED_ENGINES = {
    "django.db.backends.postgresql": "postgres",
    "django.db.backends.sqlite3": "sqlite",
}


def env_database(name: str, default: str) -> dict[str, Any]:
    """Parse a database URL into Django's DATABASES entry, tuned per engine.

    PostgreSQL and SQLite are the two supported engines. SQLite runs in WAL mode with
    ``BEGIN IMMEDIATE`` transactions so that writers queue instead of failing with
    "database is locked" halfway through a command.
    """
    url = env_str(name, default)
    try:
        config = dj_database_url.parse(url, conn_max_age=0)
    except Exception as error:  # dj-database-url raises several types for bad input
        raise ImproperlyConfigured(f"{name}: not a valid database URL ({without_credentials(str(error))})") from None
    engine = config.get("ENGINE")
    if engine not in _SUPPORTED_ENGINES:
        raise ImproperlyConfigured(
            f"{name}: unsupported database {url.split(':', 1)[0]!r}; use postgres:// or sqlite://"
        )
    if engine == "django.db.backends.sqlite3":
        if not config.get("NAME"):
            raise ImproperlyConfigured(f"{name}: a SQLite URL needs a file path, e.g. sqlite:///var/db.sqlite3")
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;",
        }
    return config
