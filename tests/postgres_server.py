"""A private PostgreSQL server for the tests: initdb + pg_ctl in a temporary folder.

It listens on 127.0.0.1 and a free port (and a unix socket in its own folder), trusts
local connections, and is stopped and deleted at the end. As root, the server runs as the
``postgres`` user (PostgreSQL refuses to run as root). Debian's ``postgresql`` package puts
the programs in /usr/lib/postgresql/<version>/bin (`make system-packages` installs it).
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

USER = "descentlab"
MISSING = (
    "\n" + "!" * 78 + "\n"
    "!! POSTGRESQL GRADEBOOK TESTS SKIPPED: {why}.\n"
    "!! Install Debian's postgresql (as root: apt-get install -y postgresql; `make test`\n"
    "!! does it) and psycopg (pip install -e '.[test]' or '.[postgres]').\n"
    + "!" * 78
)


def find_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def unavailable() -> str | None:
    """Why no test server can start here, or None."""
    for program in ("initdb", "pg_ctl"):
        if not find_bin(program):
            return f"{program} not found (on PATH or in /usr/lib/postgresql/*/bin)"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "the psycopg driver is not installed"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' user to run the server as"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_server_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextmanager
def postgres_server() -> Iterator[str]:
    """Start a server; yields the URL of an empty database ``gradebook`` on it."""
    # Not under pytest's tmp_path: its parents are 0700 root, which the postgres user cannot enter.
    base = Path(tempfile.mkdtemp(prefix="descentlab-pg-"))
    data, sockets, log = base / "data", base / "socket", base / "server.log"
    sockets.mkdir()
    if os.geteuid() == 0:
        entry = pwd.getpwnam("postgres")
        for path in (base, sockets):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    port = _free_port()
    pg_ctl = find_bin("pg_ctl")
    try:
        subprocess.run(_as_server_user([find_bin("initdb"), "-D", str(data), "-U", USER, "-A", "trust",
                                        "--no-sync", "-E", "UTF8"]),
                       check=True, capture_output=True, text=True)
        options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(_as_server_user([pg_ctl, "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "120", "start"]),
                       check=True, capture_output=True, text=True)
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=port, user=USER, dbname="postgres", autocommit=True) as connection:
            connection.execute("CREATE DATABASE gradebook")
        yield f"postgresql://{USER}@127.0.0.1:{port}/gradebook"
    except subprocess.CalledProcessError as exc:
        text = log.read_text() if log.is_file() else ""
        raise RuntimeError(f"the test PostgreSQL server did not start: {exc.stderr}\n{text[-2000:]}") from None
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(_as_server_user([pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"]),
                           capture_output=True)
        shutil.rmtree(base, ignore_errors=True)
