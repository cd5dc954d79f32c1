"""Agora as production runs it, on one machine: two app nodes behind nginx, a PostgreSQL
primary and its streaming replica, Redis and two RQ workers, all on loopback ports.

    python deploy/local-cluster/cluster.py start [--dir DIR] [--base-port 18300]
    python deploy/local-cluster/cluster.py status [--dir DIR]
    python deploy/local-cluster/cluster.py stop [--dir DIR]

Everything lives in DIR (data directories, configuration, logs, ``cluster.json`` with the
ports and process ids): ``stop`` ends every process and removes DIR. Ports, from the base:
+0 PostgreSQL primary, +1 its replica, +2 Redis, +3 and +4 the two gunicorn nodes, +5
nginx. The communes of ``tenants/`` are onboarded: http://poitiers.localhost:<nginx port>/.
The tests in tests/cluster/ use :class:`Cluster` from Python (one stack per test session).

Run as root, PostgreSQL's programs run as the ``postgres`` user (initdb refuses root).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.client
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = next(
    (
        Path(p)
        for p in (os.environ.get("AGORA_PG_BIN", ""), "/usr/lib/postgresql/15/bin")
        if p and (Path(p) / "initdb").exists()
    ),
    Path("/usr/local/bin"),
)
NGINX = os.environ.get("AGORA_NGINX", "/usr/sbin/nginx")
REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"
PYTHON = sys.executable
DATABASE, OWNER, APP = "agora", "agora_owner", "agora_app"
SECRET = "local-cluster-secret"  # shared by both nodes: a session opened on one works on the other
DEFAULT_DIR = Path(tempfile.gettempdir()) / "agora-local-cluster"


@dataclass
class Cluster:
    """The stack's layout; :meth:`start` fills ``pids`` (name → process id)."""

    dir: Path
    base_port: int = 18300
    pids: dict[str, int] = field(default_factory=dict)
    start_seconds: float = 0.0
    #: The processes this Python process started (reaped when they end); a cluster loaded
    #: from ``cluster.json`` by another command has only their ids.
    children: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict, repr=False)

    # Ports ------------------------------------------------------------------------------
    @property
    def primary_port(self) -> int:
        return self.base_port

    @property
    def replica_port(self) -> int:
        return self.base_port + 1

    @property
    def redis_port(self) -> int:
        return self.base_port + 2

    @property
    def web_ports(self) -> tuple[int, int]:
        return self.base_port + 3, self.base_port + 4

    @property
    def nginx_port(self) -> int:
        return self.base_port + 5

    # Addresses --------------------------------------------------------------------------
    def database_url(self, role: str = APP, port: int | None = None) -> str:
        return f"postgresql+psycopg://{role}@127.0.0.1:{port or self.primary_port}/{DATABASE}"

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    @property
    def upload_dir(self) -> Path:
        return self.dir / "uploads"

    def app_environment(self) -> dict[str, str]:
        """What the nodes and workers run with (also what a test's own app needs)."""
        return {
            "AGORA_DATABASE_URL": self.database_url(),
            "AGORA_DATABASE_REPLICA_URL": self.database_url(port=self.replica_port),
            "AGORA_REDIS_URL": self.redis_url,
            "AGORA_SECRET_KEY": SECRET,
            "AGORA_BASE_DOMAIN": "localhost",
            "AGORA_PUBLIC_PORT": str(self.nginx_port),
            "AGORA_APP_ROLE": APP,
            "AGORA_INSTANCE_PATH": str(self.dir / "instance"),
            "AGORA_UPLOAD_DIR": str(self.upload_dir),
            "AGORA_DRAND_BEACONS": str(
                ROOT / "platform/agora/draws/data/recorded_beacons.json"
            ),  # no network needed
            "AGORA_TENANT_CACHE_SECONDS": "10",
        }

    # Life cycle -------------------------------------------------------------------------
    def start(self) -> None:
        started = time.monotonic()
        self.dir.mkdir(parents=True, exist_ok=True)
        self.dir.chmod(0o755)  # PostgreSQL's user and nginx's workers read below it
        (self.dir / "logs").mkdir(exist_ok=True)
        self.upload_dir.mkdir(exist_ok=True)
        try:
            self._start_primary()
            self._create_roles()
            # The app's processes import the application (seconds of CPU each) while the
            # replica is copied and the schema migrated; they read the schema lazily.
            self.start_redis()
            for number, port in enumerate(self.web_ports, start=1):
                self.start_web(number, port)
            for number in (1, 2):
                self.start_worker(number)
            self._start_nginx()
            self._start_replica()
            self._prepare_database()
            for port in self.web_ports:
                _wait(functools.partial(_healthy, port), f"gunicorn on {port}")
            _wait(lambda: _healthy(self.nginx_port), "nginx")
        except BaseException:
            self.stop()
            raise
        self.start_seconds = time.monotonic() - started
        self._save()

    def stop(self) -> None:
        """End every process of the stack and remove its directory."""
        names = sorted(self.pids, key=_stop_order)
        for name in names:
            # gunicorn's quick shutdown (SIGINT): nginx, stopped first, holds no request.
            self._signal(name, signal.SIGINT if name.startswith("web") else signal.SIGTERM)
        deadline = time.monotonic() + 10
        for name in names:
            self._reap(name, deadline)
        for data in ("replica", "primary"):
            if (self.dir / data / "postmaster.pid").exists():
                self._postgres(["pg_ctl", "stop", "-D", str(self.dir / data), "-m", "immediate"])
        shutil.rmtree(self.dir, ignore_errors=True)

    def status(self) -> dict[str, bool]:
        """Whether each process runs (and PostgreSQL's two clusters answer)."""
        found = {name: _alive(pid) for name, pid in self.pids.items()}
        for data in ("primary", "replica"):
            found[data] = (
                self._postgres(["pg_ctl", "status", "-D", str(self.dir / data)], check=False) == 0
            )
        return found

    # Pieces a fault test stops and starts again -----------------------------------------
    def start_web(self, number: int, port: int) -> None:
        self._spawn(
            f"web{number}",
            [
                PYTHON,
                "-m",
                "gunicorn",
                "-c",
                str(ROOT / "deploy/gunicorn.conf.py"),
                "--bind",
                f"127.0.0.1:{port}",
                "--access-logfile",
                "/dev/null",
            ],
            # Two nodes share two cores: two workers each, not 2 × cores + 1. Each node's
            # metrics are its own (gunicorn's multiprocess mode, summed per node).
            {
                "WEB_CONCURRENCY": "2",
                "PROMETHEUS_MULTIPROC_DIR": str(self.dir / f"metrics-web{number}"),
            },
        )

    def start_worker(self, number: int) -> None:
        # Started again a second after it ends, as systemd does (agora-worker.service:
        # Restart=always): an RQ worker exits when Redis goes away, or may be killed.
        loop = 'while :; do "$0" -m flask --app agora jobs worker; sleep 1; done'
        self._spawn(f"worker{number}", ["sh", "-c", loop, PYTHON])

    def restart_primary(self) -> None:
        """A fast shutdown and a start: what an operator's restart (or a failover) does."""
        self._postgres(["pg_ctl", "restart", "-D", str(self.dir / "primary"), "-m", "fast", "-w"])

    def stop_process(self, name: str, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
        """End one process and everything it started (its process group)."""
        self._signal(name, sig)
        self._reap(name, time.monotonic() + timeout)

    def _signal(self, name: str, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pids[name], sig)

    def _reap(self, name: str, deadline: float) -> None:
        pid = self.pids.pop(name)
        child = self.children.pop(name, None)
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        # Whatever is left of the group (a worker its loop started) goes too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        while _alive(pid):
            time.sleep(0.05)
        if child is not None:
            child.wait()
        self._save()

    def start_redis(self) -> None:
        # Append-only: jobs queued before a Redis restart are still there after it.
        self._spawn(
            "redis",
            [
                REDIS,
                "--port",
                str(self.redis_port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.dir),
                "--save",
                "",
                "--appendonly",
                "yes",
            ],
        )
        _wait(functools.partial(_redis_answers, self.redis_port), "redis")

    # Internals --------------------------------------------------------------------------
    def _postgres(self, command: Sequence[str], check: bool = True) -> int:
        """Run one of PostgreSQL's programs, as the ``postgres`` user when we are root."""
        argv = [str(PG_BIN / command[0]), *command[1:]]
        as_postgres = os.geteuid() == 0
        result = subprocess.run(
            argv,
            user="postgres" if as_postgres else None,
            cwd=self.dir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            # pg_ctl's postgres must not be in our process group: a test's ^C stops it via stop().
            start_new_session=True,
            check=False,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"{' '.join(command[:2])}: {result.stderr.decode()[-2000:]}")
        return result.returncode

    def _own(self, path: Path) -> None:
        path.mkdir(exist_ok=True)
        if os.geteuid() == 0:
            postgres = pwd.getpwnam("postgres")
            os.chown(path, postgres.pw_uid, postgres.pw_gid)

    def _pg_ctl_start(self, data: str, port: int) -> None:
        sockets = self.dir / "sockets"
        self._own(sockets)
        options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1"
        log = self.dir / "logs" / f"{data}.log"
        if os.geteuid() == 0:
            log.touch()
            shutil.chown(log, "postgres")
        try:
            self._postgres(
                ["pg_ctl", "start", "-w", "-D", str(self.dir / data), "-o", options, "-l", str(log)]
            )
        except RuntimeError as error:
            raise RuntimeError(f"{error}\n{log.read_text()[-2000:]}") from None

    def _start_primary(self) -> None:
        data = self.dir / "primary"
        self._own(data)
        self._postgres(
            [
                "initdb",
                "-D",
                str(data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ]
        )
        with (data / "postgresql.conf").open("a") as conf:
            conf.write(
                "\n# Agora's local cluster\nwal_level = replica\nmax_wal_senders = 4\n"
                "max_connections = 100\nshared_buffers = 64MB\n"
                # The faults tested are processes' (a restart, a kill), which the kernel's
                # page cache survives: no flush to disk, on a disk other helpers share.
                "fsync = off\n"
            )
        self._pg_ctl_start("primary", self.primary_port)

    def _create_roles(self) -> None:
        # As deploy/postgres/init.sql (without passwords: loopback, trust); each -c is a
        # transaction of its own, as CREATE DATABASE needs.
        self._postgres(
            [
                "psql",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.primary_port),
                "-U",
                "postgres",
                "-v",
                "ON_ERROR_STOP=1",
                "-q",
                "-c",
                f"CREATE ROLE {OWNER} LOGIN NOSUPERUSER NOBYPASSRLS",
                "-c",
                f"CREATE ROLE {APP} LOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT",
                "-c",
                f"CREATE DATABASE {DATABASE} OWNER {OWNER} ENCODING 'UTF8' TEMPLATE template0",
                "-c",
                f"REVOKE ALL ON DATABASE {DATABASE} FROM PUBLIC",
                "-c",
                f"GRANT CONNECT ON DATABASE {DATABASE} TO {APP}",
            ]
        )

    def _start_replica(self) -> None:
        data = self.dir / "replica"
        self._own(data)
        data.chmod(0o700)
        self._postgres(
            [
                "pg_basebackup",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.primary_port),
                "-U",
                "postgres",
                "-D",
                str(data),
                "-R",
                "-X",
                "stream",
                "--checkpoint=fast",
                "--no-sync",
            ]
        )
        self._pg_ctl_start("replica", self.replica_port)

    def _environment(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {**os.environ, **self.app_environment(), **(extra or {})}

    def _prepare_database(self) -> None:
        result = subprocess.run(
            [
                PYTHON,
                str(Path(__file__).with_name("prepare_database.py")),
                self.database_url(OWNER),
                self.database_url(),
                str(ROOT / "tenants"),
            ],
            env=self._environment(),
            cwd=self.dir,
            capture_output=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"preparing the database: {result.stderr.decode()[-2000:]}")

    def _spawn(self, name: str, argv: list[str], extra: dict[str, str] | None = None) -> None:
        log = (self.dir / "logs" / f"{name}.log").open("ab")
        process = subprocess.Popen(
            argv,
            env=self._environment(extra),
            cwd=self.dir,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            # A group of its own: gunicorn's master and workers end together, and the stack
            # outlives the command line that started it.
            start_new_session=True,
        )
        log.close()
        self.pids[name] = process.pid
        self.children[name] = process
        self._save()

    def _start_nginx(self) -> None:
        if not Path(NGINX).exists():
            raise RuntimeError(
                f"nginx is not installed at {NGINX}: run 'make install' as root, or "
                "'sudo apt-get install nginx' (Debian, Ubuntu), or set AGORA_NGINX"
            )
        conf = self.dir / "nginx"
        conf.mkdir(exist_ok=True)
        locations = (ROOT / "deploy/nginx/agora-locations.conf").read_text()
        static = ROOT / "platform/agora/web/static"
        (conf / "agora-locations.conf").write_text(
            locations.replace("/srv/agora/static/", f"{static}/")
        )
        servers = "\n".join(
            # A node that refuses connections is left aside for 5 s; requests go to the other.
            f"    server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;"
            for port in self.web_ports
        )
        (conf / "nginx.conf").write_text(
            NGINX_CONF.format(dir=self.dir, servers=servers, port=self.nginx_port, locations=conf)
        )
        self._spawn("nginx", [NGINX, "-p", str(conf), "-c", str(conf / "nginx.conf")])

    def _save(self) -> None:
        if self.dir.exists():
            state = {
                "dir": str(self.dir),
                "base_port": self.base_port,
                "pids": self.pids,
                "start_seconds": self.start_seconds,
            }
            (self.dir / "cluster.json").write_text(json.dumps(state, indent=2))

    @classmethod
    def load(cls, directory: Path) -> Cluster:
        state = json.loads((directory / "cluster.json").read_text())
        state["dir"] = Path(state["dir"])
        return cls(**state)


# The shape of deploy/nginx/agora.conf, on plain HTTP and one loopback port; the locations
# are deploy/nginx/agora-locations.conf's, with the static files read from the source tree.
NGINX_CONF = """\
daemon off;
worker_processes 1;
pid {locations}/nginx.pid;
error_log {dir}/logs/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    access_log {dir}/logs/nginx-access.log;
    client_body_temp_path {locations}/body;
    proxy_temp_path {locations}/proxy;
    fastcgi_temp_path {locations}/fastcgi;
    uwsgi_temp_path {locations}/uwsgi;
    scgi_temp_path {locations}/scgi;
    upstream agora_web {{
{servers}
        keepalive 16;
    }}
    server {{
        listen 127.0.0.1:{port};
        server_name localhost ~^(?<commune>[a-z0-9-]+)\\.localhost$;
        include {locations}/agora-locations.conf;
    }}
}}
"""


def _stop_order(name: str) -> int:
    # The edge first, the data last.
    return ["nginx", "web", "worker", "redis"].index(name.rstrip("0123456789"))


def _alive(pid: int) -> bool:
    # An ended child stays a zombie until reaped (by ``stop_process``, or by init for a
    # stack started by another command).
    return _state(pid) not in ("Z", "X")


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


def _healthy(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/healthz", headers={"Host": "localhost"})
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def _redis_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _wait(check: Callable[[], bool], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start within {seconds:.0f} s")
        time.sleep(0.1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("start", "stop", "status"))
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--base-port", type=int, default=18300)
    args = parser.parse_args(argv)
    if args.command == "start":
        if (args.dir / "cluster.json").exists():
            print(f"A cluster already runs from {args.dir}: stop it first.", file=sys.stderr)
            return 1
        cluster = Cluster(args.dir, args.base_port)
        cluster.start()
        print(f"Started in {cluster.start_seconds:.1f} s, from {cluster.dir}:")
        print(f"  nginx        http://poitiers.localhost:{cluster.nginx_port}/")
        print(f"  app nodes    127.0.0.1:{cluster.web_ports[0]}, 127.0.0.1:{cluster.web_ports[1]}")
        print(f"  primary      {cluster.database_url()}")
        print(f"  replica      {cluster.database_url(port=cluster.replica_port)}")
        print(f"  redis        {cluster.redis_url}, two RQ workers; logs in {cluster.dir}/logs")
        return 0
    if not (args.dir / "cluster.json").exists():
        print(f"No cluster runs from {args.dir}.", file=sys.stderr)
        return 1
    cluster = Cluster.load(args.dir)
    if args.command == "stop":
        cluster.stop()
        print("Stopped; nothing left running.")
        return 0
    states = cluster.status()
    for name, running in states.items():
        print(f"  {name:<10} {'running' if running else 'STOPPED'}")
    return 0 if all(states.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
