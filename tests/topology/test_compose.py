"""compose.yaml, as Debian's docker-compose (v1.29) reads it, and .env.example.

No container runs here (there is no Docker engine in CI): ``docker-compose
config`` parses and validates the file, resolves ``.env`` and the YAML
anchors, and prints the result, which the tests read. It holds what
``docker compose up --scale worker=N`` needs.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import urllib.parse

import pytest
import yaml

from tests import live
from tests.conftest import skip_or_fail

SERVICES = {"postgres", "redis", "migrate", "web", "worker"}


@pytest.fixture(scope="module")
def compose(tmp_path_factory) -> dict:
    binary = shutil.which("docker-compose")
    if binary is None:
        skip_or_fail("docker-compose is not installed (apt-get install docker-compose)")
    # A copy beside a .env made from .env.example, as the README's first step does.
    folder = tmp_path_factory.mktemp("compose")
    shutil.copy(live.ROOT / "compose.yaml", folder / "compose.yaml")
    shutil.copy(live.ROOT / ".env.example", folder / ".env")
    done = subprocess.run(
        [binary, "-f", "compose.yaml", "config"], cwd=folder, capture_output=True, text=True,
        timeout=60,
    )
    assert done.returncode == 0, f"docker-compose config failed:\n{done.stderr}"
    return yaml.safe_load(done.stdout)


def test_compose_runs_the_five_services(compose):
    assert set(compose["services"]) == SERVICES
    assert set(compose["volumes"]) == {"pgdata", "redisdata", "media"}


@pytest.mark.parametrize("service", ["postgres", "redis", "web", "worker"])
def test_every_long_running_service_has_a_healthcheck(compose, service):
    check = compose["services"][service]["healthcheck"]
    assert check["test"] and check.get("timeout") and check.get("interval")


def test_web_healthcheck_asks_healthz_as_the_tls_proxy_would(compose):
    test = compose["services"]["web"]["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"]
    assert "/healthz" in test[3] and "X-Forwarded-Proto" in test[3]
    compile(test[3], "healthcheck", "exec")  # the one-liner is valid Python


def test_worker_scales_with_no_name_and_no_ports(compose):
    worker = compose["services"]["worker"]
    assert "container_name" not in worker
    assert not worker.get("ports")
    assert worker["command"][:4] == ["celery", "-A", "config", "worker"]
    assert "$HOSTNAME" in " ".join(worker["healthcheck"]["test"]), "each replica checks itself"


def test_web_and_worker_share_the_media_volume_and_settings(compose):
    services = compose["services"]
    for name in ("web", "worker", "migrate"):
        service = services[name]
        assert any(v.startswith("media:/data") for v in service["volumes"]), name
        env = service["environment"]
        assert env["WARRANT_DATA_DIR"] == "/data"
        assert env["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
        assert env["DATABASE_URL"].startswith("postgres://warrant:") and "@postgres:5432/" in (
            env["DATABASE_URL"]
        )
        assert env["REDIS_URL"].startswith("redis://redis:6379/")
        assert env["SECRET_KEY"], "from .env"


def test_data_survives_restarts(compose):
    services = compose["services"]
    assert "pgdata:/var/lib/postgresql/data" in services["postgres"]["volumes"][0]
    assert services["redis"]["volumes"][0].startswith("redisdata:/data")
    assert "--appendonly" in services["redis"]["command"]
    assert services["redis"]["command"][services["redis"]["command"].index("--appendonly") + 1] \
        == "yes"


def test_start_order_waits_for_health_and_migrations(compose):
    services = compose["services"]
    healthy = {"postgres": {"condition": "service_healthy"},
               "redis": {"condition": "service_healthy"}}
    assert services["migrate"]["depends_on"] == healthy
    for name in ("web", "worker"):
        assert services[name]["depends_on"] == {
            **healthy, "migrate": {"condition": "service_completed_successfully"},
        }, name
    assert services["migrate"]["command"][-2:] == ["migrate", "--noinput"]
    assert services["migrate"]["restart"] == "no"


def test_static_files_are_collected_when_the_image_is_built():
    dockerfile = (live.ROOT / "Dockerfile").read_text()
    assert re.search(r"^RUN .*manage\.py collectstatic --noinput", dockerfile, re.M | re.S)


def _settings_variables() -> set[str]:
    """The environment variables the production settings read."""
    names = {"DATABASE_URL"}  # read by dj_database_url.config()
    pattern = re.compile(
        r'(?:environ(?:\.get)?\(?\[?|env_bool\(|env_list\()\s*"([A-Z][A-Z0-9_]+)"'
        r'|"([A-Z][A-Z0-9_]+)" (?:not )?in os\.environ'
    )
    for name in ("base.py", "production.py"):
        text = (live.ROOT / "config" / "settings" / name).read_text()
        names |= {a or b for a, b in pattern.findall(text)}
    return names


def test_env_example_documents_every_variable_the_settings_read():
    example = (live.ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", example, re.M))
    read = _settings_variables()
    assert len(read) > 20, "the pattern still finds the settings' variables"
    assert not read - documented, f"not in .env.example: {sorted(read - documented)}"


def test_web_healthcheck_passes_on_gunicorn_with_the_production_settings(
    compose, tmp_path, postgres_server
):
    # The healthcheck's one-liner, run against gunicorn as compose starts it: production
    # settings with the HTTPS redirect on and only the public host name allowed.
    # /healthz only reads (SELECT 1): the server's maintenance database will do.
    database_url = urllib.parse.urlunsplit(
        urllib.parse.urlsplit(postgres_server)._replace(path="/postgres")
    )
    env = live.app_env(
        database_url=database_url, ALLOWED_HOSTS="warrant.example.org",
        SECURE_SSL_REDIRECT="true", SESSION_COOKIE_SECURE="true", CSRF_COOKIE_SECURE="true",
        WARRANT_DATA_DIR=str(tmp_path),
    )
    port = live.free_port()
    code = compose["services"]["web"]["healthcheck"]["test"][3]
    code = code.replace("127.0.0.1:8000", f"127.0.0.1:{port}")
    web = live.start_gunicorn(env=env, port=port, log_dir=tmp_path, workers=1)
    try:
        check = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                               text=True, timeout=30)
        plain = live.HttpClient(f"http://127.0.0.1:{port}").get("/healthz", follow=False)
    finally:
        web.stop()
    assert check.returncode == 0, check.stderr
    assert plain.status == 400, "without the proxy's Host the probe would fail: it is needed"
