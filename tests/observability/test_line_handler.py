"""Log lines written in batches: nothing lost, nothing written twice, nothing serious held back (ADR 0025)."""

import io
import json
import logging
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from observability.line_handler import BatchingStreamHandler
from observability.logging import JsonFormatter, log_fields


class CountingStream(io.StringIO):
    """A stream that counts its writes: each is one system call on a real one."""

    writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


@pytest.fixture
def handler_logger():
    """A logger apart from the logging tree with one ``BatchingStreamHandler``; closed afterwards."""
    made: list[BatchingStreamHandler] = []

    def configure(stream, **options) -> logging.Logger:
        handler = BatchingStreamHandler(stream, **options)
        handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
        made.append(handler)
        logger = logging.Logger("orders.test.batching", logging.INFO)
        logger.addHandler(handler)
        return logger

    yield configure
    for handler in made:
        handler.close()


def wait_for(condition, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not written in time"
        time.sleep(0.01)


def test_lines_below_warning_wait_and_a_warning_writes_them_with_itself_in_order(handler_logger):
    stream = CountingStream()
    logger = handler_logger(stream, flush_ms=60_000)
    logger.info("placed 1")
    logger.info("placed 2")
    assert stream.getvalue() == "" and stream.writes == 0
    logger.warning("refused")
    assert stream.getvalue() == "INFO placed 1\nINFO placed 2\nWARNING refused\n"
    assert stream.writes == 1


def test_the_writer_thread_writes_waiting_lines_within_the_interval(handler_logger):
    stream = CountingStream()
    logger = handler_logger(stream, flush_ms=50)
    for number in range(20):
        logger.info("placed %d", number)
    wait_for(lambda: stream.getvalue().count("\n") == 20)
    assert stream.writes < 20  # together, not one write per line
    assert stream.getvalue().splitlines()[-1] == "INFO placed 19"


def test_flush_ms_zero_writes_each_line_at_once(handler_logger):
    stream = CountingStream()
    logger = handler_logger(stream, flush_ms=0)
    logger.info("placed")
    assert stream.getvalue() == "INFO placed\n" and stream.writes == 1


def test_lines_past_max_bytes_are_written_without_waiting(handler_logger):
    stream = CountingStream()
    logger = handler_logger(stream, flush_ms=60_000, max_bytes=100)
    for number in range(10):
        logger.info("line %d %s", number, "x" * 20)
    assert stream.writes >= 2 and stream.getvalue().startswith("INFO line 0 ")


def test_flush_and_close_write_what_waits(handler_logger):
    stream = io.StringIO()
    logger = handler_logger(stream, flush_ms=60_000)
    logger.info("placed")
    logger.handlers[0].flush()
    assert stream.getvalue() == "INFO placed\n"
    logger.info("drained")
    logger.handlers[0].close()
    assert stream.getvalue() == "INFO placed\nINFO drained\n"


def test_log_fields_hands_the_line_to_the_batch_without_a_record(handler_logger, monkeypatch):
    stream = io.StringIO()
    logger = handler_logger(stream, flush_ms=60_000)
    logger.handlers[0].setFormatter(JsonFormatter())
    monkeypatch.setattr(logging.Logger, "makeRecord", lambda *args, **kwargs: pytest.fail("a record was made"))
    log_fields(logger, logging.INFO, "order_place ok", {"outcome": "ok"})
    assert stream.getvalue() == ""
    log_fields(logger, logging.WARNING, "order_place out_of_stock", {"outcome": "out_of_stock"})
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(line["level"], line["outcome"]) for line in lines] == [("INFO", "ok"), ("WARNING", "out_of_stock")]


def test_a_failing_stream_is_reported_by_the_writer_thread(handler_logger, monkeypatch):
    class BrokenStream(io.StringIO):
        def write(self, text):
            raise OSError("disk full")

    logger = handler_logger(BrokenStream(), flush_ms=20)
    reported: list[logging.LogRecord] = []
    monkeypatch.setattr(logger.handlers[0], "handleError", reported.append)
    logger.info("placed")
    wait_for(lambda: reported)
    assert reported[0].getMessage() == "1 log lines could not be written"


def _log_in_child() -> None:
    """A multiprocessing child (as django-q2's workers): logs below WARNING and ends in ``os._exit``."""
    logging.getLogger("orders.test.child").info("from the child")


def test_a_forked_child_writes_its_own_lines_at_exit_and_never_its_parents(tmp_path: Path):
    path = tmp_path / "lines.log"
    with path.open("a", buffering=1) as stream:
        handler = BatchingStreamHandler(stream, flush_ms=60_000)
        handler.setFormatter(logging.Formatter("%(process)d %(message)s"))
        logger = logging.getLogger("orders.test.child")
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
        try:
            logger.info("from the parent")  # waiting in the parent when the child is forked
            child = multiprocessing.get_context("fork").Process(target=_log_in_child)
            child.start()
            child.join(30)
            assert child.exitcode == 0
            child_lines = path.read_text().splitlines()
            handler.flush()
        finally:
            logger.removeHandler(handler)
            logger.propagate = True
            handler.close()
    assert child_lines == [f"{child.pid} from the child"]  # written by its exit, without the parent's line
    assert path.read_text().splitlines()[1:] == [f"{os.getpid()} from the parent"]


def test_a_process_configured_by_the_settings_writes_its_lines_when_it_exits():
    code = (
        "import django, logging; django.setup()\n"
        "assert type(logging.getLogger().handlers[0]).__name__ == 'BatchingStreamHandler'\n"
        "logging.getLogger('orders.command').info('order_place ok', extra={'outcome': 'ok'})\n"
    )
    env = {"DJANGO_SETTINGS_MODULE": "config.settings.test", "LOG_FORMAT": "json", "LOG_FLUSH_MS": "60000"}
    result = subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, **env}, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    assert [line["message"] for line in lines if line["logger"] == "orders.command"] == ["order_place ok"]
