"""API fixtures: users holding exactly one right each, and clients authenticated by token.

Query tests need the projections to have run, which needs committed transactions (the drain
reads only events below every open transaction), so they use ``projected``: a transactional
database with the read tables emptied, and ``drain`` to bring them up to date.
"""

import itertools
import time
from collections.abc import Callable

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from api.tokens import api_token_issue
from config.rights import MANAGE_CATALOG, MANAGE_ORDERS, VIEW_REPORTS
from tests.api.draining import drain_settled
from tests.read_tables import empty_read_tables

_usernames = itertools.count(1)


def make_user(*rights: str, superuser: bool = False):
    user = get_user_model().objects.create_user(username=f"user{next(_usernames)}", password="pw-unused-123")
    for right in rights:
        app_label, codename = right.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    if superuser:
        user.is_superuser = True
        user.save()
    return get_user_model().objects.get(pk=user.pk)  # fresh: no stale permission cache


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=user)[1]}")
    return client


def until(condition: Callable[[], bool], *, timeout: float = 10, what: str = "the condition") -> None:
    """Return once ``condition()`` holds (polled); fail, naming ``what``, after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def same_credentials(client) -> APIClient:
    """A client of its own (one per thread) sending the same token."""
    clone = APIClient()
    clone.credentials(**client._credentials)
    return clone


@pytest.fixture
def clerk_client(db):
    """May place and change orders (and read them)."""
    return client_for(make_user(MANAGE_ORDERS))


@pytest.fixture
def catalog_client(db):
    """May manage customers and products (and read orders)."""
    return client_for(make_user(MANAGE_CATALOG))


@pytest.fixture
def manager_client(db):
    """May read reports and orders, change nothing."""
    return client_for(make_user(VIEW_REPORTS))


@pytest.fixture
def admin_client_api(db):
    return client_for(make_user(superuser=True))


@pytest.fixture
def anonymous_client():
    return APIClient()


@pytest.fixture
def projected(transactional_db):
    """A committed-transactions database whose read tables start empty (Django's flush skips them)."""
    empty_read_tables()


@pytest.fixture
def drain(projected):
    """Drain until nothing lags (see tests/api/draining.py)."""
    return drain_settled


# The schemathesis run (test_schemathesis.py) counts its cases. Each operation (test item) must run
# at least MIN_CASES_PER_OPERATION, checked here per item, so the floor holds however xdist spreads
# the items; the session total is summed (across xdist workers too, when this conftest is loaded
# by the controller, i.e. when pytest is pointed at tests/api) and a full run must reach MIN_CASES.
_SCHEMATHESIS = "tests.api.test_schemathesis"
_MIN_CASES = 1000  # the same as test_schemathesis.MIN_CASES (asserted there)


def _counter(values=()):
    from collections import Counter

    return Counter(values)


def _schemathesis_module():
    import sys  # (appended section: its imports stay local)

    return sys.modules.get(_SCHEMATHESIS)  # never imported here: it loads the schema on import


def _schemathesis_tally() -> dict[str, int]:
    module = _schemathesis_module()
    if module is None:
        return {"cases": 0, "items": 0, "operations": 0}
    return {
        "cases": sum(module.CASES.values()),
        "items": len({label for label, _phase in module.CASES}),
        "operations": len(module.OPERATION_LABELS),
    }


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem):
    module = _schemathesis_module()
    if module is None or pyfuncitem.module is not module or pyfuncitem.originalname != module.FUZZ_TEST:
        return (yield)
    before = _counter(module.CASES)
    result = yield
    ran = _counter(module.CASES)
    ran.subtract(before)
    operations = sorted({label for (label, _phase), count in ran.items() if count})
    if ran.total() < module.MIN_CASES_PER_OPERATION:
        raise AssertionError(
            f"{operations}: only {ran.total()} schemathesis cases ran, "
            f"at least {module.MIN_CASES_PER_OPERATION} expected"
        )
    return result


def pytest_testnodedown(node, error):  # xdist controller: add up the workers' tallies
    config = node.config
    total = getattr(config, "_schemathesis_tally", _counter())
    _add_tally(total, node.workeroutput.get("schemathesis_tally", {}))
    config._schemathesis_tally = total


def _add_tally(total, tally) -> None:
    total["cases"] += tally.get("cases", 0)
    total["items"] += tally.get("items", 0)
    total["operations"] = max(total["operations"], tally.get("operations", 0))


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session, exitstatus):
    config = session.config
    if hasattr(config, "workerinput"):  # xdist worker: report to the controller
        config.workeroutput["schemathesis_tally"] = _schemathesis_tally()
        return
    total = getattr(config, "_schemathesis_tally", _counter())
    _add_tally(total, _schemathesis_tally())
    config._schemathesis_tally = total
    full_run = total["operations"] and total["items"] >= total["operations"]
    if full_run and total["cases"] < _MIN_CASES and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if hasattr(config, "workerinput"):
        return
    total = getattr(config, "_schemathesis_tally", _counter())
    if not total["items"]:
        return
    module = _schemathesis_module()
    if module is not None:
        by_phase, by_operation = _counter(), _counter()
        for (label, phase), count in module.CASES.items():
            by_phase[phase] += count
            by_operation[label] += count
        for label, count in sorted(by_operation.items()):
            terminalreporter.write_line(f"  {count:5d}  {label}")
        terminalreporter.write_line(f"schemathesis cases by phase: {dict(sorted(by_phase.items()))}")
    verdict = "ok" if total["cases"] >= _MIN_CASES else "TOO FEW"
    terminalreporter.write_line(
        f"schemathesis cases executed: {total['cases']} over {total['items']} of {total['operations']} operations "
        f"(required >= {_MIN_CASES} for a full run: {verdict})"
    )
