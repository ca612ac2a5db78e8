"""The OpenAPI document is written for API clients: every operation has a summary and a description
that names its right, its read-your-writes behaviour and its error codes, and no text in the
document leaks the code behind it (docstrings, module paths, settings, Python names, ADRs).

What counts as a leak: RST literals (double backticks), docstring markup, a constant or setting
name (``READ_YOUR_WRITES_TIMEOUT``), a call (``owners_of()``), a CamelCase name that is not an
event type (``QueryApi``), a snake_case name that is not a name of the API itself (a parameter,
a field, an enum value, an error code, a right: ``read_alias`` is none of them), a dotted name
that is not a right or a path through the API's own fields (``settings.CONSUMERS``,
``projections.runtime``), or any paragraph of a docstring of the code that serves the API.
"""

import importlib
import inspect
import pkgutil
import re
from functools import cache

import pytest
from django.urls import resolve

from api import commands, queries
from api.base import CommandApi, QueryApi
from api.schema import ERROR_CODES
from config import rights
from events import EVENT_TYPES
from tests.api.test_schema import documented_operations, generated_schema

RIGHTS = {value for name, value in vars(rights).items() if name.isupper() and isinstance(value, str)}
# Keys of ``details`` the error descriptions name: part of the contract, though no schema lists them.
DETAIL_KEYS = {"current_version", "max_bytes", "allowed_from"}
API_MODULES = [
    "api.base",
    "api.errors",
    "api.inputs",
    "api.permissions",
    "api.routing",
    "api.schema",
    *(
        f"{package.__name__}.{module.name}"
        for package in (commands, queries)
        for module in pkgutil.iter_modules(package.__path__)
    ),
    "webhooks.api",
]
PROSE = {"e.g", "i.e"}  # dotted, but English
GENERATED_SECTIONS = ("**Right:**", "**Read-your-writes:**", "**Concurrency:**", "**Errors**")

FORBIDDEN_FRAGMENTS = ("``", "settings.", ":class:", ":func:", ":meth:", ":param", "self.", ".py", "docs/", ">>>", "__")
FORBIDDEN_PATTERNS = {
    "an ADR": re.compile(r"\bADRs?\b"),
    "docstring sections": re.compile(r"^\s*(Args|Returns|Raises|Yields|Parameters):", re.MULTILINE),
    "a constant or setting": re.compile(r"\b[A-Z][A-Z0-9]*_[A-Z0-9_]*[A-Z0-9]\b"),
    "a call": re.compile(r"\w\((\)|\w+=)"),
}
CAMEL = re.compile(r"\b[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]+)+\b")
SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
DOTTED = re.compile(r"\b[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+\b")
STATUS_AND_CODE = re.compile(r"\b([1-5][0-9]{2}) `([a-z_]+)`")


@cache
def schema() -> dict:
    return generated_schema()


@cache
def public_names() -> frozenset[str]:
    """Every name a client meets in the document: parameters, fields, enum values, error codes, rights."""
    names = set(DETAIL_KEYS)
    names |= {code for codes in ERROR_CODES.values() for code in codes}
    names |= {part for right in RIGHTS for part in right.split(".")}

    def walk(node):
        if isinstance(node, dict):
            names.update(node.get("properties", {}))
            names.update(value for value in node.get("enum", ()) if isinstance(value, str))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema()["components"])
    for operation in documented_operations(schema()).values():
        names.update(parameter["name"] for parameter in operation.get("parameters", ()))
        walk(operation)
    return frozenset(names)


def all_descriptions(node, where: str = "") -> list[tuple[str, str]]:
    """Every ``description`` and ``summary`` in the document, with where it sits."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in {"description", "summary"} and isinstance(value, str):
                found.append((f"{where}/{key}", value))
            elif key != "examples":
                found.extend(all_descriptions(value, f"{where}/{key}"))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(all_descriptions(value, f"{where}[{index}]"))
    return found


def leaks(text: str) -> list[str]:
    """Return what in ``text`` names the code rather than the API (empty when it reads as API documentation)."""
    found = [f"{fragment!r}" for fragment in FORBIDDEN_FRAGMENTS if fragment in text]
    found += [
        f"{what}: {match.group(0)!r}"
        for what, pattern in FORBIDDEN_PATTERNS.items()
        for match in pattern.finditer(text)
    ]
    names = public_names()
    found += [f"a Python class name: {name!r}" for name in CAMEL.findall(text) if name not in EVENT_TYPES]
    for dotted in DOTTED.findall(text):
        if dotted not in RIGHTS | PROSE and not all(part in names for part in dotted.split(".")):
            found.append(f"a module path or attribute: {dotted!r}")
    without_dotted = DOTTED.sub(" ", text)
    found += [f"a Python name: {name!r}" for name in SNAKE.findall(without_dotted) if name not in names]
    return found


def serving_view(path: str, method: str) -> type:
    """Return the view class that serves ``method`` on ``path`` (a route's resource delegates per method)."""
    view_class = resolve(re.sub(r"\{\w+\}", "1", path)).func.view_class
    return getattr(view_class, "handlers", {}).get(method, view_class)


def paragraphs_of_docstrings() -> set[str]:
    """Every paragraph (of some length) of every docstring in the modules that serve the API."""
    seen, docs = set(), []

    def collect(obj):
        if id(obj) in seen:
            return
        seen.add(id(obj))
        docs.append(inspect.getdoc(obj) or "")
        if inspect.isclass(obj):
            for member in vars(obj).values():
                member = getattr(member, "__func__", member)
                if (inspect.isclass(member) or inspect.isfunction(member)) and member.__module__ == obj.__module__:
                    collect(member)

    for name in API_MODULES:
        module = importlib.import_module(name)
        docs.append(module.__doc__ or "")
        for member in vars(module).values():
            if (inspect.isclass(member) or inspect.isfunction(member)) and member.__module__ == name:
                collect(member)
    paragraphs = {" ".join(paragraph.split()) for doc in docs for paragraph in doc.split("\n\n")}
    return {paragraph for paragraph in paragraphs if len(paragraph) >= 30}


OPERATIONS = sorted(documented_operations(generated_schema()))


@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_every_operation_has_a_summary_and_its_own_description(path, method):
    operation = documented_operations(schema())[(path, method)]
    summary = operation.get("summary", "")
    assert summary.strip(), "no summary"
    assert "\n" not in summary and len(summary) <= 100 and not summary.endswith("."), summary
    description = operation.get("description", "")
    own = description.split("\n\n")[0]
    assert not own.startswith(GENERATED_SECTIONS), f"no text of its own, only the generated sections: {own!r}"
    assert len(own.split()) >= 8, f"too short to tell a client what it does: {own!r}"


@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_every_description_names_the_right_the_operation_needs(path, method):
    description = documented_operations(schema())[(path, method)]["description"]
    view_class = serving_view(path, method)
    needed = [right for permission in view_class.permission_classes for right in getattr(permission, "granted_by", ())]
    assert needed, f"{view_class.__name__} checks no right"
    assert "**Right:**" in description
    for right in needed:
        assert f"`{right}`" in description, right
    for mentioned in re.findall(r"`(\w+\.(?:manage|view)_\w+)`", description):
        assert mentioned in RIGHTS, f"{mentioned} is no right"


@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_every_description_says_how_to_read_your_writes(path, method):
    operation = documented_operations(schema())[(path, method)]
    description = operation["description"]
    view_class = serving_view(path, method)
    assert "**Read-your-writes:**" in description
    if issubclass(view_class, CommandApi):
        assert "`position`" in description and "`min_position`" in description
    if method == "get":
        assert issubclass(view_class, QueryApi)
        assert "`X-Projection-Position`" in description
        takes_min_position = any(parameter["name"] == "min_position" for parameter in operation.get("parameters", ()))
        assert ("`min_position`" in description) == takes_min_position


@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_every_description_lists_exactly_the_error_codes_the_operation_documents(path, method):
    operation = documented_operations(schema())[(path, method)]
    description = operation["description"]
    documented = {
        (int(status), example["value"]["error"]["code"])
        for status, response in operation["responses"].items()
        if int(status) >= 400
        for example in response["content"]["application/json"]["examples"].values()
    }
    assert documented, "no error documented"
    mentioned = {(int(status), code) for status, code in STATUS_AND_CODE.findall(description)}
    errors = description[description.index("**Errors**") :]
    listed = {
        (int(status), code)
        for status, codes in re.findall(r"(\d{3}) ((?:`[a-z_]+`(?:, )?)+)", errors)
        for code in re.findall(r"`([a-z_]+)`", codes)
    }
    assert listed == documented
    assert mentioned - documented == set(), "the text names a failure the responses do not document"


def test_a_response_description_names_exactly_its_codes():
    for operation in documented_operations(schema()).values():
        for status, response in operation["responses"].items():
            if int(status) < 400:
                continue
            codes = {
                example["value"]["error"]["code"]
                for example in response["content"]["application/json"]["examples"].values()
            }
            named = set(re.findall(r"`([a-z_]+)`:", response["description"]))
            assert named == codes, (operation["operationId"], status)


def test_only_reads_that_wait_can_answer_projection_lagging():
    for (path, method), operation in documented_operations(schema()).items():
        view_class = serving_view(path, method)
        waits = issubclass(view_class, QueryApi) and bool(view_class().projections_behind())
        examples = operation["responses"]["503"]["content"]["application/json"]["examples"].values()
        lagging = any(example["value"]["error"]["code"] == "projection_lagging" for example in examples)
        assert lagging == waits, operation["operationId"]


def test_no_text_in_the_document_leaks_the_code():
    found = {where: leaked for where, text in all_descriptions(schema()) if (leaked := leaks(text))}
    assert found == {}


def test_no_docstring_of_the_code_reaches_the_document():
    docstrings = paragraphs_of_docstrings()
    assert len(docstrings) > 50  # the walk found the code's docstrings
    texts = [(where, " ".join(text.split())) for where, text in all_descriptions(schema())]
    found = {where: paragraph for where, text in texts for paragraph in docstrings if paragraph in text}
    assert found == {}


@pytest.mark.parametrize(
    ("text", "leaked"),
    [
        ("A read: names the read tables behind it (``()`` for reads straight from the outbox).", "'``'"),
        ("the projections that own those tables, whichever they are (settings.CONSUMERS)", "'settings.'"),
        ("Reads and changes of webhook configuration, through read_alias.", "a Python name: 'read_alias'"),
        ("Waits for projections.runtime.watermark to reach it.", "a module path or attribute"),
        ("Bounded per user (ADR 0023).", "an ADR"),
        ("Waits READ_YOUR_WRITES_TIMEOUT seconds.", "a constant or setting"),
        ("Served by QueryApi.", "a Python class name: 'QueryApi'"),
        ("Calls owners_of() first.", "a call"),
        ("Return the page.\n\nReturns:\n    the page", "docstring sections"),
    ],
)
def test_the_leak_check_catches_internal_names(text, leaked):
    assert any(leaked in finding for finding in leaks(text)), leaks(text)


@pytest.mark.parametrize(
    "text",
    [
        "Pass a command's `position` as `min_position`; else 503 `projection_lagging` with `Retry-After`.",
        "`email` is null unless you also hold `orders_write.manage_orders`; see `details.current_version`.",
        "Filter by `types` (`OrderShipped,OrderCancelled`) and `aggregate_type`.",
    ],
)
def test_the_leak_check_lets_the_api_own_names_pass(text):
    assert leaks(text) == []
