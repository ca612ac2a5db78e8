"""A stream handler that writes its lines in batches: one write per interval, not one per line.

Why (ADR 0025): a placement takes a few milliseconds, and the system call of its log line's own
``write`` slowed a worker process measurably, while building the same line and keeping it did
not (figures in docs/benchmarks.md). Lines below ``flush_level`` (WARNING) therefore wait up to
``flush_ms`` in memory and are written together by a thread of the handler; a line at
``flush_level`` or above is written at once, after every line before it, so an error is never
held back and the order of the lines is kept. What waits is written when logging shuts down
(``logging.shutdown`` at exit, and a ``multiprocessing`` child's exit, which skips ``atexit``);
a process killed outright loses at most the last ``flush_ms`` of its lines below WARNING.
"""

import contextlib
import logging
import os
import sys
import threading


class BatchingStreamHandler(logging.StreamHandler):
    def __init__(
        self, stream=None, flush_ms: int = 500, flush_level: int = logging.WARNING, max_bytes: int = 64 * 1024
    ) -> None:
        super().__init__(stream)
        self.flush_seconds = flush_ms / 1000
        self.flush_level = flush_level
        self.max_bytes = max_bytes
        self._pending: list[str] = []
        self._pending_bytes = 0
        self._pending_pid = os.getpid()  # the process the waiting lines belong to
        self._writer_pid: int | None = None  # the process whose writer thread runs
        self._stop_writer = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.put_line(self.format(record), record.levelno)
        except RecursionError:  # as StreamHandler.emit: a recursion is a bug to see
            raise
        except Exception:
            self.handleError(record)

    def put_line(self, text: str, level: int) -> None:
        """Add one formatted line (the caller holds ``self.lock``); write now if it may not wait."""
        self._own_pending()
        self._pending.append(text + self.terminator)
        self._pending_bytes += len(text)
        if level >= self.flush_level or self.flush_seconds <= 0 or self._pending_bytes >= self.max_bytes:
            self._write_pending()
        elif self._writer_pid != self._pending_pid:
            self._start_writer()

    def flush(self) -> None:
        with self.lock:
            self._own_pending()
            self._write_pending()
            super().flush()

    def close(self) -> None:
        self._stop_writer.set()
        try:
            self.flush()
        finally:
            super().close()

    def _flush_at_exit(self) -> None:
        with contextlib.suppress(OSError, ValueError):  # as logging.shutdown: the stream may be closed by now
            self.flush()

    def _own_pending(self) -> None:
        """In a forked child, drop the lines inherited from the parent: the parent writes them."""
        pid = os.getpid()
        if self._pending_pid != pid:
            self._pending.clear()
            self._pending_bytes = 0
            self._pending_pid = pid

    def _write_pending(self) -> None:
        if not self._pending:
            return
        text = "".join(self._pending)
        self._pending.clear()  # before the write: a stream that fails loses these lines, not all later ones
        self._pending_bytes = 0
        self.stream.write(text)
        self.stream.flush()

    def _start_writer(self) -> None:
        self._writer_pid = self._pending_pid
        self._stop_writer = threading.Event()  # a fresh one: a forked child must not wait on its parent's
        if "multiprocessing" in sys.modules and sys.modules["multiprocessing"].parent_process() is not None:
            from multiprocessing.util import Finalize  # a multiprocessing child ends in os._exit, past atexit

            Finalize(self, self._flush_at_exit, exitpriority=0)
        thread = threading.Thread(target=self._write_periodically, args=(self._stop_writer,), daemon=True)
        thread.name = "log-line-writer"
        thread.start()

    def _write_periodically(self, closed: threading.Event) -> None:
        while not closed.wait(self.flush_seconds):
            with self.lock:
                lines = len(self._pending)
                try:
                    self._write_pending()
                except Exception:
                    self.handleError(logging.makeLogRecord({"msg": f"{lines} log lines could not be written"}))
