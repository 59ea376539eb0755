#!/usr/bin/env python3
"""Set up and run Warrant with nothing but Python >= 3.11.

    python3 run.py demo    # create .venv, install, migrate, load the demo, serve on :8000
    python3 run.py test    # create .venv, install with test tools, run the whole suite
    python3 run.py stack   # the production topology without Docker: gunicorn + Celery
                           # workers on PostgreSQL and Redis (python3 run.py stack --help)

Each step is skipped when already done; arguments after ``test`` go to pytest.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _run(*args: str, **kwargs) -> None:
    result = subprocess.run(args, cwd=ROOT, **kwargs)
    if result.returncode != 0:
        sys.exit(result.returncode)


def ensure_venv(extras: str) -> None:
    if sys.version_info < (3, 11):
        sys.exit("Warrant needs Python 3.11 or newer")
    if not PYTHON.exists():
        print("creating .venv …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    # Reinstall only when pyproject.toml changed since the last install.
    stamp = VENV / f".installed-{extras or 'base'}"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    # Any install with extras includes the base one: `test` then `stack` installs nothing.
    stamps = [stamp] if extras else sorted(VENV.glob(".installed-*"))
    if any(s.exists() and s.read_text() == digest for s in stamps):
        return
    print("installing Warrant and its dependencies into .venv …", flush=True)
    target = f".[{extras}]" if extras else "."
    _run(str(PYTHON), "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    _run(str(PYTHON), "-m", "pip", "install", "--quiet", "-e", target)
    stamp.write_text(digest)


def demo(args: list[str]) -> None:
    ensure_venv("")
    env = {**os.environ}
    data_dir = Path(env.setdefault("WARRANT_DATA_DIR", str(ROOT / "var")))
    data_dir.mkdir(parents=True, exist_ok=True)
    manage = [str(PYTHON), "manage.py"]
    _run(*manage, "migrate", "--verbosity", "0", env=env)
    _run(*manage, "demo", *args, env=env)
    print("\nOpen http://127.0.0.1:8000/ and log in with an account above.", flush=True)
    _run(*manage, "runserver", "127.0.0.1:8000", env=env)


#: Test processes at most (pytest-xdist), one per core up to this: each has a test
#: database, a Redis database for the topology tests and its own Chromium.
MAX_TEST_PROCESSES = 4


def _test_processes(args: list[str]) -> list[str]:
    """pytest-xdist's options for the suite: one process per core (at most
    MAX_TEST_PROCESSES), a test file's tests in one process (its module fixtures, a
    Chromium or a built project, are made once); none when the arguments choose
    (``-n``, ``--numprocesses``, ``-p no:xdist``) or there is a single core.

    The tests wait on PostgreSQL, the worker processes and Chromium much of the time:
    on the 2-core CI machine two processes take the suite from some 17 to some 10 minutes.
    """
    chosen = any(a.startswith(("-n", "--numprocesses", "--dist")) or a == "no:xdist"
                 or a == "-pno:xdist" for a in args)
    cores = min(os.cpu_count() or 1, MAX_TEST_PROCESSES)
    if chosen or cores < 2:
        return []
    return ["-n", str(cores), "--dist", "loadfile"]


def test(args: list[str]) -> None:
    ensure_venv("dev")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    _run(str(PYTHON), "-m", "pytest", *_test_processes(args), *args, env=env)


# ----------------------------------------------------------------------------- stack

#: How long the stack may take from starting gunicorn to /healthz answering 200 with the
#: broker too (START_CHECK): a stack whose workers cannot reach Redis has not started.
STACK_START_TIMEOUT = 60
START_CHECK = "healthz?require=broker"
#: How long the children get to finish their requests and tasks after SIGTERM/SIGINT
#: before they are killed (gunicorn's --graceful-timeout is below it).
STACK_STOP_TIMEOUT = 30
#: The same when the stack fails to start.
FAILED_START_TIMEOUT = 5
LOOPBACK = ("127.0.0.1", "localhost", "::1")


#: The signals that stop the stack gracefully (a second one kills at once). SIGHUP: the
#: terminal closed or the ssh session dropped; SIGQUIT: Ctrl-\ in a terminal.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
#: How long a manage.py step (migrate, collectstatic, demo) gets to exit after SIGTERM.
STEP_STOP_TIMEOUT = 10
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _parent_death_signal():
    """On Linux, a ``preexec_fn`` that has the kernel send the child SIGTERM when this
    process dies, however it dies: a SIGKILL (a supervisor's last resort, the OOM
    killer) runs no handler here, and would leave gunicorn and the workers running,
    each in its own session. None where prctl is not available.

    The signal follows the death of the thread that started the child: this script
    has only the main thread. The child inherits the setting through exec, its own
    children do not (gunicorn's and Celery's pools are watched by their leader).
    """
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl  # loaded here, not after fork
    except (OSError, AttributeError):
        return None
    parent = os.getpid()
    sigterm = int(signal.SIGTERM)

    def preexec() -> None:
        # Between fork and exec: one system call, and no Python objects made.
        prctl(PR_SET_PDEATHSIG, sigterm)
        if os.getppid() != parent:  # this process died before the call: no signal will come
            os._exit(1)

    return preexec


def _step(args: list[str], env: dict[str, str], stop_signal: list[int], preexec) -> None:
    """Run one manage.py step to its end, or stop it (SIGTERM) when a stop signal arrives.

    A failed step ends the script with its status; a stopped one ends it with 0, as a
    stop of the running stack does (nothing else runs yet: no child to stop).
    """
    proc = subprocess.Popen(args, cwd=ROOT, env=env, preexec_fn=preexec)
    while True:
        try:
            code = proc.wait(timeout=0.1)
            break
        except subprocess.TimeoutExpired:
            if stop_signal:
                proc.terminate()
                try:
                    proc.wait(timeout=STEP_STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
                break
    if stop_signal:
        print(f"run.py stack: {signal.Signals(stop_signal[0]).name}: stopped during "
              f"{args[2]}; nothing else was running", flush=True)
        sys.exit(0)
    if code != 0:
        sys.exit(code)


def _refuse(message: str) -> None:
    print(f"run.py stack: {message}", file=sys.stderr, flush=True)
    sys.exit(2)


def _stack_args(args: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python3 run.py stack",
        description="Run Warrant's production topology natively (what compose.yaml runs, "
        "without Docker): migrate, collectstatic, gunicorn and Celery workers, on the "
        "PostgreSQL of DATABASE_URL and the Redis of REDIS_URL. Stops on SIGINT, SIGTERM, "
        "SIGHUP and SIGQUIT.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address gunicorn binds")
    parser.add_argument("--port", type=int, default=os.environ.get("PORT") or "8000",
                        help="port gunicorn binds (default: $PORT, else 8000)")
    parser.add_argument("--web-workers", type=int, default=3, metavar="N",
                        help="gunicorn worker processes (default 3)")
    parser.add_argument("--celery-workers", "--workers-celery", type=int, default=1,
                        metavar="N", dest="celery_workers",
                        help="Celery worker processes, like --scale worker=N (default 1)")
    parser.add_argument("--concurrency", type=int, default=2, metavar="N",
                        help="jobs each Celery worker runs at once (default 2)")
    parser.add_argument("--insecure-http", action="store_true",
                        help="plain HTTP on loopback, no TLS proxy in front: no HTTPS redirect, "
                        "cookies not Secure, no HSTS; SECRET_KEY and ALLOWED_HOSTS get "
                        "defaults. Only with a loopback --host.")
    parser.add_argument("--demo", action="store_true",
                        help="load the demo project (manage.py demo) before starting")
    parser.add_argument("--demo-password", metavar="PASSWORD",
                        help="with --demo: this password for every demo account")
    options = parser.parse_args(args)
    if options.web_workers < 1 or options.celery_workers < 1 or options.concurrency < 1:
        _refuse("--web-workers, --celery-workers and --concurrency must be at least 1")
    return options


def _stack_env(options: argparse.Namespace) -> dict[str, str]:
    """The children's environment: production settings, refused when incomplete."""
    env = {**os.environ}
    database_url = env.get("DATABASE_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        _refuse("set DATABASE_URL to a PostgreSQL database (postgres://user@host:5432/name)")
    if not env.get("REDIS_URL"):
        _refuse("set REDIS_URL to the Redis the Celery workers use (redis://host:6379/0)")
    # REDIS_URL is the broker: an old CELERY_BROKER_URL in the shell must not win over it.
    env.pop("CELERY_BROKER_URL", None)
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.production"
    env["PYTHONUNBUFFERED"] = "1"
    if options.insecure_http:
        if options.host not in LOOPBACK:
            _refuse("--insecure-http serves plain HTTP: only on a loopback --host (127.0.0.1)")
        # What needs TLS in front is off; there is none on loopback.
        env.update(SECURE_SSL_REDIRECT="false", SESSION_COOKIE_SECURE="false",
                   CSRF_COOKIE_SECURE="false", SECURE_HSTS_SECONDS="0")
        env.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
        # Sessions do not outlive this stack unless SECRET_KEY is given.
        env.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    else:
        missing = [name for name in ("SECRET_KEY", "ALLOWED_HOSTS") if not env.get(name)]
        if missing:
            _refuse(f"set {' and '.join(missing)} (production behind TLS), "
                    "or pass --insecure-http for a plain-HTTP trial on loopback")
    return env


def _probe_headers(env: dict[str, str]) -> dict[str, str]:
    """Ask /healthz as the TLS proxy in front would: a Host that ALLOWED_HOSTS admits,
    and X-Forwarded-Proto so that SECURE_SSL_REDIRECT does not answer with a redirect."""
    hosts = [h.strip() for h in env["ALLOWED_HOSTS"].split(",") if h.strip()]
    host = next((h.lstrip(".") for h in hosts if h != "*"), "localhost")
    return {"Host": host, "X-Forwarded-Proto": "https"}


def _healthy(url: str, headers: dict[str, str]) -> bool:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status == 200
    except OSError:  # refused, timed out, or an HTTP error status (503: a part is down)
        return False


def _group_gone(pgid: int, timeout: float) -> bool:
    """Wait until no process of group ``pgid`` is left (a killed one takes a moment)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def _stop(children: dict[str, subprocess.Popen], signals: list[int], timeout: float) -> bool:
    """Stop every child gracefully; True if all exited within ``timeout`` seconds.

    SIGTERM to each child's leader (gunicorn's arbiter, Celery's main process):
    gunicorn finishes its requests, Celery its running jobs (a warm shutdown).
    Whatever is left after ``timeout``, or at once when another signal arrives
    (a second Ctrl-C), is killed with its whole process group.
    """
    for proc in children.values():
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGTERM)
    received = len(signals)
    deadline = time.monotonic() + timeout
    while any(proc.poll() is None for proc in children.values()):
        if time.monotonic() > deadline or len(signals) > received:
            break
        time.sleep(0.1)
    in_time = all(proc.poll() is not None for proc in children.values())
    # Anything left in a child's process group (a pool process, a hung job) is killed.
    for name, proc in children.items():
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            continue
        print(f"run.py stack: killed what was left of {name}", file=sys.stderr, flush=True)
        proc.wait()
        _group_gone(proc.pid, timeout=5)
    return in_time


def stack(args: list[str]) -> None:
    options = _stack_args(args)
    env = _stack_env(options)
    ensure_venv("")
    stop_signal: list[int] = []

    def on_signal(signum, _frame):
        stop_signal.append(signum)

    # Before the first step: a signal from now on stops the running step, or the
    # children, instead of killing this process alone and leaving them behind.
    for signum in STOP_SIGNALS:
        signal.signal(signum, on_signal)
    preexec = _parent_death_signal()

    manage = [str(PYTHON), "manage.py"]
    steps = [[*manage, "migrate", "--noinput", "--verbosity", "1"],
             [*manage, "collectstatic", "--noinput", "--verbosity", "0"]]
    if options.demo:
        password = ["--password", options.demo_password] if options.demo_password else []
        steps.append([*manage, "demo", *password])
    for step in steps:
        _step(step, env, stop_signal, preexec)

    host = f"[{options.host}]" if ":" in options.host else options.host
    commands = {
        "web": [
            str(PYTHON), "-m", "gunicorn", "config.wsgi:application",
            "--bind", f"{host}:{options.port}", "--workers", str(options.web_workers),
            "--timeout", "60", "--graceful-timeout", str(STACK_STOP_TIMEOUT - 5),
            "--access-logfile", "-",
            # Its control socket's default path is one per user, shared by every gunicorn.
            "--no-control-socket",
        ],
    }
    for i in range(1, options.celery_workers + 1):
        commands[f"worker{i}"] = [
            str(PYTHON), "-m", "celery", "-A", "config", "worker", "--loglevel", "INFO",
            "--concurrency", str(options.concurrency), "-n", f"worker{i}@%h",
            "--without-gossip", "--without-mingle",
        ]
    children: dict[str, subprocess.Popen] = {}
    for name, command in commands.items():
        # A session (and process group) of its own: a terminal's Ctrl-C reaches this
        # process only, which stops the children in order; the group holds the child's pool.
        # preexec: told (SIGTERM) when this process dies, even by SIGKILL.
        children[name] = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True,
                                          preexec_fn=preexec)
        print(f"run.py stack: started {name} (pid {children[name].pid})", flush=True)

    url = f"http://{host}:{options.port}/"
    probe = _probe_headers(env)
    deadline = time.monotonic() + STACK_START_TIMEOUT
    ready = False
    code = 0
    while not stop_signal:
        dead = {name: proc.returncode for name, proc in children.items()
                if proc.poll() is not None}
        if dead:
            name, status = next(iter(dead.items()))
            print(f"run.py stack: {name} exited with status {status}; stopping the others",
                  file=sys.stderr, flush=True)
            # Before it is up nothing is being served: no long grace period (a gunicorn
            # worker still booting does not even see a SIGTERM).
            _stop(children, stop_signal, STACK_STOP_TIMEOUT if ready else FAILED_START_TIMEOUT)
            sys.exit(1)
        if not ready:
            if _healthy(url + START_CHECK, probe):
                ready = True
                behind = "" if options.insecure_http else ", behind your TLS proxy"
                print(f"run.py stack: Warrant is up at {url} (web + {options.celery_workers} "
                      f"worker(s){behind}); Ctrl-C stops it", flush=True)
            elif time.monotonic() > deadline:
                print(f"run.py stack: {url}{START_CHECK} did not answer 200 in "
                      f"{STACK_START_TIMEOUT} s; stopping", file=sys.stderr, flush=True)
                _stop(children, stop_signal, FAILED_START_TIMEOUT)
                sys.exit(1)
            time.sleep(0.2)
        else:
            time.sleep(0.5)
    # SIGINT (Ctrl-C), SIGTERM, SIGHUP and SIGQUIT all stop the stack gracefully: the
    # children get SIGTERM (Celery would exit with status 1 after a SIGINT, and a SIGQUIT
    # is its cold shutdown, which abandons running jobs); a second one kills them.
    print(f"run.py stack: {signal.Signals(stop_signal[0]).name}: stopping "
          "(again to kill at once)", flush=True)
    if not _stop(children, stop_signal, STACK_STOP_TIMEOUT):
        code = 1
    failed = {name: proc.returncode for name, proc in children.items() if proc.returncode != 0}
    if failed:
        print(f"run.py stack: exit statuses {failed}", file=sys.stderr, flush=True)
        code = 1
    sys.exit(code)


def main() -> None:
    commands = {"demo": demo, "test": test, "stack": stack}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(f"usage: python3 run.py {{{'|'.join(commands)}}} [args...]")
    commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
