"""JSON log lines: one object per line, and one correlation id from the request to the batch that applied it."""

import io
import json
import logging
import sys
import uuid

import pytest

from observability.context import log_context
from observability.line_handler import BatchingStreamHandler
from observability.logging import JsonFormatter, TextFormatter, log_fields
from orders_write import services
from orders_write.errors import DomainError
from orders_write.outbox import correlated
from projections.history import order_history
from projections.runtime.loop import drain
from projections.runtime.registry import consumers


@pytest.fixture
def json_lines():
    """Every record logged at INFO or above, formatted by ``JsonFormatter``, parsed back."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)

    def read() -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield read
    root.removeHandler(handler)
    root.setLevel(level)


def test_a_line_is_one_json_object_with_time_level_logger_message_context_and_extras(json_lines):
    logger = logging.getLogger("orders.test")
    with log_context(request_id="r-1", order_id=7, user_id=None):
        logger.warning("hello %s", "world", extra={"event_ids": [uuid.UUID(int=1)]})
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logger.exception("failed")
    first, second = json_lines()
    assert first["level"] == "WARNING" and first["logger"] == "orders.test" and first["message"] == "hello world"
    assert first["time"].endswith("+00:00") and "T" in first["time"]
    assert first["request_id"] == "r-1" and first["order_id"] == 7 and "user_id" not in first
    assert first["event_ids"] == [str(uuid.UUID(int=1))]
    assert "request_id" not in second and "RuntimeError: boom" in second["exception"]


def test_values_json_cannot_hold_are_written_as_text(json_lines):
    logger = logging.getLogger("orders.test")
    logger.info("odd values", extra={"figures": {3: "int key"}, "huge": 2**70, "kinds": {"a"}})
    (line,) = json_lines()
    assert line["message"] == "odd values" and line["figures"] == {"3": "int key"}
    assert line["huge"] == 2**70 and line["kinds"] == "{'a'}"


def test_the_text_format_appends_the_same_fields():
    record = logging.LogRecord("orders.test", logging.INFO, __file__, 1, "placed", None, None)
    record.duration_ms = 1.5
    with log_context(order_id=9):
        text = TextFormatter().format(record)
    assert text.endswith("INFO orders.test placed order_id=9 duration_ms=1.5")


@pytest.fixture
def own_logger():
    """A logger with only the given handlers, and the records made while the test runs.

    Made apart from the logging tree (no parent), so neither the root's handlers nor pytest's
    capture, which it attaches to every logger that does not propagate, are among its handlers.
    """
    made: list[logging.LogRecord] = []
    factory = logging.getLogRecordFactory()

    def counting_factory(*args, **kwargs):
        made.append(record := factory(*args, **kwargs))
        return record

    def configure(*handlers: logging.Handler) -> logging.Logger:
        logger = logging.Logger("orders.test.log_fields", logging.INFO)
        for handler in handlers:
            logger.addHandler(handler)
        return logger

    configure.records = made
    logging.setLogRecordFactory(counting_factory)
    yield configure
    logging.setLogRecordFactory(factory)


def json_handler(stream: io.StringIO) -> BatchingStreamHandler:
    """The shipped handler, writing each line at once."""
    handler = BatchingStreamHandler(stream, flush_ms=0)
    handler.setFormatter(JsonFormatter())
    return handler


def test_log_fields_writes_the_line_logger_log_writes_without_a_record(own_logger):
    stream = io.StringIO()
    logger = own_logger(json_handler(stream))
    fields = {"outcome": "ok", "order_id": 8, "event_ids": [str(uuid.UUID(int=2))], "huge": 2**70}
    with log_context(request_id="r-2", order_id=7, command="order_place"):
        logger.info("order_place ok", extra=fields)
        records_by_log = len(own_logger.records)
        log_fields(logger, logging.INFO, "order_place ok", fields)
        log_fields(logger, logging.DEBUG, "below the level", fields)
    assert records_by_log == 1 and len(own_logger.records) == 1  # the direct path made none
    by_log, by_log_fields = (json.loads(line) for line in stream.getvalue().splitlines())
    assert by_log_fields["order_id"] == 8 and by_log_fields["request_id"] == "r-2"  # extras win over the context
    assert list(by_log_fields) == list(by_log) and {**by_log_fields, "time": 0} == {**by_log, "time": 0}
    assert by_log_fields["huge"] == 2**70 and by_log_fields["time"].endswith("+00:00")


def test_log_fields_honours_each_handlers_level(own_logger):
    loud, quiet = io.StringIO(), io.StringIO()
    quiet_handler = json_handler(quiet)
    quiet_handler.setLevel(logging.WARNING)
    logger = own_logger(json_handler(loud), quiet_handler)
    log_fields(logger, logging.INFO, "placed", {"outcome": "ok"})
    log_fields(logger, logging.WARNING, "refused", {"outcome": "out_of_stock"})
    assert [json.loads(line)["message"] for line in loud.getvalue().splitlines()] == ["placed", "refused"]
    assert [json.loads(line)["level"] for line in quiet.getvalue().splitlines()] == ["WARNING"]
    assert own_logger.records == []


def test_log_fields_hands_an_operators_own_configuration_an_ordinary_record(own_logger):
    """A formatter or filter of the operator's own sees the caller, the level and the extras as attributes."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(module)s:%(funcName)s:%(lineno)d %(message)s %(outcome)s"))
    handler.addFilter(lambda record: record.outcome != "hidden")
    logger = own_logger(handler, json_handler(io.StringIO()))
    log_fields(logger, logging.WARNING, "placed 100%", {"outcome": "ok"})
    line_number = sys._getframe().f_lineno - 1
    log_fields(logger, logging.INFO, "filtered out", {"outcome": "hidden"})
    name = "test_log_fields_hands_an_operators_own_configuration_an_ordinary_record"
    assert stream.getvalue() == f"WARNING test_json_logs:{name}:{line_number} placed 100% ok\n"
    assert len(own_logger.records) == 2


def test_log_fields_reports_a_failing_stream_as_logging_does(own_logger, monkeypatch):
    class BrokenStream(io.StringIO):
        def write(self, text):
            raise OSError("disk full")

    handler = json_handler(BrokenStream())
    reported: list[logging.LogRecord] = []
    monkeypatch.setattr(handler, "handleError", reported.append)
    logger = own_logger(handler)
    log_fields(logger, logging.INFO, "placed", {"outcome": "ok"})
    (record,) = reported
    assert record.getMessage() == "placed" and record.outcome == "ok"


def test_a_refused_command_logs_its_warning_line_at_level_warning(db, json_lines, customer):
    logging.getLogger().setLevel(logging.WARNING)
    with pytest.raises(DomainError) as refused:
        services.order_place(customer_id=customer, lines=[services.LineInput(sku="NO-SUCH-SKU", quantity=1)])
    (line,) = [line for line in json_lines() if line.get("command") == "order_place"]
    assert line["level"] == "WARNING" and line["outcome"] == refused.value.code and line["command"] == "order_place"
    assert line["message"] == f"order_place {refused.value.code}" and "event_ids" not in line


def place_with_request_id(client, customer: int, sku: str):
    """Place an order through the API under a fresh ``X-Request-ID``; return the id and the response."""
    incoming = uuid.uuid4()
    response = client.post(
        "/api/orders/",
        {"customer_id": customer, "lines": [{"sku": sku, "quantity": 2}]},
        format="json",
        HTTP_X_REQUEST_ID=str(incoming),
    )
    assert response.status_code == 201, response.content
    return incoming, response


def test_one_api_placement_logs_one_correlation_id_from_request_to_command_to_every_drain_batch(
    json_lines, clerk_client, customer, sku, drain
):
    incoming, response = place_with_request_id(clerk_client, customer, sku)
    assert response["X-Request-ID"] == str(incoming)
    order_id = response.json()["order_id"]
    drain()
    lines = json_lines()
    correlation = str(incoming)

    (request_line,) = [line for line in lines if line["logger"] == "orders.request" and line.get("method") == "POST"]
    assert request_line["request_id"] == request_line["correlation_id"] == correlation
    assert request_line["route"] == "api:order-list" and request_line["status"] == 201
    assert request_line["user_id"] == response.wsgi_request.user.pk

    (command_line,) = [
        line for line in lines if line["logger"] == "orders.command" and line["command"] == "order_place"
    ]
    assert command_line["correlation_id"] == correlation and command_line["request_id"] == correlation
    assert command_line["order_id"] == order_id and command_line["outcome"] == "ok"
    assert command_line["user_id"] == request_line["user_id"]
    (event,) = order_history(order_id=order_id)
    assert event["correlation_id"] == correlation  # the id stored in the event is the request's
    assert len(command_line["event_ids"]) == 1

    batches = [line for line in lines if line["logger"] == "orders.consumer" and correlation in line["correlation_ids"]]
    assert batches
    assert {line["consumer"] for line in batches} == {
        name for name, c in consumers().items() if "OrderPlaced" in c.event_types()
    }
    for line in batches:
        assert line["batch_events"] >= 1 and line["from_position"] <= event["position"] <= line["to_position"]
        assert line["duration_ms"] > 0


@pytest.mark.parametrize("header", ["not-a-uuid", "x" * 100, ""])
def test_an_invalid_request_id_is_replaced_by_a_new_one(clerk_client, customer, sku, header, db):
    response = clerk_client.post(
        "/api/orders/",
        {"customer_id": customer, "lines": [{"sku": sku, "quantity": 1}]},
        format="json",
        HTTP_X_REQUEST_ID=header,
    )
    assert response.status_code == 201
    given = uuid.UUID(response["X-Request-ID"])
    assert str(given) != header
    (event,) = order_history(order_id=response.json()["order_id"])
    assert event["correlation_id"] == str(given)


def test_x_correlation_id_is_honoured_when_there_is_no_request_id(clerk_client, customer, sku, db):
    incoming = uuid.uuid4()
    response = clerk_client.post(
        "/api/orders/",
        {"customer_id": customer, "lines": [{"sku": sku, "quantity": 1}]},
        format="json",
        HTTP_X_CORRELATION_ID=str(incoming),
    )
    assert response["X-Request-ID"] == str(incoming)
    (event,) = order_history(order_id=response.json()["order_id"])
    assert event["correlation_id"] == str(incoming)


def test_a_catch_up_batchs_line_names_at_most_128_requests_and_debug_names_them_all(json_lines, projected):
    """A drain of 815,618 events once wrote a 120 MB log: the INFO line is bounded (ADR 0029)."""
    correlations = [uuid.uuid4() for _ in range(300)]
    for number, correlation in enumerate(correlations):
        with correlated(correlation):
            services.customer_register(name=f"catch-up {number}", email=f"catch-up-{number}@example.com")
    logging.getLogger("orders.consumer").setLevel(logging.DEBUG)
    try:
        drain("order_views")
    finally:
        logging.getLogger("orders.consumer").setLevel(logging.NOTSET)
    lines = [line for line in json_lines() if line["logger"] == "orders.consumer"]
    (info,) = [line for line in lines if line["level"] == "INFO"]
    assert info["batch_events"] == 300
    assert info["correlation_ids"] == [str(c) for c in correlations[:128]]
    assert info["correlation_ids_omitted"] == 172
    (debug,) = [line for line in lines if line["level"] == "DEBUG"]
    assert debug["correlation_ids"] == [str(c) for c in correlations]
    assert (debug["from_position"], debug["to_position"]) == (info["from_position"], info["to_position"])
