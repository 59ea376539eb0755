"""Settings come from the environment only; each case runs in a fresh process."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVICE_VARS = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "SECRET_KEY", "DEBUG",
                "ALLOWED_HOSTS", "CELERY_TASK_ALWAYS_EAGER", "DJANGO_SETTINGS_MODULE",
                # Set by the browser tests while Playwright runs; never in a deployment.
                "DJANGO_ALLOW_ASYNC_UNSAFE")

PROBE = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'engine': s.DATABASES['default']['ENGINE'], "
    "'name': str(s.DATABASES['default']['NAME']), 'eager': s.CELERY_TASK_ALWAYS_EAGER, "
    "'broker': s.CELERY_BROKER_URL, 'debug': s.DEBUG}))"
)


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in SERVICE_VARS}
    env.update(extra)
    return env


def _settings(module: str, **extra) -> dict:
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True,
                            text=True, env=_env(DJANGO_SETTINGS_MODULE=module, **extra),
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_with_no_variable_the_embedded_default_is_sqlite_and_in_process_tasks(tmp_path):
    got = _settings("config.settings.local", WARRANT_DATA_DIR=str(tmp_path))
    assert got["engine"] == "django.db.backends.sqlite3"
    assert got["name"] == str(tmp_path / "warrant.sqlite3")
    assert got["eager"] is True and got["broker"] == "memory://"
    assert not (tmp_path / "warrant.sqlite3").exists()  # nothing touched at import time


def test_database_and_redis_urls_switch_to_the_real_services():
    got = _settings("config.settings.local",
                    DATABASE_URL="postgres://u:p@db.internal:5432/warrant",
                    REDIS_URL="redis://broker.internal:6379/0")
    assert got["engine"] == "annotator.backends.postgresql"  # Django's, health-checked by poll
    assert got["name"] == "warrant"
    assert got["eager"] is False and got["broker"] == "redis://broker.internal:6379/0"


def test_production_settings_pass_check_deploy_at_warning_level():
    env = _env(DJANGO_SETTINGS_MODULE="config.settings.production",
               SECRET_KEY="k" * 20 + "-a-long-random-secret-key-for-the-deploy-check-9f3",
               ALLOWED_HOSTS="warrant.example.org", DEBUG="0")
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level",
                             "WARNING"], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = _env(DJANGO_SETTINGS_MODULE="config.settings.production")
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_the_example_files_placeholder_key():
    example = (ROOT / ".env.example").read_text()
    key = next(line.split("=", 1)[1] for line in example.splitlines()
               if line.startswith("SECRET_KEY="))
    env = _env(DJANGO_SETTINGS_MODULE="config.settings.production", SECRET_KEY=key,
               ALLOWED_HOSTS="warrant.example.org")
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "SECRET_KEY is the example's placeholder or too weak" in result.stderr


def _postgres_options(**extra) -> dict:
    probe = ("import json, django; django.setup(); from django.conf import settings as s; "
             "print(json.dumps(s.DATABASES['default'].get('OPTIONS', {})))")
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                            text=True, timeout=60,
                            env=_env(DJANGO_SETTINGS_MODULE="config.settings.local",
                                     DATABASE_URL="postgres://u:p@db.internal:5432/warrant",
                                     **extra))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_postgres_statements_are_bounded_by_default_and_the_bound_is_configurable():
    """Issue 11, point 11 (tests/faults/test_postgres_statement_timeout.py runs it for real)."""
    assert _postgres_options()["options"] == "-c statement_timeout=30000"
    assert _postgres_options(DATABASE_STATEMENT_TIMEOUT="7")["options"] == (
        "-c statement_timeout=7000")
    assert "options" not in _postgres_options(DATABASE_STATEMENT_TIMEOUT="0")


def test_postgres_prepares_the_save_paths_statements_unless_told_not_to():
    """annotator.prepared: psycopg's threshold on; None (Django's default) turns it off."""
    assert _postgres_options()["prepare_threshold"] == 5
    assert "prepare_threshold" not in _postgres_options(DATABASE_PREPARED_STATEMENTS="0")
