#!/usr/bin/env python3
"""Set up and run Warrant with nothing but Python >= 3.11.

    python3 run.py demo    # create .venv, install, migrate, load the demo, serve on :8000
    python3 run.py test    # create .venv, install with test tools, run the whole suite

Each step is skipped when already done; arguments after ``test`` go to pytest.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
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
    if stamp.exists() and stamp.read_text() == digest:
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


def test(args: list[str]) -> None:
    ensure_venv("dev")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    _run(str(PYTHON), "-m", "pytest", *args, env=env)


def main() -> None:
    commands = {"demo": demo, "test": test}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(f"usage: python3 run.py {{{'|'.join(commands)}}} [args...]")
    commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
