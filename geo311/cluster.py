"""A private PostgreSQL + PostGIS cluster inside the project (or a temp dir for tests).

The cluster listens on a unix socket only, so it never collides with a system PostgreSQL
and needs no password. PostgreSQL refuses to run as root, so when we are root the data
directory is owned by, and the server runs as, the Debian ``postgres`` user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "PG_BIN",
    "INSTALL_COMMAND",
    "Cluster",
    "ClusterError",
    "postgis_missing",
    "ensure_postgis_installed",
]

PG_BIN = Path(os.environ.get("GEO311_PG_BIN", "/usr/lib/postgresql/15/bin"))
POSTGIS_CONTROL = Path("/usr/share/postgresql/15/extension/postgis.control")
INSTALL_COMMAND = "apt-get update && apt-get install -y postgresql-15-postgis-3"
_SERVICE_USER = "postgres"


class ClusterError(RuntimeError):
    """The cluster could not be created, started or stopped; the message says what to do."""


def postgis_missing() -> list[str]:
    """List what is missing for a private PostGIS cluster.

    :returns: human-readable missing parts; empty when everything is installed.
    """
    missing = []
    if not (PG_BIN / "initdb").exists():
        missing.append(f"PostgreSQL 15 server ({PG_BIN}/initdb)")
    if not POSTGIS_CONTROL.exists():
        missing.append(f"PostGIS 3 for PostgreSQL 15 ({POSTGIS_CONTROL})")
    return missing


def ensure_postgis_installed(echo=print) -> None:
    """Install Debian ``postgresql-15-postgis-3`` when it is missing and we are root.

    :param echo: where progress lines go.
    :raises ClusterError: when it is missing and cannot be installed here (prints the command).
    """
    missing = postgis_missing()
    if not missing:
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise ClusterError(
            "Missing: " + "; ".join(missing) + f". Install it with:\n  sudo sh -c '{INSTALL_COMMAND}'"
        )
    echo(f"Installing PostgreSQL 15 + PostGIS 3: {INSTALL_COMMAND}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "postgresql-15-postgis-3"], check=True, env=env
    )
    # Debian's package creates and starts a system cluster on 5432; we never use it.
    if postgis_missing():
        raise ClusterError("apt-get finished but PostGIS is still missing: " + "; ".join(missing))


@dataclass(frozen=True)
class Cluster:
    """One PostgreSQL data directory with its unix-socket directory and port number.

    :param root: folder that holds ``pgdata/``, ``run/`` (the socket) and ``postgres.log``.
    :param port: the port number, which also names the socket file.
    :param fast: turn off fsync and friends (throwaway test clusters only).
    """

    root: Path
    port: int
    fast: bool = False

    @property
    def datadir(self) -> Path:
        """The PGDATA directory."""
        return self.root / "pgdata"

    @property
    def socket_dir(self) -> Path:
        """Where the server puts its unix socket."""
        return self.root / "run"

    @property
    def logfile(self) -> Path:
        """The server log."""
        return self.root / "postgres.log"

    def url(self, database: str) -> str:
        """SQLAlchemy URL for ``database`` in this cluster (superuser over the socket).

        :param database: database name.
        :returns: a ``postgresql+psycopg`` URL.
        """
        return (
            f"postgresql+psycopg://{self._user()}@/{database}"
            f"?host={self.socket_dir}&port={self.port}"
        )

    def is_initialised(self) -> bool:
        """Whether ``initdb`` has run here."""
        return (self.datadir / "PG_VERSION").exists()

    def is_running(self) -> bool:
        """Whether the server answers ``pg_ctl status``."""
        if not self.is_initialised():
            return False
        result = self._pg("pg_ctl", "status", "-D", str(self.datadir), check=False)
        return result.returncode == 0

    def init(self) -> bool:
        """Create the cluster if it does not exist.

        :returns: True when a new cluster was created.
        """
        if self.is_initialised():
            return False
        self.root.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        self.datadir.mkdir(parents=True, exist_ok=True)
        self._hand_over(self.root, self.socket_dir, self.datadir)
        self._pg(
            "initdb", "-D", str(self.datadir), "-U", self._user(), "--auth=trust",
            "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync",
        )
        settings = {
            "listen_addresses": "''",
            "unix_socket_directories": f"'{self.socket_dir}'",
            "port": str(self.port),
            "max_connections": "100",
            "shared_buffers": "256MB",
            "work_mem": "32MB",
            "maintenance_work_mem": "256MB",
            "timezone": "'UTC'",
        }
        if self.fast:
            settings.update(fsync="off", synchronous_commit="off", full_page_writes="off")
        with open(self.datadir / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write("\n# geo311\n")
            for key, value in settings.items():
                conf.write(f"{key} = {value}\n")
        return True

    def start(self, timeout_s: float = 60.0) -> bool:
        """Start the server (initialising first when needed) and wait until it accepts connections.

        :returns: True when it was started now, False when it was already running.
        :raises ClusterError: when it does not come up; the log tail is in the message.
        """
        self.init()
        if self.is_running():
            return False
        self.logfile.touch()
        self._hand_over(self.logfile)
        result = self._pg(
            "pg_ctl", "start", "-D", str(self.datadir), "-l", str(self.logfile), "-w",
            "-t", str(int(timeout_s)), check=False,
        )
        if result.returncode != 0:
            tail = self.logfile.read_text(errors="replace")[-2000:]
            raise ClusterError(f"PostgreSQL did not start ({self.datadir}):\n{tail}")
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._pg("pg_isready", "-h", str(self.socket_dir), "-p", str(self.port),
                        check=False).returncode == 0:
                return True
            time.sleep(0.2)
        raise ClusterError(f"PostgreSQL started but is not ready after {timeout_s}s")

    def stop(self, mode: str = "fast") -> bool:
        """Stop the server.

        :param mode: ``smart``, ``fast`` or ``immediate``.
        :returns: True when a running server was stopped.
        """
        if not self.is_running():
            return False
        self._pg("pg_ctl", "stop", "-D", str(self.datadir), "-m", mode, "-w")
        return True

    def create_database(self, name: str) -> bool:
        """Create database ``name`` with PostGIS and pg_trgm when it does not exist.

        :returns: True when it was created now.
        """
        import psycopg

        with psycopg.connect(
            host=str(self.socket_dir), port=self.port, user=self._user(), dbname="postgres",
            autocommit=True,
        ) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')
        with psycopg.connect(
            host=str(self.socket_dir), port=self.port, user=self._user(), dbname=name,
            autocommit=True,
        ) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        return not exists

    def drop_database(self, name: str) -> None:
        """Drop database ``name`` if it exists (closing its connections)."""
        import psycopg

        with psycopg.connect(
            host=str(self.socket_dir), port=self.port, user=self._user(), dbname="postgres",
            autocommit=True,
        ) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _user(self) -> str:
        return _SERVICE_USER if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name

    def _hand_over(self, *paths: Path) -> None:
        """Give paths to the service user when we are root (PostgreSQL will not run as root)."""
        if os.geteuid() != 0:
            return
        entry = pwd.getpwnam(_SERVICE_USER)
        for path in paths:
            os.chown(path, entry.pw_uid, entry.pw_gid)
        # The service user must be able to reach the cluster through every parent folder.
        for parent in self.root.resolve().parents:
            mode = parent.stat().st_mode
            if not mode & 0o001:
                os.chmod(parent, mode | 0o001)

    def _pg(self, program: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(PG_BIN / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", _SERVICE_USER, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, cwd="/")
        if check and result.returncode != 0:
            raise ClusterError(f"{program} failed: {result.stderr.strip() or result.stdout.strip()}")
        return result
