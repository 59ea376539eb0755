"""Warrant as real processes on loopback: gunicorn, Celery workers, an HTTP client.

The topology, fault and load tests drive Warrant the way a deployment and a
browser do: over HTTP, against processes started here, on PostgreSQL and Redis.
Every process runs in a process group of its own, so that stopping or killing
it takes its children (gunicorn's and Celery's pools) with it.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Starting gunicorn or a prefork Celery worker takes 2-3 s on the CI machine.
START_TIMEOUT = 45


def wait_until(predicate, timeout: float, what: str, processes=()):
    """Poll ``predicate`` every 0.1 s until it is truthy, and return its value; fail the
    test with the processes' logs (anything with ``name`` and ``log_tail()``) after ``timeout``."""
    import pytest

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    logs = "\n\n".join(f"--- {p.name}\n{p.log_tail()}" for p in processes)
    pytest.fail(f"timed out after {timeout} s waiting for {what}\n{logs}")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def app_env(*, database_url: str, redis_url: str | None = None, **extra: str) -> dict[str, str]:
    """The environment of a Warrant process in the production topology, on loopback.

    Production settings, minus what needs TLS in front (there is none on
    loopback): no HTTPS redirect, cookies not marked Secure.
    """
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "warrant-live-tests-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "SECURE_HSTS_SECONDS": "0",
        "DATABASE_URL": database_url,
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("CELERY_BROKER_URL", None)
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    env.update(extra)
    return env


class Process:
    """One child process with its log file, in a process group of its own."""

    def __init__(self, name: str, args: list[str], *, env: dict, log_dir: Path):
        self.name = name
        self.args = args
        self.env = env
        self.log_path = log_dir / f"{name}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> Process:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self.args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def wait_for_log(self, marker: str, timeout: float = START_TIMEOUT) -> None:
        """Wait until the log holds ``marker``; fail with the log if the process dies first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if marker in self.log():
                return
            if not self.alive:
                raise RuntimeError(f"{self.name} exited:\n{self.log_tail()}")
            time.sleep(0.1)
        raise RuntimeError(f"{self.name}: no {marker!r} in {timeout} s:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL the process group, as an out-of-memory kill or a crash would."""
        if self.alive:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self, timeout: float = 15) -> None:
        if not self.alive:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()


def manage(*args: str, env: dict, timeout: float = 300) -> subprocess.CompletedProcess:
    """``manage.py`` in a child process; raises with its output if it fails."""
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=timeout,
    )
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done


def start_gunicorn(
    *, env: dict, port: int, log_dir: Path, workers: int = 2, threads: int = 1,
    name: str = "web",
) -> Process:
    """gunicorn serving Warrant on 127.0.0.1:port; returns once it answers HTTP."""
    process = Process(
        name,
        [
            sys.executable, "-m", "gunicorn", "config.wsgi:application",
            "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
            "--threads", str(threads), "--timeout", "60", "--graceful-timeout", "5",
            # Its default control socket is one path per user, shared by every gunicorn.
            "--no-control-socket",
        ],
        env=env, log_dir=log_dir,
    ).start()
    wait_http(f"http://127.0.0.1:{port}/accounts/login/", process=process)
    return process


def start_worker(
    *, env: dict, log_dir: Path, name: str = "worker", queue: str | None = None,
    concurrency: int = 1,
) -> Process:
    """A prefork ``celery worker``; returns once it is ready to take jobs."""
    args = [
        sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=prefork",
        f"--concurrency={concurrency}", "--loglevel=INFO", "--without-mingle",
        "--without-gossip", "-n", f"{name}@%h",
    ]
    if queue:
        args += ["-Q", queue]
    process = Process(name, args, env=env, log_dir=log_dir).start()
    process.wait_for_log(" ready.")
    return process


def wait_http(url: str, *, timeout: float = START_TIMEOUT, process: Process | None = None) -> int:
    """Wait until ``url`` answers with any HTTP status; returns the status."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if process is not None and not process.alive:
            raise RuntimeError(f"{process.name} exited:\n{process.log_tail()}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code
        except OSError as exc:
            last = exc
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer in {timeout} s ({last})")


@dataclass
class Response:
    status: int
    url: str
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self):
        return json.loads(self.body)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class HttpClient:
    """A browser's part of HTTP: cookies, the CSRF token, form posts. No JavaScript.

    ``follow=False`` on a request returns a redirect as it is (status 302).
    """

    def __init__(self, base_url: str, *, timeout: float = 30):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.cookies = http.cookiejar.CookieJar()
        cookie_handler = urllib.request.HTTPCookieProcessor(self.cookies)
        self._follow = urllib.request.build_opener(cookie_handler)
        self._stay = urllib.request.build_opener(cookie_handler, _NoRedirect)

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.cookies if c.name == name), None)

    def request(
        self, method: str, path: str, *, data: dict | None = None, json_body=None,
        headers: dict | None = None, follow: bool = True,
    ) -> Response:
        url = path if path.startswith("http") else self.base_url + path
        body = None
        sent = {"Referer": self.base_url + "/", "Origin": self.base_url}
        if data is not None:
            body = urllib.parse.urlencode(data, doseq=True).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        elif json_body is not None:
            body = json.dumps(json_body).encode()
            sent["Content-Type"] = "application/json"
        if method != "GET" and (token := self.cookie("csrftoken")):
            sent["X-CSRFToken"] = token
        sent.update(headers or {})
        request = urllib.request.Request(url, data=body, headers=sent, method=method)
        opener = self._follow if follow else self._stay
        try:
            with opener.open(request, timeout=self.timeout) as response:
                return Response(response.status, response.url, dict(response.headers),
                                response.read())
        except urllib.error.HTTPError as exc:
            return Response(exc.code, url, dict(exc.headers), exc.read())

    def get(self, path: str, **kwargs) -> Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, data: dict | None = None, **kwargs) -> Response:
        return self.request("POST", path, data=data if data is not None else {}, **kwargs)

    def login(self, username: str, password: str) -> Response:
        """Log in through the login form, as a person does; raises if it is refused."""
        self.get("/accounts/login/")
        response = self.post(
            "/accounts/login/",
            {"username": username, "password": password,
             "csrfmiddlewaretoken": self.cookie("csrftoken") or ""},
        )
        if response.status != 200 or "/accounts/login/" in response.url:
            raise RuntimeError(f"log-in as {username} refused ({response.status})")
        return response


def postgres_server_url() -> str | None:
    """The PostgreSQL server the suite runs on (CI's DATABASE_URL), or None."""
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else None


def postgres_database(server_url: str, name: str, *, drop: bool = False) -> str:
    """Create (or, with ``drop``, remove) database ``name`` on that server; returns its URL."""
    import psycopg

    parts = urllib.parse.urlsplit(server_url)
    admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop:
            conn.execute(f'CREATE DATABASE "{name}"')
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))
