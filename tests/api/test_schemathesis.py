"""Every operation of /api/schema/, fuzzed by schemathesis in-process (WSGI): responses match the document.

Every check schemathesis has (``--checks all``) but ``positive_data_acceptance``, which no
operation can meet: each has a business rule no static schema states (schemathesis.toml lists
them; ADR 0023). Positive and negative generation (input the schema allows, and input it does
not, which must be a 4xx), with a real superuser token, against a database seeded with a
customer, products and an order; roughly a third of the cases have their
ids swapped for the seeded ones so commands and reads also reach real resources. Generation is
deterministic (no example database, derandomised), so a CI run cannot flake. The conftest counts
the executed cases: every operation must run ``MIN_CASES_PER_OPERATION`` of them and a full run
at least ``MIN_CASES``, printed in the terminal summary.
"""

import math
import zlib
from collections import Counter
from dataclasses import dataclass

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import override_settings
from hypothesis import HealthCheck, settings
from schemathesis.config import NotAServerErrorConfig
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.base import CommandRateThrottle, QueryRateThrottle
from api.tokens import api_token_issue
from orders_write.services import LineInput, customer_register, order_place, product_add
from tests.api.conftest import make_user
from tests.api.test_schema import documented_operations, generated_schema

MIN_CASES = 1000
MAX_EXAMPLES = 40  # per operation and mode, fuzzing phase; the examples and coverage phases add their own
# All checks (None: every registered one) except the one schemathesis.toml disables, and why.
CHECKS = None
EXCLUDED_CHECKS = [positive_data_acceptance]

# Fetched once, at collection, through the app itself; the requests carry Host: localhost.
with override_settings(ALLOWED_HOSTS=[*django_settings.ALLOWED_HOSTS, "localhost"]):
    schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
schema.config.generation.update(
    max_examples=MAX_EXAMPLES,
    modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE],
    with_security_parameters=False,  # no generated Authorization values: a real token is sent
    deterministic=True,
    database="none",
)
# 503 projection_lagging is a documented answer of every query (status_code_conformance still holds
# each status to its operation's responses, and the test below to min_position), not a server error.
schema.config.checks.not_a_server_error = NotAServerErrorConfig(expected_statuses=["2xx", "3xx", "4xx", "503"])

OPERATION_LABELS = sorted(result.ok().label for result in schema.get_all_operations())
MIN_CASES_PER_OPERATION = math.ceil(MIN_CASES / len(OPERATION_LABELS))
FUZZ_TEST = "test_api_conforms_to_schema"  # its items are held to the floor by tests/api/conftest.py
CASES: Counter = Counter()  # (operation label, phase) -> executed cases; read by tests/api/conftest.py


@dataclass
class Seed:
    token: str
    customer_id: int
    skus: list[str]
    order_id: int


@pytest.fixture
def keep_connection():
    """Keep the test's transaction open across requests, as Django's test client does.

    The WSGI handler closes "old" connections when a request starts and finishes, which inside the
    test's atomic block means closing the connection under it.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def seed(db, keep_connection, settings, monkeypatch) -> Seed:
    """Per operation (test item): a superuser token and a little data, shared by all its cases."""
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]
    settings.READ_YOUR_WRITES_TIMEOUT = 0  # an unreached min_position answers 503 at once
    monkeypatch.setattr(CommandRateThrottle, "THROTTLE_RATES", {"commands": "1000000/min"})
    monkeypatch.setattr(QueryRateThrottle, "THROTTLE_RATES", {"queries": "1000000/min"})
    user = make_user(superuser=True)
    customer_id = customer_register(name="Seed Customer", email="seed@example.com").aggregate_id
    skus = [f"SEED-{n}" for n in range(3)]
    for n, sku in enumerate(skus):
        product_add(sku=sku, name=f"Seed product {n}", price=100 * (n + 1))
    order = order_place(customer_id=customer_id, lines=[LineInput(sku=skus[0], quantity=2)])
    return Seed(api_token_issue(user=user)[1], customer_id, skus, order.order_id)


def _aim_at_seed(case, seed: Seed) -> None:
    """Point about a third of the cases (chosen from the case itself) at the seeded data.

    Ids become the seeded ones, new skus and emails become well-formed, and version preconditions
    are dropped, so these cases get past validation and lookups into the domain services.
    """
    if case.meta is not None and case.meta.generation.mode is schemathesis.GenerationMode.NEGATIVE:
        return  # a negative case stays as invalid as it was generated
    fingerprint = zlib.crc32(repr((case.path_parameters, case.query, case.body, case.headers)).encode())
    if fingerprint % 3:
        return
    real = {"order_id": seed.order_id, "customer_id": seed.customer_id, "sku": seed.skus[0]}
    for name in case.path_parameters or {}:
        if name in real:
            case.path_parameters[name] = real[name]
    if case.headers:
        case.headers.pop("If-Match", None)
    if case.query:
        case.query.pop("expected_version", None)
        if "customer" in case.query:
            case.query["customer"] = seed.customer_id
    if isinstance(case.body, dict):
        case.body.pop("expected_version", None)
        if "customer_id" in case.body:
            case.body["customer_id"] = seed.customer_id
        if "email" in case.body:
            case.body["email"] = f"aimed-{fingerprint}@example.com"
        if "sku" in case.body:  # a line's sku on an order, a new sku in the catalogue
            is_new = "price" in case.body
            case.body["sku"] = f"AIMED-{fingerprint}" if is_new else seed.skus[1]
        for n, line in enumerate(case.body.get("lines") or []):
            if isinstance(line, dict):
                line["sku"] = seed.skus[n % len(seed.skus)]


def test_every_documented_operation_is_fuzzed():
    documented = {f"{method.upper()} {path}" for path, method in documented_operations(generated_schema())}
    assert set(OPERATION_LABELS) == documented


@pytest.mark.timeout(600)
@schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_api_conforms_to_schema(case, seed):
    _aim_at_seed(case, seed)
    auth = {"Authorization": f"Token {seed.token}"}
    CASES[(case.operation.label, case.meta.phase.name.value if case.meta else "?")] += 1
    response = case.call_and_validate(headers=auth, checks=CHECKS, excluded_checks=EXCLUDED_CHECKS)
    assert response.status_code not in {401, 403, 429}, response.text  # token, rights and raised rate honoured
    if response.status_code == 503:  # only ever a lagging read side, for a min_position it has not reached
        assert response.json()["error"]["code"] == "projection_lagging"
        assert (case.query or {}).get("min_position") is not None
        headers = {name.lower(): value for name, value in response.headers.items()}
        assert headers.get("retry-after") == ["1"], headers


# The extremes of the calendar, which random generation rarely reaches: never a 500, always documented.
BOUNDARIES = {
    "date": ["0001-01-01", "0001-01-02", "9999-12-30", "9999-12-31"],
    "date-time": [
        "0001-01-01T00:00:00Z",
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59.999999Z",
        "9999-12-31T23:59:59-12:00",
    ],
}


def _boundary_cases():
    for (path, method), operation in sorted(documented_operations(generated_schema()).items()):
        params = [p for p in operation.get("parameters", []) if p["in"] == "query"]
        for param in params:
            for value in BOUNDARIES.get(param["schema"].get("format"), []):
                yield pytest.param(path, method, {param["name"]: value}, id=f"{method} {path} {param['name']}={value}")
        dated = [p["name"] for p in params if p["schema"].get("format") == "date"]
        if len(dated) == 2:  # a range on one extreme day
            for value in BOUNDARIES["date"]:
                yield pytest.param(path, method, dict.fromkeys(dated, value), id=f"{method} {path} {dated}={value}")


@pytest.mark.parametrize(("path", "method", "query"), list(_boundary_cases()))
def test_calendar_boundaries_conform(path, method, query, seed):
    path_parameters = {"order_id": seed.order_id, "customer_id": seed.customer_id, "sku": seed.skus[0]}
    operation = schema[path][method.upper()]
    names = {p.name for p in operation.path_parameters}
    case = operation.Case(path_parameters={k: v for k, v in path_parameters.items() if k in names}, query=query)
    response = case.call_and_validate(
        headers={"Authorization": f"Token {seed.token}"}, checks=CHECKS, excluded_checks=EXCLUDED_CHECKS
    )
    assert response.status_code in {200, 400, 404}, response.text


def test_case_floor_matches_the_conftest_tally():
    from tests.api import conftest

    assert conftest._MIN_CASES == MIN_CASES
    assert MIN_CASES_PER_OPERATION * len(OPERATION_LABELS) >= MIN_CASES
