"""Throw-away PostgreSQL clusters of their own: for restore drills and the restore test.

A new cluster's transaction ids start low again (about 750), below those of any cluster that
has been in use; ``epoch`` makes them start higher instead (``pg_resetwal -e``: xid8 values
then begin at ``epoch * 2**32``). That is exactly what a restore does to the outbox's ``txid``
column (ADR 0017). The binaries are those of the server ``DATABASE_URL`` names, so no
PostgreSQL version is assumed; run as root, the cluster is owned by ``postgres``.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shlex
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from bench import stack


def server_binaries() -> Path:
    """Return the directory of the binaries the ``DATABASE_URL`` server runs (``postmaster.opts``)."""
    with psycopg.connect(stack.database_url("postgres"), autocommit=True) as connection:
        data = Path(connection.execute("SHOW data_directory").fetchone()[0])
    return Path(shlex.split((data / "postmaster.opts").read_text())[0]).parent


@dataclass
class ScratchCluster:
    port: int = field(default_factory=stack.free_port)
    epoch: int = 0
    max_connections: int = 50
    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="orders-cluster-")))
    binaries: Path | None = None  # the server's, found when the cluster starts

    def _run(self, *command: str) -> None:
        if os.geteuid() == 0:
            command = ("runuser", "-u", "postgres", "--", *command)
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self) -> ScratchCluster:
        self.binaries = binaries = server_binaries()
        data = self.directory / "data"
        if os.geteuid() == 0:
            os.chown(self.directory, pwd.getpwnam("postgres").pw_uid, -1)
        self._run(str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres")
        with (data / "postgresql.conf").open("a") as conf:
            conf.write("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n")
            conf.write(f"max_connections = {self.max_connections}\n")
        if self.epoch:
            self._run(str(binaries / "pg_resetwal"), "-e", str(self.epoch), "-D", str(data))
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1"
        self._run(
            str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(self.directory / "log"), "-w", "start"
        )
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        if self.binaries is not None:  # started
            with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
                self._run(
                    str(self.binaries / "pg_ctl"), "-D", str(self.directory / "data"), "-m", "immediate", "-w", "stop"
                )
        shutil.rmtree(self.directory, ignore_errors=True)


def copy_database(source_url: str, target: ScratchCluster, name: str) -> None:
    """``pg_dump`` the database at ``source_url`` and restore it as ``name`` into ``target``."""
    binaries = server_binaries()
    with psycopg.connect(target.url(), autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    dump = subprocess.run(
        [str(binaries / "pg_dump"), "-Fc", "-d", source_url], check=True, capture_output=True, timeout=600
    ).stdout
    subprocess.run(
        [str(binaries / "pg_restore"), "--no-owner", "-d", target.url(name)],
        input=dump, check=True, capture_output=True, timeout=600,
    )  # fmt: skip
