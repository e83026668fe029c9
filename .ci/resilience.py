#!/usr/bin/env python3
"""Resilience suite (DESIGN §6): the real services against a private PostgreSQL cluster that is
restarted, crashed and starved while clients write, a service stopped with SIGTERM under load, and
the receiver of the register's events stopped for a while.

Usage: resilience.py BINARY [--only a-fast,a-crash,b,c,d,e] [--output FIGURES.json]

BINARY is the praktijkregister executable. The script creates its own PostgreSQL cluster (initdb,
as an unprivileged user when run as root) on a free port in a scratch directory and never touches
any other server. It runs the register, visitation and insurer-export services as three processes
(`serve register`, `serve visitation`, `serve insurer_export`) so that one can be stopped alone.

Scenarios (each prints its figures; any lost write or event, 500, hang or service that does not
recover makes the exit status 1):

  a-fast   PostgreSQL restarted with `pg_ctl restart -m fast` while clients register practices
           and deliver months under an Idempotency-Key, retrying a 503 with the same key.
  a-crash  PostgreSQL stopped with `pg_ctl stop -m immediate` (a crash: no shutdown checkpoint,
           clients cut off) and started again after PRR_RESILIENCE_OUTAGE_SECONDS.
           Both: every acknowledged (2xx) write is in the database afterwards; every failure is a
           503 problem+json with Retry-After within the request timeout; each key is one stored
           version; every service answers /health/ready again by itself.
  b        SIGTERM to the register while changes wait on a row lock (in flight for certain) and
           clients keep writing: every request in flight completes, the process exits within
           DRAIN_SECONDS, its outbox relay flushes the events; after the next start every event is
           applied exactly once by the insurer-export service.
  c        The insurer-export service (the receiver of the register's events) is down for
           PRR_RESILIENCE_RECEIVER_DOWN_SECONDS while practices are registered and changed: after
           it is back every event is applied exactly once and its view equals the register's.
           An insurer's webhook endpoint (served here) is down too, until the export has tried
           it: then every change reaches it, one delivery each.
  d        A small pool (PRR_RESILIENCE_POOL_SIZE connections, PRR_RESILIENCE_POOL_TIMEOUT_MS wait)
           with every connection waiting on a table lock held by another session: new requests get
           503 problem+json with Retry-After within the wait, no hang; after the lock is released,
           2xx again.
  e        SIGTERM to `serve all` (the three services in one process) under load: in-flight
           requests complete, exit within DRAIN_SECONDS, every event applied once after a restart.

Environment (CI defaults in brackets):
  PRR_RESILIENCE_CLIENTS                concurrent writers [4]
  PRR_RESILIENCE_DELIVERY_WRITERS       writers of idempotent deliveries in a-fast, a-crash [2]
  PRR_RESILIENCE_WARMUP_SECONDS         load before each disturbance [2]
  PRR_RESILIENCE_OUTAGE_SECONDS         PostgreSQL down in a-crash [3]
  PRR_RESILIENCE_RECEIVER_DOWN_SECONDS  receiver down in c [30]; try 300 for five minutes
  PRR_RESILIENCE_EVENT_RATE             writes per second while the receiver is down [10]
  PRR_RESILIENCE_OUTBOX_BACKOFF_MAX_MS  backoff ceiling of the outbox and webhook relays [5000]
  PRR_RESILIENCE_POOL_SIZE              pool of the register in d [3]
  PRR_RESILIENCE_POOL_TIMEOUT_MS        its wait for a connection [1000]
  PRR_RESILIENCE_REQUEST_TIMEOUT        client timeout: no answer by then is a hang [15]
  PRR_RESILIENCE_READY_TIMEOUT          seconds a service may take to be ready [60]
  PRR_RESILIENCE_KEEP                   1: keep the scratch directory (logs, cluster)
Standard library only.
"""

from __future__ import annotations

import argparse
import http.client
import http.server
import itertools
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PROBLEM_JSON = "application/problem+json"
SCENARIOS = ["a-fast", "a-crash", "b", "c", "d", "e"]


def env_number(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        sys.exit(f"error: {name} must be a number, not {raw!r}")
    if value < 0:
        sys.exit(f"error: {name} must not be negative")
    return value


CLIENTS = int(env_number("PRR_RESILIENCE_CLIENTS", 4)) or 1
DELIVERY_WRITERS = int(env_number("PRR_RESILIENCE_DELIVERY_WRITERS", 2))
WARMUP = env_number("PRR_RESILIENCE_WARMUP_SECONDS", 2)
OUTAGE = env_number("PRR_RESILIENCE_OUTAGE_SECONDS", 3)
RECEIVER_DOWN = env_number("PRR_RESILIENCE_RECEIVER_DOWN_SECONDS", 30)
EVENT_RATE = env_number("PRR_RESILIENCE_EVENT_RATE", 10) or 1
BACKOFF_MAX_MS = int(env_number("PRR_RESILIENCE_OUTBOX_BACKOFF_MAX_MS", 5000)) or 1000
# A month that has begun, in which the writers' therapists work.
DELIVERY_MONTH = f"{time.gmtime().tm_year - 1}-06"
# The insurer whose webhook endpoint is down in scenario c.
WEBHOOK_UZOVI = "3311"
# The register's outbox flush at shutdown, bounded in time (its default).
FLUSH_TIMEOUT_MS = 10000
POOL_SIZE = int(env_number("PRR_RESILIENCE_POOL_SIZE", 3)) or 1
POOL_TIMEOUT_MS = int(env_number("PRR_RESILIENCE_POOL_TIMEOUT_MS", 1000)) or 1
REQUEST_TIMEOUT = env_number("PRR_RESILIENCE_REQUEST_TIMEOUT", 15) or 1
READY_TIMEOUT = env_number("PRR_RESILIENCE_READY_TIMEOUT", 60) or 1
KEEP = os.environ.get("PRR_RESILIENCE_KEEP", "") not in ("", "0")


def drain_seconds() -> int:
    """The platform's drain time, read from its source so that the check follows it."""
    source = (REPO / "shared/platform/src/service.rs").read_text(encoding="utf-8")
    found = re.search(r"pub const DRAIN_SECONDS: u64 = (\d+);", source)
    if not found:
        sys.exit("error: DRAIN_SECONDS not found in shared/platform/src/service.rs")
    return int(found.group(1))


def log(message: str) -> None:
    print(f"    {message}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ----------------------------------------------------------------------------------------------
# HTTP


@dataclass
class Answer:
    """One request's outcome: a status, or `error` (a timeout is a hang)."""

    started: float
    finished: float
    status: int = 0
    content_type: str = ""
    retry_after: str | None = None
    headers: dict = field(default_factory=dict)
    body: bytes = b""
    error: str | None = None
    timed_out: bool = False

    @property
    def elapsed(self) -> float:
        return self.finished - self.started

    def json(self):
        return json.loads(self.body)

    def is_unavailable_problem(self) -> bool:
        """503 problem+json with Retry-After: what an outage must look like (DESIGN §6)."""
        return (
            self.status == 503
            and self.content_type.split(";")[0].strip() == PROBLEM_JSON
            and bool(self.retry_after)
        )

    def describe(self) -> str:
        if self.error:
            return f"{'timeout' if self.timed_out else 'transport error'}: {self.error}"
        return f"{self.status} {self.content_type} {self.body[:200]!r}"


def request(
    base: str,
    method: str,
    path: str,
    body=None,
    headers: dict | None = None,
    timeout: float = REQUEST_TIMEOUT,
) -> Answer:
    """One request on a connection of its own (no keep-alive: every request's fate is its own)."""
    url = urllib.parse.urlsplit(base)
    data = None
    all_headers = {"Connection": "close"}
    if body is not None:
        if isinstance(body, (bytes, str)):
            data = body.encode() if isinstance(body, str) else body
        else:
            data = json.dumps(body).encode()
            all_headers["Content-Type"] = "application/json"
    all_headers.update(headers or {})
    started = time.monotonic()
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout)
    try:
        connection.request(method, path, body=data, headers=all_headers)
        response = connection.getresponse()
        content = response.read()
        return Answer(
            started=started,
            finished=time.monotonic(),
            status=response.status,
            content_type=response.getheader("Content-Type", ""),
            retry_after=response.getheader("Retry-After"),
            headers={k.lower(): v for k, v in response.getheaders()},
            body=content,
        )
    except (socket.timeout, TimeoutError) as error:
        return Answer(started, time.monotonic(), error=str(error) or "timed out", timed_out=True)
    except (OSError, http.client.HTTPException) as error:
        return Answer(started, time.monotonic(), error=f"{type(error).__name__}: {error}")
    finally:
        connection.close()


# ----------------------------------------------------------------------------------------------
# The private PostgreSQL cluster


def server_bindir() -> Path:
    candidates = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        candidates.append(Path(out.stdout.strip()))
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    candidates.extend(versions)
    for directory in candidates:
        if (directory / "initdb").is_file() and (directory / "pg_ctl").is_file():
            return directory
    sys.exit("error: PostgreSQL server binaries (initdb, pg_ctl) not found")


class Cluster:
    """A PostgreSQL cluster of this run alone, on a free port of 127.0.0.1."""

    def __init__(self, scratch: Path):
        self.bindir = server_bindir()
        self.root = scratch / "postgres"
        self.data = self.root / "data"
        self.port = free_port()
        self.user = None
        if os.geteuid() == 0:
            # initdb refuses root: the cluster belongs to an unprivileged user.
            self.user = "postgres" if _user_exists("postgres") else "nobody"

    def _pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(self.bindir / "pg_ctl"), *args]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
        if check and done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed: {done.stdout}{done.stderr}")
        return done

    def init(self) -> None:
        self.root.mkdir(parents=True)
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        command = [
            str(self.bindir / "initdb"),
            "-D", str(self.data),
            "--auth=trust", "--username=postgres", "--encoding=UTF8", "--no-locale",
        ]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed: {done.stdout}{done.stderr}")

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c max_connections=100"
        self._pg_ctl(
            "start", "-w", "-t", "60", "-D", str(self.data),
            "-l", str(self.root / "postgres.log"), "-o", options,
        )

    def restart_fast(self) -> None:
        # pg_ctl restart keeps the server's options (postmaster.opts) but not its log file: without
        # one the new server would write to, and hold open, this process's pipe.
        self._pg_ctl(
            "restart", "-m", "fast", "-w", "-t", "60", "-D", str(self.data),
            "-l", str(self.root / "postgres.log"),
        )

    def crash(self) -> None:
        self._pg_ctl("stop", "-m", "immediate", "-w", "-D", str(self.data))

    def stop(self) -> None:
        self._pg_ctl("stop", "-m", "fast", "-w", "-D", str(self.data), check=False)

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def psql_command(self, database: str) -> list[str]:
        return [
            "psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1",
            "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database,
        ]

    def query(self, database: str, sql: str) -> list[list[str]]:
        done = subprocess.run(
            [*self.psql_command(database), "-F", "\t", "-c", sql],
            capture_output=True, text=True, check=False, timeout=60,
        )
        if done.returncode != 0:
            raise RuntimeError(f"psql on {database} failed: {done.stderr.strip()}\n{sql}")
        return [line.split("\t") for line in done.stdout.splitlines() if line]

    def scalar(self, database: str, sql: str) -> str:
        rows = self.query(database, sql)
        return rows[0][0] if rows else ""


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


class LockHolder:
    """A psql session that takes a lock in an open transaction and holds it until released."""

    def __init__(self, cluster: Cluster, database: str, statement: str):
        self.process = subprocess.Popen(
            [*cluster.psql_command(database)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(f"BEGIN;\n{statement};\n\\echo locked\n")
        self.process.stdin.flush()
        deadline = time.monotonic() + 30
        for line in self.process.stdout:
            if line.strip() == "locked":
                return
            if time.monotonic() > deadline:
                break
        raise RuntimeError(f"the lock was not taken: {statement}")

    def release(self) -> None:
        assert self.process.stdin
        self.process.stdin.write("COMMIT;\n\\q\n")
        self.process.stdin.flush()
        self.process.stdin.close()
        self.process.wait(timeout=30)


# ----------------------------------------------------------------------------------------------
# The services


class Service:
    """One `praktijkregister serve NAME` process."""

    def __init__(self, suite: "Suite", name: str, port: int):
        self.suite = suite
        self.name = name
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen | None = None
        self.log = suite.scratch / f"{name}.log"
        self.starts = 0

    def start(self, extra_env: dict | None = None) -> float:
        """Starts the process and waits until it is ready; returns the seconds it took."""
        env = dict(self.suite.env)
        env.update(extra_env or {})
        self.starts += 1
        with open(self.log, "a", encoding="utf-8") as out:
            out.write(f"\n===== start {self.starts} =====\n")
            out.flush()
            self.process = subprocess.Popen(
                [str(self.suite.binary), "serve", self.name],
                cwd=self.suite.workdir, env=env, stdout=out, stderr=subprocess.STDOUT,
            )
        self.suite.processes.append(self.process)
        started = time.monotonic()
        self.wait_ready(started)
        return time.monotonic() - started

    def ready(self) -> Answer:
        return request(self.base, "GET", "/health/ready", timeout=5)

    def wait_ready(self, since: float) -> float:
        """Seconds from `since` until /health/ready answers 200."""
        deadline = since + READY_TIMEOUT
        while True:
            if self.process and self.process.poll() is not None:
                raise Failure(f"{self.name} exited ({self.process.returncode}) before it was ready")
            if self.ready().status == 200:
                return time.monotonic() - since
            if time.monotonic() > deadline:
                raise Failure(f"{self.name} was not ready within {READY_TIMEOUT:.0f} s")
            time.sleep(0.1)

    def terminate(self, timeout: float) -> tuple[float, int | None]:
        """SIGTERM; (seconds to exit, exit status), status None if it had to be killed."""
        assert self.process
        sent = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            status = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            status = None
        return time.monotonic() - sent, status

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class WebhookReceiver:
    """An insurer's webhook endpoint: a local HTTP server that answers 204 and keeps every
    `webhook-id` it was sent; stopped, its port refuses connections."""

    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.received: list[str] = []
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        received = self.received

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (the standard library's name)
                length = int(self.headers.get("Content-Length", "0"))
                self.rfile.read(length)
                received.append(self.headers.get("webhook-id", ""))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


class Failure(Exception):
    """The services broke a promise of DESIGN §6."""


# ----------------------------------------------------------------------------------------------
# Writers


class Practices:
    """Unique practice bodies: AGB codes 07NNNNNN, locations and KvK numbers of their own."""

    def __init__(self):
        self._numbers = itertools.count(100001)
        self._lock = threading.Lock()

    def next_body(self) -> dict:
        with self._lock:
            n = next(self._numbers)
        return {
            "agb": f"07{n:06d}",
            "name": f"Oefentherapie Veerkracht {n}",
            "kvk_number": f"{n:08d}",
            "contact": {"name": "J. de Vries", "email": "info@veerkracht.nl", "phone": "030 123 4567"},
            "locations": [{
                "agb": f"07{n + 500000:06d}", "kvk_branch_number": f"{n:012d}",
                "street": "Dorpsstraat", "house_number": "12a", "postal_code": "3512AB",
                "city": "Utrecht", "own_entrance": True, "own_waiting_room": True,
                "own_reception": True, "own_administration": True, "own_logo": True,
            }],
        }


@dataclass
class Write:
    agb: str
    answer: Answer


class Load:
    """`clients` threads that register practices until stopped, each answer kept."""

    def __init__(self, suite: "Suite", clients: int, rate: float | None = None, rename: bool = False):
        self.suite = suite
        self.clients = clients
        self.interval = clients / rate if rate else 0.0
        self.rename = rename
        self.writes: list[Write] = []
        self.renames: list[Write] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(clients)]

    def __enter__(self) -> "Load":
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=REQUEST_TIMEOUT + 5)

    def _run(self) -> None:
        register = self.suite.register
        while not self._stop.is_set():
            began = time.monotonic()
            body = self.suite.practices.next_body()
            answer = request(register.base, "POST", "/v1/practices", body, self.suite.auth())
            with self._lock:
                self.writes.append(Write(body["agb"], answer))
            if answer.error:
                # A closed port answers at once; do not spin on it.
                self._stop.wait(0.05)
            if self.rename and answer.status == 201:
                # A change of the new practice: a second event for the receiver.
                etag = answer.headers.get("etag", '"1"')
                changed = request(
                    register.base, "PATCH", f"/v1/practices/{body['agb']}",
                    {"name": body["name"] + " (gewijzigd)"},
                    {**self.suite.auth(), "If-Match": etag},
                )
                with self._lock:
                    self.renames.append(Write(body["agb"], changed))
            pause = self.interval - (time.monotonic() - began)
            if pause > 0:
                self._stop.wait(pause)

    def acknowledged_since(self, moment: float) -> bool:
        with self._lock:
            return any(w.answer.status == 201 and w.answer.started >= moment for w in self.writes)


@dataclass
class Keyed:
    """One delivery sent under one Idempotency-Key until acknowledged: every attempt's answer."""

    practice: str
    key: str
    attempts: list[Answer] = field(default_factory=list)

    @property
    def final(self) -> Answer:
        return self.attempts[-1]

    @property
    def acknowledged(self) -> bool:
        return 200 <= self.final.status < 300

    @property
    def version(self) -> int | None:
        return self.final.json().get("version") if self.acknowledged else None


class DeliveryWriters:
    """Threads that each deliver one month of one practice again and again, a new
    Idempotency-Key per delivery, retrying a 503 with the same key until it is acknowledged
    (as DESIGN §4 tells a client to). Each acknowledged key must be exactly one version."""

    def __init__(self, suite: "Suite", fixtures: list[tuple[str, str]]):
        self.suite = suite
        self.fixtures = fixtures
        self.keyed: list[Keyed] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(f,), daemon=True) for f in fixtures]

    def __enter__(self) -> "DeliveryWriters":
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=READY_TIMEOUT + REQUEST_TIMEOUT)

    def _run(self, fixture: tuple[str, str]) -> None:
        practice, therapist = fixture
        path = f"/v1/practices/{practice}/deliveries/{DELIVERY_MONTH}"
        body = {"rows": [{
            "therapist_agb": therapist, "patients": 31, "treatments": 128, "closed_episodes": 8,
            "treatments_in_closed_episodes": 72, "ldo_records_delivered": 30, "ldo_records_complete": 29,
            "prem_eligible": 10, "prem_offered": 7, "ldo_upload_date": f"{DELIVERY_MONTH}-27",
        }]}
        while not self._stop.is_set():
            keyed = Keyed(practice, str(uuid.uuid4()))
            with self._lock:
                self.keyed.append(keyed)
            # A key once sent is retried until it is answered for good, even after the stop.
            deadline = time.monotonic() + READY_TIMEOUT
            while True:
                answer = request(self.suite.register.base, "PUT", path, body,
                                 {**self.suite.auth(), "Idempotency-Key": keyed.key})
                keyed.attempts.append(answer)
                if not answer.is_unavailable_problem() or time.monotonic() > deadline:
                    break
                time.sleep(min(float(answer.retry_after or 1), 0.2))


def classify(writes: list[Write]) -> dict:
    """Counts of a load's answers: acknowledged, 503 problems with Retry-After, and the rest."""
    figures = {"sent": len(writes), "acknowledged": 0, "unavailable_503": 0, "unexpected": 0, "hangs": 0,
               "transport_errors": 0, "max_seconds_to_answer": 0.0}
    unexpected = []
    for write in writes:
        answer = write.answer
        figures["max_seconds_to_answer"] = max(figures["max_seconds_to_answer"], round(answer.elapsed, 3))
        if 200 <= answer.status < 300:
            figures["acknowledged"] += 1
        elif answer.is_unavailable_problem():
            figures["unavailable_503"] += 1
        elif answer.timed_out:
            figures["hangs"] += 1
            unexpected.append(answer.describe())
        elif answer.error:
            figures["transport_errors"] += 1
            unexpected.append(answer.describe())
        else:
            figures["unexpected"] += 1
            unexpected.append(f"{write.agb}: {answer.describe()}")
    figures["failed"] = figures["sent"] - figures["acknowledged"]
    return figures, unexpected


# ----------------------------------------------------------------------------------------------
# The suite


class Suite:
    def __init__(self, binary: Path, scratch: Path):
        self.binary = binary
        self.scratch = scratch
        self.workdir = scratch / "run"
        self.workdir.mkdir()
        self.cluster = Cluster(scratch)
        self.practices = Practices()
        self.failures: list[str] = []
        self.delivery_keys: list[Keyed] = []
        # Every service process started, so that none outlives the run.
        self.processes: list[subprocess.Popen] = []
        self.delivery_fixtures: list[tuple[str, str]] = []
        self.figures: dict[str, dict] = {}
        self.registrar_id = "resilience-registrar"
        self.registrar_secret = secrets.token_hex(24)
        self._token: tuple[str, float] | None = None
        self._token_lock = threading.Lock()
        ports = {name: free_port() for name in ("register", "visitation", "insurer_export")}
        self.register = Service(self, "register", ports["register"])
        self.visitation = Service(self, "visitation", ports["visitation"])
        self.export = Service(self, "insurer_export", ports["insurer_export"])
        self.services = [self.register, self.visitation, self.export]
        self.env: dict = {}

    # -- set-up

    def set_up(self) -> None:
        self.cluster.init()
        self.cluster.start()
        for database in ("register", "visitation", "export"):
            self.cluster.query("postgres", f"CREATE DATABASE {database}")
        config = self.scratch / "config.toml"
        config.write_text(self._config(), encoding="utf-8")
        self.env = {
            key: value for key, value in os.environ.items()
            if not key.startswith("PRR_") and not key.startswith("PRR__")
        }
        self.env.update({"PRR_CONFIG_FILE": str(config), "NO_COLOR": "1"})
        for service in self.services:
            seconds = service.start()
            log(f"{service.name} ready at {service.base} after {seconds:.1f} s")
        self.delivery_fixtures = [self._practice_with_therapist(i) for i in range(DELIVERY_WRITERS)]

    def _practice_with_therapist(self, i: int) -> tuple[str, str]:
        body = self.practices.next_body()
        therapist = f"07{900001 + i:06d}"
        steps = [
            ("POST", "/v1/practices", body),
            ("POST", "/v1/therapists", {"agb": therapist, "name": f"T. Veerkracht {i}", "kp_number": f"{700001 + i}"}),
            ("PUT", f"/v1/practices/{body['agb']}/therapists/{therapist}", {"start_date": "2020-01-01"}),
        ]
        for method, path, payload in steps:
            answer = request(self.register.base, method, path, payload, self.auth())
            if not 200 <= answer.status < 300:
                raise Failure(f"set-up {method} {path}: {answer.describe()}")
        return body["agb"], therapist

    def _config(self) -> str:
        r, v, e = self.register.base, self.visitation.base, self.export.base
        return f"""
[app]
environment = "development"
data_dir = "{self.workdir / 'var'}"

[log]
format = "pretty"
filter = "info"

[http]
rate_limit_per_second = 100000
rate_limit_burst = 100000

[auth]
issuer = "{r}"
jwks_url = "{r}/.well-known/jwks.json"
token_lifetime_seconds = 3600

[register]
host = "127.0.0.1"
port = {self.register.port}
database_url = "{self.cluster.url('register')}"

[register.bootstrap]
registrar_client_id = "{self.registrar_id}"
registrar_client_secret = "{self.registrar_secret}"

[register.kp_verification]
enabled = false

[register.outbox]
backoff_max_ms = {BACKOFF_MAX_MS}
flush_timeout_ms = {FLUSH_TIMEOUT_MS}

[register.outbox.destinations]
"insurer-export" = "{e}/v1/internal/register-events"

[register.insurer_export]
base_url = "{e}"

[register.service_client]
token_url = "{r}/oauth/token"

[visitation]
host = "127.0.0.1"
port = {self.visitation.port}
database_url = "{self.cluster.url('visitation')}"
register_url = "{r}"

[visitation.outbox.destinations]
register = "{r}/v1/internal/visitation-outcomes"

[visitation.service_client]
token_url = "{r}/oauth/token"

[insurer_export]
host = "127.0.0.1"
port = {self.export.port}
database_url = "{self.cluster.url('export')}"
register_url = "{r}"

[insurer_export.schedule]
enabled = false

# Its view of the practices must come from the events alone, or a lost event would not show.
[insurer_export.resync]
on_start = false

[insurer_export.webhooks]
backoff_max_ms = {BACKOFF_MAX_MS}

[insurer_export.service_client]
token_url = "{r}/oauth/token"
"""

    def auth(self) -> dict:
        """The registrar's bearer token, fetched again well before it expires."""
        with self._token_lock:
            if self._token is None or time.monotonic() > self._token[1]:
                answer = request(
                    self.register.base, "POST", "/oauth/token",
                    urllib.parse.urlencode({
                        "grant_type": "client_credentials", "client_id": self.registrar_id,
                        "client_secret": self.registrar_secret,
                    }),
                    {"Content-Type": "application/x-www-form-urlencoded"},
                )
                if answer.status != 200:
                    raise Failure(f"no registrar token: {answer.describe()}")
                token = answer.json()
                self._token = (token["access_token"], time.monotonic() + token["expires_in"] / 2)
            return {"Authorization": f"Bearer {self._token[0]}"}

    def tear_down(self) -> None:
        for service in reversed(self.services):
            service.kill()
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait()
        self.cluster.stop()

    def fail(self, scenario: str, message: str) -> None:
        self.failures.append(f"{scenario}: {message}")
        print(f"FAIL {scenario}: {message}", flush=True)

    def report(self, scenario: str, figures: dict) -> None:
        self.figures[scenario] = figures
        width = max(len(k) for k in figures)
        for key, value in figures.items():
            log(f"{key:<{width}}  {value}")

    # -- checks shared by the scenarios

    def stored_agbs(self, agbs: list[str]) -> set[str]:
        if not agbs:
            return set()
        listed = ",".join(f"'{a}'" for a in agbs)
        rows = self.cluster.query("register", f"SELECT agb FROM practices WHERE agb IN ({listed})")
        return {row[0] for row in rows}

    def check_deliveries(self, scenario: str, keyed: list[Keyed]) -> dict:
        """Every acknowledged key is one stored version, and no key made two."""
        acknowledged = [k for k in keyed if k.acknowledged]
        every_acknowledged = [k for k in self.delivery_keys if k.acknowledged]
        every_unacknowledged = [k for k in self.delivery_keys if not k.acknowledged]
        retried = [k for k in keyed if len(k.attempts) > 1]
        replayed = [k for k in retried if k.final.headers.get("idempotent-replayed") == "true"]
        bad = [k for k in keyed if not k.acknowledged and not k.final.is_unavailable_problem()]
        unacknowledged = [k for k in keyed if not k.acknowledged]
        stored = self.cluster.query(
            "register",
            "SELECT practice_agb, version FROM deliveries WHERE practice_agb IN ("
            + ",".join(f"'{p}'" for p, _ in self.delivery_fixtures) + f") AND period = '{DELIVERY_MONTH}-01'",
        ) if self.delivery_fixtures else []
        stored_versions = {(row[0], int(row[1])) for row in stored}
        acknowledged_versions = [(k.practice, k.version) for k in every_acknowledged]
        lost = [v for v in acknowledged_versions if v not in stored_versions]
        # Versions beyond the keys acknowledged: a retry under the same key that wrote again, or
        # a key given up while unanswered whose write was stored.
        extra = len(stored_versions) - len(set(acknowledged_versions))
        twice = len(acknowledged_versions) - len(set(acknowledged_versions))
        figures = {
            "idempotent_deliveries_sent": len(keyed),
            "idempotent_deliveries_acknowledged": len(acknowledged),
            "idempotent_deliveries_retried": len(retried),
            "idempotent_retries_replayed_a_stored_write": len(replayed),
            "idempotent_deliveries_lost": len(lost),
            "idempotent_deliveries_stored_twice": extra + twice,
        }
        if lost:
            self.fail(scenario, f"{len(lost)} acknowledged deliveries lost: {lost[:5]}")
        if twice or extra > len(every_unacknowledged):
            self.fail(scenario, f"{extra + twice} deliveries stored beyond the keys sent (a retry wrote twice)")
        if unacknowledged:
            self.fail(scenario, f"{len(unacknowledged)} idempotent deliveries never acknowledged: "
                                f"{[k.final.describe() for k in unacknowledged[:3]]}")
        for k in bad[:5]:
            self.fail(scenario, f"delivery {k.key}: {k.final.describe()}")
        for k in keyed:
            for attempt in k.attempts[:-1]:
                if not attempt.is_unavailable_problem():
                    self.fail(scenario, f"delivery {k.key} attempt: {attempt.describe()}")
        return figures

    def probe_everything(self) -> list:
        """One request of each kind the services serve (token, public, list, write, metrics), sent
        side by side; each must answer within the timeout, a 2xx or a 503 problem."""
        form = urllib.parse.urlencode({
            "grant_type": "client_credentials", "client_id": self.registrar_id,
            "client_secret": self.registrar_secret,
        })
        auth = self.auth()
        probes = [
            (self.register, "POST", "/oauth/token", form, {"Content-Type": "application/x-www-form-urlencoded"}),
            (self.register, "GET", "/v1/public/practices", None, {}),
            (self.register, "GET", "/v1/practices", None, auth),
            (self.register, "GET", "/v1/clients", None, auth),
            (self.register, "GET", "/metrics", None, {}),
            (self.visitation, "GET", "/v1/visitors", None, auth),
            (self.visitation, "GET", "/v1/visitations", None, auth),
            (self.export, "GET", "/v1/insurers", None, auth),
            (self.export, "POST", "/v1/insurers", {"uzovi": "9664", "name": "Probe", "differentiated": False}, auth),
        ]
        answers: list = [None] * len(probes)

        def send(i: int) -> None:
            service, method, path, body, headers = probes[i]
            answers[i] = request(service.base, method, path, body, headers)

        threads = [threading.Thread(target=send, args=(i,)) for i in range(len(probes))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return list(zip(probes, answers))

    def wait_every_ready(self, since: float) -> dict:
        """Seconds from `since` until each service answers ready again, polled side by side."""
        results: dict[str, float | str] = {}

        def poll(service: Service) -> None:
            try:
                results[service.name] = round(service.wait_ready(since), 2)
            except Failure as error:
                results[service.name] = str(error)

        threads = [threading.Thread(target=poll, args=(s,)) for s in self.services]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return results

    def outbox_pending(self) -> int:
        return int(self.cluster.scalar(
            "register",
            "SELECT count(*) FROM outbox_events WHERE destination = 'insurer-export' AND status <> 'delivered'",
        ))

    def wait_outbox_drained(self, timeout: float) -> float | None:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.outbox_pending() == 0:
                return time.monotonic() - started
            time.sleep(0.25)
        return None

    def check_events(self, scenario: str) -> dict:
        """Every event of the register's outbox applied exactly once by the insurer-export service,
        and its view of the practices equal to the register's."""
        outbox = self.cluster.query(
            "register",
            "SELECT event_id, status FROM outbox_events WHERE destination = 'insurer-export'",
        )
        inbox = self.cluster.query("export", "SELECT event_id FROM inbox_events")
        sent = {row[0] for row in outbox}
        not_delivered = [row for row in outbox if row[1] != "delivered"]
        received = [row[0] for row in inbox]
        missing = sent - set(received)
        unknown = set(received) - sent
        duplicates = len(received) - len(set(received))
        changes_twice = int(self.cluster.scalar(
            "export", "SELECT count(*) FROM (SELECT id FROM changes GROUP BY id HAVING count(*) > 1) d"))
        register_view = dict(
            (row[0], row[1]) for row in self.cluster.query("register", "SELECT agb, name FROM practices"))
        export_view = dict(
            (row[0], row[1]) for row in self.cluster.query("export", "SELECT agb, name FROM practices"))
        differing = sorted(a for a in register_view if export_view.get(a) != register_view[a])
        figures = {
            "events_sent": len(sent),
            "events_applied": len(set(received)),
            "events_not_delivered": len(not_delivered),
            "events_lost": len(missing),
            "events_applied_twice": duplicates + changes_twice,
            "practices_differing_between_register_and_export": len(differing),
        }
        if not_delivered:
            self.fail(scenario, f"{len(not_delivered)} outbox events not delivered: {not_delivered[:5]}")
        if missing:
            self.fail(scenario, f"{len(missing)} events never applied by the receiver: {sorted(missing)[:5]}")
        if unknown:
            self.fail(scenario, f"{len(unknown)} events applied that the register did not send")
        if duplicates or changes_twice:
            self.fail(scenario, f"events applied twice: inbox {duplicates}, changes {changes_twice}")
        if differing:
            self.fail(scenario, f"{len(differing)} practices differ between register and export: {differing[:5]}")
        return figures

    # -- scenarios

    def scenario_postgres(self, scenario: str, crash: bool) -> None:
        figures: dict = {}
        readiness_during_outage: dict = {}
        outage_probes: dict = {}
        with DeliveryWriters(self, self.delivery_fixtures) as deliveries, Load(self, CLIENTS) as load:
            time.sleep(WARMUP)
            disturbed = time.monotonic()
            if crash:
                self.cluster.crash()
                time.sleep(min(0.5, OUTAGE))
                for service in self.services:
                    answer = service.ready()
                    readiness_during_outage[service.name] = answer.status or answer.describe()
                    if not answer.is_unavailable_problem():
                        self.fail(scenario, f"{service.name} /health/ready while PostgreSQL is down: {answer.describe()}")
                for (service, method, path, body, headers), answer in self.probe_everything():
                    outage_probes[f"{method} {service.name} {path}"] = answer.status or answer.describe()
                    if not (200 <= answer.status < 300 or answer.is_unavailable_problem()):
                        self.fail(scenario, f"{method} {service.name} {path} while PostgreSQL is down: "
                                            f"{answer.describe()}")
                time.sleep(max(0.0, OUTAGE - 0.5))
                self.cluster.start()
            else:
                self.cluster.restart_fast()
            back = time.monotonic()
            ready = self.wait_every_ready(back)
            # Writes go on until one is acknowledged again, and a little longer.
            deadline = back + READY_TIMEOUT
            while not load.acknowledged_since(back) and time.monotonic() < deadline:
                time.sleep(0.1)
            first_ack = next(
                (w.answer.finished - back for w in sorted(load.writes, key=lambda w: w.answer.finished)
                 if w.answer.status == 201 and w.answer.started >= back),
                None,
            )
            time.sleep(1.0)
        counts, unexpected = classify(load.writes)
        acknowledged = [w.agb for w in load.writes if w.answer.status == 201]
        failed = [w.agb for w in load.writes if w.answer.status != 201]
        stored = self.stored_agbs(acknowledged)
        lost = sorted(set(acknowledged) - stored)
        stored_failed = self.stored_agbs(failed)
        figures.update(counts)
        figures.update({
            "lost": len(lost),
            "failed_but_stored": len(stored_failed),
            "postgres_down_seconds": round(back - disturbed, 2),
            "seconds_to_first_acknowledged_write_after_postgres_back":
                round(first_ack, 2) if first_ack is not None else None,
            "seconds_to_ready_after_postgres_back": ready,
        })
        self.delivery_keys.extend(deliveries.keyed)
        figures.update(self.check_deliveries(scenario, deliveries.keyed))
        if readiness_during_outage:
            figures["ready_status_while_down"] = readiness_during_outage
            figures["other_requests_while_down"] = outage_probes
        for name, seconds in ready.items():
            if not isinstance(seconds, float):
                self.fail(scenario, f"{name} not ready again: {seconds}")
        if lost:
            self.fail(scenario, f"{len(lost)} acknowledged writes lost: {lost[:10]}")
        for item in unexpected[:10]:
            self.fail(scenario, f"not a 2xx nor a 503 problem with Retry-After: {item}")
        if first_ack is None:
            self.fail(scenario, "no write was acknowledged after PostgreSQL came back")
        self.report(scenario, figures)

    def scenario_sigterm(self, scenario: str) -> None:
        drain = drain_seconds()
        # Only this scenario's events are due when the signal comes.
        if self.wait_outbox_drained(READY_TIMEOUT) is None:
            raise Failure("the outbox did not drain before the signal")
        held = []
        for _ in range(2):
            body = self.practices.next_body()
            answer = request(self.register.base, "POST", "/v1/practices", body, self.auth())
            if answer.status != 201:
                raise Failure(f"could not register a practice: {answer.describe()}")
            held.append((body["agb"], answer.headers.get("etag", '"1"')))
        listed = ",".join(f"'{agb}'" for agb, _ in held)
        holder = LockHolder(self.cluster, "register",
                            f"SELECT agb FROM practices WHERE agb IN ({listed}) FOR UPDATE")
        in_flight: list[Answer] = []
        threads = []
        for agb, etag in held:
            def change(agb=agb, etag=etag):
                in_flight.append(request(
                    self.register.base, "PATCH", f"/v1/practices/{agb}", {"name": f"Veerkracht {agb} na stop"},
                    {**self.auth(), "If-Match": etag}, timeout=drain + 10,
                ))
            threads.append(threading.Thread(target=change))
        for thread in threads:
            thread.start()
        waiting = 0
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            waiting = int(self.cluster.scalar(
                "register",
                "SELECT count(*) FROM pg_stat_activity WHERE datname = 'register' AND wait_event_type = 'Lock'"))
            if waiting >= len(held):
                break
            time.sleep(0.1)
        if waiting < len(held):
            holder.release()
            raise Failure(f"only {waiting} of {len(held)} changes waited on the lock")
        pending_before = self.outbox_pending()
        with Load(self, CLIENTS) as load:
            time.sleep(WARMUP)
            signalled = time.monotonic()
            self.register.process.send_signal(signal.SIGTERM)
            time.sleep(1.5)
            holder.release()
            try:
                status = self.register.process.wait(timeout=drain + 30)
            except subprocess.TimeoutExpired:
                status = None
            exited = time.monotonic() - signalled
            if status is None:
                self.register.process.kill()
                self.register.process.wait()
            load.stop()
        for thread in threads:
            thread.join()
        pending_after_exit = self.outbox_pending()
        in_flight_ok = sum(1 for a in in_flight if a.status == 200)
        # A request whose connection was open well before the signal was taken by the service;
        # one begun around the signal may have met a closed listener.
        margin = 0.25
        background = classify(load.writes)[0]
        cut_off = [w for w in load.writes if w.answer.error and w.answer.started < signalled - margin]
        refused = [w for w in load.writes if w.answer.error and w.answer.started >= signalled - margin]
        bad_status = [w for w in load.writes if w.answer.status and w.answer.status != 201]
        restarted = self.register.start()
        drained = self.wait_outbox_drained(READY_TIMEOUT)
        figures = {
            "in_flight_at_signal_held_on_a_lock": len(held),
            "in_flight_completed": in_flight_ok,
            "background_sent": background["sent"],
            "background_acknowledged": background["acknowledged"],
            "background_in_flight_failed": len(cut_off),
            "background_refused_after_signal": len(refused),
            "background_unexpected_status": len(bad_status),
            "seconds_to_exit_after_sigterm": round(exited, 2),
            "drain_seconds": drain,
            "exit_status": status,
            "outbox_pending_before_signal": pending_before,
            "outbox_pending_after_exit": pending_after_exit,
            "seconds_to_ready_after_restart": round(restarted, 2),
            "seconds_to_outbox_drained_after_restart": round(drained, 2) if drained is not None else None,
        }
        if in_flight_ok != len(held):
            self.fail(scenario, f"in-flight requests failed: {[a.describe() for a in in_flight if a.status != 200]}")
        for write in cut_off[:10]:
            self.fail(scenario, f"request begun {signalled - write.answer.started:.2f} s before SIGTERM failed: "
                                f"{write.answer.describe()}")
        for write in bad_status[:10]:
            self.fail(scenario, f"{write.agb}: {write.answer.describe()}")
        if status is None:
            self.fail(scenario, f"the register did not exit within {drain + 30} s of SIGTERM")
        elif status != 0:
            self.fail(scenario, f"the register exited with status {status}")
        if exited > drain:
            self.fail(scenario, f"exit took {exited:.1f} s, longer than the drain time ({drain} s)")
        # The relay's flush ends when nothing is due or when its time is up (the rest waits for the
        # next start); events left behind by a flush that ended early were dropped by it.
        answered = [a.finished for a in in_flight] + [w.answer.finished for w in load.writes if w.answer.status]
        flush_began = max(answered) - signalled if answered else 0.0
        flush_seconds = max(0.0, exited - flush_began)
        figures["seconds_flushing_after_last_answer"] = round(flush_seconds, 2)
        if pending_after_exit and flush_seconds < FLUSH_TIMEOUT_MS / 1000 * 0.9:
            self.fail(scenario, f"{pending_after_exit} events left in the outbox by a flush that ended "
                                f"after {flush_seconds:.1f} s, before its {FLUSH_TIMEOUT_MS} ms were up")
        if drained is None:
            self.fail(scenario, "the outbox was not drained after the restart")
        acknowledged = [w.agb for w in load.writes if w.answer.status == 201]
        lost = sorted(set(acknowledged) - self.stored_agbs(acknowledged))
        figures["lost"] = len(lost)
        if lost:
            self.fail(scenario, f"{len(lost)} acknowledged writes lost: {lost[:10]}")
        figures.update(self.check_events(scenario))
        self.report(scenario, figures)

    def webhook_endpoint(self) -> tuple[WebhookReceiver, str]:
        """An insurer of the export service with a webhook endpoint served by this script."""
        receiver = WebhookReceiver()
        answer = request(self.export.base, "POST", "/v1/insurers",
                         {"uzovi": WEBHOOK_UZOVI, "name": "Veerkracht Zorgverzekeraar", "differentiated": True},
                         self.auth())
        if answer.status not in (201, 409):
            raise Failure(f"could not create the insurer: {answer.describe()}")
        answer = request(self.export.base, "POST", f"/v1/insurers/{WEBHOOK_UZOVI}/webhooks",
                         {"url": receiver.url}, self.auth())
        if answer.status != 201:
            raise Failure(f"could not create the webhook endpoint: {answer.describe()}")
        return receiver, answer.json()["id"]

    def webhooks_pending(self, endpoint: str) -> int:
        return int(self.cluster.scalar(
            "export",
            f"SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = '{endpoint}' AND status <> 'delivered'"))

    def scenario_receiver_down(self, scenario: str) -> None:
        # Both receivers go down: the export service (the register's events) and the insurer's
        # webhook endpoint (the export's changes), which comes back only after the export has
        # tried it.
        self.wait_outbox_drained(READY_TIMEOUT)
        changes_before = int(self.cluster.scalar("export", "SELECT coalesce(max(seq), 0) FROM changes"))
        hooks, endpoint = self.webhook_endpoint()
        stopped, status = self.export.terminate(drain_seconds() + 30)
        if status != 0:
            self.fail(scenario, f"insurer_export exited with status {status}")
        down_since = time.monotonic()
        with Load(self, max(1, CLIENTS // 2), rate=EVENT_RATE, rename=True) as load:
            time.sleep(RECEIVER_DOWN)
            pending_while_down = self.outbox_pending()
            attempts = int(self.cluster.scalar(
                "register",
                "SELECT coalesce(max(attempts), 0) FROM outbox_events WHERE destination = 'insurer-export' "
                "AND status = 'pending'"))
        restarted = self.export.start()
        down = time.monotonic() - down_since
        drained = self.wait_outbox_drained(READY_TIMEOUT + BACKOFF_MAX_MS / 1000 * 2)
        # The webhook endpoint is down until the export's relay has been refused by it.
        hooks_tried = 0
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            hooks_tried = int(self.cluster.scalar(
                "export",
                f"SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = '{endpoint}' AND attempts > 0 "
                "AND status <> 'delivered'"))
            if hooks_tried:
                break
            time.sleep(0.25)
        hooks.start()
        hooks_back = time.monotonic()
        hooks_drained = None
        try:
            deadline = hooks_back + READY_TIMEOUT + BACKOFF_MAX_MS / 1000 * 2
            while time.monotonic() < deadline:
                if self.webhooks_pending(endpoint) == 0:
                    hooks_drained = time.monotonic() - hooks_back
                    break
                time.sleep(0.25)
        finally:
            hooks.stop()
        deliveries = self.cluster.query(
            "export", f"SELECT id::text, status FROM webhook_deliveries WHERE endpoint_id = '{endpoint}'")
        changes = int(self.cluster.scalar("export", f"SELECT count(*) FROM changes WHERE seq > {changes_before}"))
        sent_ids = {row[0] for row in deliveries}
        received_ids = set(hooks.received)
        writes = load.writes + load.renames
        counts, unexpected = classify(writes)
        figures = {
            "receiver_down_seconds": round(down, 1),
            "writes_sent": counts["sent"],
            "writes_acknowledged": counts["acknowledged"],
            "writes_failed": counts["failed"],
            "events_pending_while_down": pending_while_down,
            "most_delivery_attempts_while_down": attempts,
            "seconds_receiver_took_to_stop": round(stopped, 2),
            "seconds_to_receiver_ready": round(restarted, 2),
            "seconds_to_outbox_drained_after_receiver_ready": round(drained, 2) if drained is not None else None,
        }
        for item in unexpected[:10]:
            self.fail(scenario, f"a write while the receiver was down: {item}")
        if counts["failed"]:
            self.fail(scenario, f"{counts['failed']} writes failed while only the receiver was down")
        if pending_while_down == 0:
            self.fail(scenario, "no event waited in the outbox while the receiver was down")
        if drained is None:
            self.fail(scenario, "the outbox was not drained after the receiver came back")
        figures.update(self.check_events(scenario))
        figures.update({
            "changes_recorded_by_export": changes,
            "webhooks_tried_while_endpoint_down": hooks_tried,
            "seconds_to_webhooks_drained_after_endpoint_back":
                round(hooks_drained, 2) if hooks_drained is not None else None,
            "webhook_deliveries": len(deliveries),
            "webhook_ids_received": len(received_ids),
            "webhook_posts_repeated": len(hooks.received) - len(received_ids),
            "webhook_deliveries_lost": len(sent_ids - received_ids),
        })
        if not hooks_tried:
            self.fail(scenario, "no webhook delivery was tried while the endpoint was down")
        if hooks_drained is None:
            self.fail(scenario, "webhook deliveries still pending after the endpoint came back")
        if len(deliveries) != changes:
            self.fail(scenario, f"{changes} changes but {len(deliveries)} webhook deliveries")
        if sent_ids - received_ids:
            self.fail(scenario, f"{len(sent_ids - received_ids)} webhook deliveries never reached the endpoint")
        if received_ids - sent_ids:
            self.fail(scenario, f"{len(received_ids - sent_ids)} webhooks received that were not sent")
        self.report(scenario, figures)

    def scenario_serve_all(self, scenario: str) -> None:
        """The three services in one process (`serve all`, as the README runs them): SIGTERM
        under load stops all three, in flight requests complete, the process exits in time."""
        drain = drain_seconds()
        for service in self.services:
            service.terminate(drain + 30)
        together = Service(self, "all", self.register.port)
        started = time.monotonic()
        try:
            together.start()
            for service in self.services:
                service.process = together.process
            ready = {s.name: round(s.wait_ready(started), 2) for s in self.services}
            with Load(self, CLIENTS) as load:
                time.sleep(WARMUP)
                signalled = time.monotonic()
                exited, status = together.terminate(drain + 30)
        finally:
            together.kill()
        margin = 0.25
        cut_off = [w for w in load.writes if w.answer.error and w.answer.started < signalled - margin]
        bad_status = [w for w in load.writes if w.answer.status and w.answer.status != 201]
        still_listening = [s.name for s in self.services if not s.ready().error]
        # Every service of the process stops at the signal, the receiver of the register's
        # events too, so the register's flush may find it gone: those wait for the next start.
        pending_after_exit = self.outbox_pending()
        for service in self.services:
            service.start()
        drained = self.wait_outbox_drained(READY_TIMEOUT)
        counts = classify(load.writes)[0]
        figures = {
            "seconds_to_ready_together": ready,
            "sent": counts["sent"],
            "acknowledged": counts["acknowledged"],
            "in_flight_failed": len(cut_off),
            "unexpected_status": len(bad_status),
            "seconds_to_exit_after_sigterm": round(exited, 2),
            "exit_status": status,
            "outbox_pending_after_exit": pending_after_exit,
            "seconds_to_outbox_drained_after_restart": round(drained, 2) if drained is not None else None,
        }
        if drained is None:
            self.fail(scenario, "the outbox was not drained after the restart")
        for write in cut_off[:10]:
            self.fail(scenario, f"request begun {signalled - write.answer.started:.2f} s before SIGTERM failed: "
                                f"{write.answer.describe()}")
        for write in bad_status[:10]:
            self.fail(scenario, f"{write.agb}: {write.answer.describe()}")
        if status is None:
            self.fail(scenario, f"serve all did not exit within {drain + 30} s of SIGTERM")
        elif status != 0:
            self.fail(scenario, f"serve all exited with status {status}")
        if exited > drain:
            self.fail(scenario, f"exit took {exited:.1f} s, longer than the drain time ({drain} s)")
        if still_listening:
            self.fail(scenario, f"still answering after the process exited: {still_listening}")
        acknowledged = [w.agb for w in load.writes if w.answer.status == 201]
        lost = sorted(set(acknowledged) - self.stored_agbs(acknowledged))
        figures["lost"] = len(lost)
        if lost:
            self.fail(scenario, f"{len(lost)} acknowledged writes lost: {lost[:10]}")
        figures.update(self.check_events(scenario))
        self.report(scenario, figures)

    def scenario_pool(self, scenario: str) -> None:
        self.register.terminate(drain_seconds() + 30)
        self.register.start({
            "PRR__DATABASE__POOL_SIZE": str(POOL_SIZE),
            "PRR__DATABASE__POOL_TIMEOUT_MS": str(POOL_TIMEOUT_MS),
        })
        body = self.practices.next_body()
        created = request(self.register.base, "POST", "/v1/practices", body, self.auth())
        if created.status != 201:
            raise Failure(f"could not register a practice: {created.describe()}")
        path = f"/v1/practices/{body['agb']}"
        holder = LockHolder(self.cluster, "register", "LOCK TABLE practices IN ACCESS EXCLUSIVE MODE")
        held: list[Answer] = []

        def read() -> None:
            held.append(request(self.register.base, "GET", path, headers=self.auth()))

        threads = [threading.Thread(target=read) for _ in range(POOL_SIZE)]
        for thread in threads:
            thread.start()
        waiting = 0
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            waiting = int(self.cluster.scalar(
                "register",
                "SELECT count(*) FROM pg_stat_activity WHERE datname = 'register' AND wait_event_type = 'Lock'"))
            if waiting >= POOL_SIZE:
                break
            time.sleep(0.1)
        probes = [request(self.register.base, "GET", path, headers=self.auth()) for _ in range(5)]
        probes += [request(self.register.base, "POST", "/v1/practices", self.practices.next_body(), self.auth())
                   for _ in range(2)]
        ready = self.register.ready()
        released = time.monotonic()
        holder.release()
        for thread in threads:
            thread.join()
        after = None
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            answer = request(self.register.base, "GET", path, headers=self.auth())
            if answer.status == 200:
                after = time.monotonic() - released
                break
            time.sleep(0.1)
        limit = POOL_TIMEOUT_MS / 1000 + 2.0
        unavailable = [p for p in probes if p.is_unavailable_problem()]
        figures = {
            "pool_size": POOL_SIZE,
            "pool_timeout_ms": POOL_TIMEOUT_MS,
            "connections_waiting_on_lock": waiting,
            "probes_sent": len(probes),
            "probes_503_with_retry_after": len(unavailable),
            "slowest_probe_seconds": round(max(p.elapsed for p in probes), 3),
            "ready_status_while_exhausted": ready.status or ready.describe(),
            "held_requests_completed_200": sum(1 for a in held if a.status == 200),
            "seconds_to_2xx_after_release": round(after, 2) if after is not None else None,
        }
        if waiting < POOL_SIZE:
            self.fail(scenario, f"only {waiting} of {POOL_SIZE} pool connections waited on the lock")
        for probe in probes:
            if not probe.is_unavailable_problem():
                self.fail(scenario, f"with the pool exhausted: {probe.describe()}")
            elif probe.elapsed > limit:
                self.fail(scenario, f"a 503 took {probe.elapsed:.1f} s (more than {limit:.1f} s)")
        if any(a.status != 200 for a in held):
            self.fail(scenario, f"requests waiting on the lock: {[a.describe() for a in held if a.status != 200]}")
        if after is None:
            self.fail(scenario, "no 2xx after the lock was released")
        self.report(scenario, figures)
        self.register.terminate(drain_seconds() + 30)
        self.register.start()


def show_logs(scratch: Path, lines: int = 60) -> None:
    for path in sorted(scratch.glob("*.log")):
        text = path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
        print(f"----- {path.name} (last {lines} lines) -----", file=sys.stderr)
        print("\n".join(text), file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("binary", type=Path, help="the praktijkregister executable")
    parser.add_argument("--only", default=",".join(SCENARIOS), help="comma-separated scenarios to run")
    parser.add_argument("--output", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args()
    binary = args.binary.resolve()
    if not os.access(binary, os.X_OK):
        sys.exit(f"error: not executable: {args.binary}")
    chosen = [s.strip() for s in args.only.split(",") if s.strip()]
    for name in chosen:
        if name not in SCENARIOS:
            sys.exit(f"error: unknown scenario {name!r} (choose from {', '.join(SCENARIOS)})")

    # SIGTERM (a CI timeout) tears down like Ctrl-C: the services and the cluster are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    scratch = Path(tempfile.mkdtemp(prefix="praktijkregister-resilience."))
    # The cluster's owner must reach its directory below this one.
    scratch.chmod(0o755)
    suite = Suite(binary, scratch)
    started = time.monotonic()
    try:
        print("==> set-up: private PostgreSQL cluster and three service processes", flush=True)
        suite.set_up()
        log(f"PostgreSQL {suite.cluster.bindir.parent.name} on 127.0.0.1:{suite.cluster.port}, "
            f"scratch directory {scratch}")
        runs = {
            "a-fast": ("PostgreSQL restarted (fast) under write load", lambda n: suite.scenario_postgres(n, False)),
            "a-crash": ("PostgreSQL crashed (immediate stop) under write load", lambda n: suite.scenario_postgres(n, True)),
            "b": ("SIGTERM to the register under load", suite.scenario_sigterm),
            "c": (f"the receiver (insurer-export) down for {RECEIVER_DOWN:.0f} s", suite.scenario_receiver_down),
            "d": (f"pool exhausted ({POOL_SIZE} connections held on a lock)", suite.scenario_pool),
            "e": ("SIGTERM to `serve all` (the three services in one process) under load", suite.scenario_serve_all),
        }
        for name in chosen:
            title, run = runs[name]
            print(f"==> {name}: {title}", flush=True)
            scenario_started = time.monotonic()
            try:
                run(name)
            except Failure as error:
                suite.fail(name, str(error))
            log(f"scenario took {time.monotonic() - scenario_started:.1f} s")
    except Exception:
        show_logs(scratch)
        raise
    finally:
        if suite.failures:
            show_logs(scratch)
        suite.tear_down()
        if KEEP:
            print(f"scratch directory kept: {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    total = time.monotonic() - started
    document = {"seconds": round(total, 1), "scenarios": suite.figures, "failures": suite.failures}
    print("==> figures")
    print(json.dumps(document, indent=2))
    if args.output:
        args.output.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    if suite.failures:
        print(f"resilience: {len(suite.failures)} failure(s)", file=sys.stderr)
        return 1
    print(f"resilience: all scenarios passed in {total:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
