"""A real, throwaway PostgreSQL server for the shared-storage study tests.

The session fixture ``postgres`` finds the server binaries (``initdb``, ``pg_ctl``, ``postgres``) on ``PATH`` or
under ``/usr/lib/postgresql/*/bin`` (highest version), makes a new cluster in a temporary directory with
password authentication (scram-sha-256, a superuser with a random password), starts it on a free TCP port of
127.0.0.1 only, and stops it and removes the directory when the session ends. ``postgres_url`` gives each test a
fresh database of its own on that server.

initdb refuses to run as root, so as root the server commands run as the ``postgres`` system user (which
Debian's ``postgresql`` package creates) through ``runuser``; the cluster then lives in a directory under
/tmp that this user owns, since pytest's own temporary directories are private to root.

A missing server fails the tests that need it, with the install command: ``bash scripts/setup.sh --test``
installs it (as root, with apt-get).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import re
import secrets
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SERVER_PROGRAMS = ("initdb", "pg_ctl", "postgres")
INSTALL_HINT = (
    "install the PostgreSQL server: `bash scripts/setup.sh --test` as root does it "
    "(`apt-get update && apt-get install -y --no-install-recommends postgresql`)"
)
SUPERUSER = "upsamplekit"
# A throwaway cluster: durability off, so that start, writes and stop are fast.
SERVER_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    "shared_buffers": "32MB",
    "log_min_messages": "warning",
}
START_ATTEMPTS = 3  # a new port each time, in case another process took the free port first


def _version_key(path: Path) -> tuple[int, ...]:
    """``/usr/lib/postgresql/15/bin`` -> ``(15,)``: the directories sort by version, not as text."""
    return tuple(int(part) for part in re.findall(r"\d+", path.parent.name)) or (-1,)


def find_server_bin() -> Path | None:
    """The directory holding ``initdb``, ``pg_ctl`` and ``postgres``: ``PATH`` first, then the highest
    ``/usr/lib/postgresql/*/bin``; ``None`` when no directory has all three."""
    found = shutil.which("initdb")
    if found is not None:
        folder = Path(found).resolve().parent
        if all(os.access(folder / name, os.X_OK) for name in SERVER_PROGRAMS):
            return folder
    candidates = [
        folder for folder in Path("/usr/lib/postgresql").glob("*/bin")
        if all(os.access(folder / name, os.X_OK) for name in SERVER_PROGRAMS)
    ]
    return max(candidates, key=_version_key) if candidates else None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PostgresServer:
    """A running PostgreSQL server (``version`` like ``"15.18"``) on ``host:port``, reached as ``user`` with
    ``password``; its cluster is in ``data_dir`` and it logs to ``log_path``."""

    host: str
    port: int
    user: str
    password: str
    version: str
    data_dir: Path
    log_path: Path
    _names: Iterator[int] = field(default_factory=itertools.count, repr=False)

    def url(self, database: str, driver: str | None = None) -> str:
        """The URL of ``database`` on this server: ``postgresql://user:password@127.0.0.1:port/database``, which
        both SQLAlchemy (its default driver) and libpq (``psycopg2.connect``) take; ``driver="psycopg2"`` gives
        SQLAlchemy's ``postgresql+psycopg2://`` form instead."""
        scheme = "postgresql" if driver is None else f"postgresql+{driver}"
        return f"{scheme}://{self.user}:{self.password}@{self.host}:{self.port}/{database}"

    def wrong_password_url(self, database: str) -> str:
        """The URL of ``database`` with a password the server refuses."""
        return f"postgresql://{self.user}:not-{self.password}@{self.host}:{self.port}/{database}"

    def create_database(self, name: str | None = None) -> str:
        """Create a new, empty database (a unique name when ``name`` is None) and return its URL."""
        if name is None:
            name = f"test_{next(self._names)}_{uuid.uuid4().hex[:8]}"
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
            raise ValueError(f"name must be a lower-case SQL identifier of at most 63 characters, got {name!r}")
        psycopg2 = _import_psycopg2()
        connection = psycopg2.connect(self.url("postgres"))
        try:
            connection.autocommit = True  # CREATE DATABASE cannot run inside a transaction
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{name}"')
        finally:
            connection.close()
        return self.url(name)

    def log_tail(self, lines: int = 30) -> str:
        """The last ``lines`` lines of the server log."""
        return _tail(self.log_path, lines)


def _import_psycopg2():  # noqa: ANN202 - the module
    try:
        import psycopg2
    except ImportError:
        pytest.fail("the PostgreSQL tests need psycopg2: `.venv/bin/python -m pip install -e '.[test]'` "
                    "(or `bash scripts/setup.sh --test`)", pytrace=False)
    return psycopg2


def _tail(path: Path, lines: int) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError as error:
        return f"(no server log: {error})"


class _Cluster:
    """Runs the server programs of ``bin_dir`` on a cluster in ``base`` (as ``postgres`` when we are root)."""

    def __init__(self, bin_dir: Path, base: Path) -> None:
        self.bin_dir = bin_dir
        self.base = base
        self.data_dir = base / "data"
        self.socket_dir = base / "socket"
        self.log_path = base / "server.log"
        self.as_root = os.geteuid() == 0
        self.env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
        self.env.update(LC_ALL="C", LANG="C")

    def command(self, program: str, *args: str) -> list[str]:
        argv = [str(self.bin_dir / program), *args]
        if not self.as_root:
            return argv
        if shutil.which("runuser"):
            return ["runuser", "-u", "postgres", "--", *argv]
        return ["su", "postgres", "-s", "/bin/sh", "-c", shlex.join(argv)]

    def run(self, program: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run ``program``; a failure fails the test session with its output and the server log."""
        argv = self.command(program, *args)
        result = subprocess.run(argv, cwd=self.base, env=self.env, capture_output=True, text=True,
                                timeout=timeout, check=False)
        if result.returncode != 0:
            raise RuntimeError(
                f"`{shlex.join(argv)}` exited with status {result.returncode}:\n{result.stdout}{result.stderr}"
                f"\n--- server log ({self.log_path}), last lines ---\n{_tail(self.log_path, 30)}"
            )
        return result

    def prepare(self) -> None:
        """Own the directory as the server's user, with a password file and a socket directory inside."""
        self.socket_dir.mkdir()
        (self.base / "pwfile").write_text(secrets.token_hex(16) + "\n")
        if self.as_root:
            try:
                account = pwd.getpwnam("postgres")
            except KeyError:
                pytest.fail("running as root, the PostgreSQL tests need the `postgres` system user to own the "
                            f"server (initdb refuses root): {INSTALL_HINT}", pytrace=False)
            for path in (self.base, self.socket_dir, self.base / "pwfile"):
                os.chown(path, account.pw_uid, account.pw_gid)
        (self.base / "pwfile").chmod(0o600)

    @property
    def password(self) -> str:
        return (self.base / "pwfile").read_text().strip()

    def init(self) -> None:
        self.run("initdb", "--pgdata", str(self.data_dir), "--username", SUPERUSER,
                 "--pwfile", str(self.base / "pwfile"), "--auth", "scram-sha-256",
                 "--encoding", "UTF8", "--locale", "C", "--no-sync")
        settings = {**SERVER_SETTINGS, "unix_socket_directories": f"'{self.socket_dir}'"}
        with open(self.data_dir / "postgresql.conf", "a") as conf:
            conf.write("\n# upsamplekit tests\n" + "".join(f"{key} = {value}\n" for key, value in settings.items()))

    def start(self, port: int) -> None:
        self.run("pg_ctl", "start", "--pgdata", str(self.data_dir), "--log", str(self.log_path),
                 "--wait", "--timeout", "60", "-o", f"-p {port}")

    def stop(self) -> None:
        if (self.data_dir / "postmaster.pid").exists():
            self.run("pg_ctl", "stop", "--pgdata", str(self.data_dir), "--mode", "immediate", "--wait",
                     "--timeout", "60")

    def cleanup(self) -> None:
        """Stop the server if it runs, and delete the cluster directory."""
        try:
            self.stop()
        finally:
            shutil.rmtree(self.base, ignore_errors=True)


@contextlib.contextmanager
def running_server() -> Iterator[PostgresServer]:
    """A fresh cluster on a free port of 127.0.0.1, password authentication only, stopped and deleted on
    exit; RuntimeError (with the server log) when it cannot start. Also used by benchmarks/bench_distributed.py."""
    bin_dir = find_server_bin()
    if bin_dir is None:
        raise RuntimeError("the PostgreSQL tests need the server programs initdb, pg_ctl and postgres, found neither "
                           f"on PATH nor under /usr/lib/postgresql/*/bin: {INSTALL_HINT}")
    # Not pytest's tmp_path_factory: its directories are private to the user running pytest, and as root the
    # server runs as `postgres`, which must reach the cluster directory.
    base = Path(tempfile.mkdtemp(prefix="upsamplekit-postgres-"))
    cluster = _Cluster(bin_dir, base)
    try:
        cluster.prepare()
        cluster.init()
        for attempt in range(1, START_ATTEMPTS + 1):
            port = free_port()
            logged = cluster.log_path.stat().st_size if cluster.log_path.exists() else 0
            try:
                cluster.start(port)
                break
            except RuntimeError:
                taken = False
                if cluster.log_path.exists():
                    with open(cluster.log_path, "rb") as log:
                        log.seek(logged)
                        taken = b"could not bind" in log.read()
                if attempt == START_ATTEMPTS or not taken:
                    raise
                time.sleep(0.1)
        # "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)" -> "15.18"
        version = re.search(r"\d+(?:\.\d+)*", cluster.run("postgres", "--version").stdout).group()
        yield PostgresServer(host="127.0.0.1", port=port, user=SUPERUSER, password=cluster.password,
                             version=version, data_dir=cluster.data_dir, log_path=cluster.log_path)
    finally:
        cluster.cleanup()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL server for this test session (:func:`running_server`). Fails (does not skip) when no
    server is installed or it cannot start."""
    with contextlib.ExitStack() as stack:
        try:
            server = stack.enter_context(running_server())
        except RuntimeError as error:
            pytest.fail(f"could not start the PostgreSQL test server: {error}", pytrace=False)
        yield server


@pytest.fixture
def postgres_url(postgres: PostgresServer) -> str:
    """The URL of a new, empty database on the session's PostgreSQL server, one per test."""
    return postgres.create_database()
