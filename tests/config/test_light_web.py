"""A web process starts light: no numpy, scipy, lxml, pyarrow or pandas
(issue 12, point 8). They load in the worker, or in a web process on the first
request that needs them (an agreement report, grades, an import), never at start:
five gunicorn workers that each carried them idled at 873 MB.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

HEAVY = ("numpy", "scipy", "lxml", "pyarrow", "pandas", "pypdfium2", "pdfplumber", "docx",
         "cassis", "pycrfsuite", "sklearn_crfsuite", "sklearn", "trafilatura")

# What a gunicorn worker does before its first request (config.wsgi), then
# every URL pattern resolved: that imports every view module, page and API.
PROBE = """
import json, sys
from config.wsgi import application
from django.urls import get_resolver
get_resolver().reverse_dict
import annotator.api.urls, annotator.web.urls, annotator.tasks
from django.test import Client
client = Client()
statuses = [client.get(path).status_code for path in ("/accounts/login/", "/api/schema/")]
print(json.dumps({"heavy": [m for m in HEAVY if m in sys.modules], "statuses": statuses}))
"""


def test_a_fresh_web_process_imports_no_heavy_library():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    result = subprocess.run(
        [sys.executable, "-c", f"HEAVY = {HEAVY!r}\n{PROBE}"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["heavy"] == [], f"loaded at start: {seen['heavy']}"
    # The probe really served requests (the login page, the OpenAPI schema).
    assert seen["statuses"][0] == 200


def test_the_probe_would_see_a_heavy_import():
    """The same probe, with a module that needs numpy imported first, names it."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    probe = PROBE.replace("from config.wsgi", "import annotator.metrics.report\nfrom config.wsgi")
    result = subprocess.run(
        [sys.executable, "-c", f"HEAVY = {HEAVY!r}\n{probe}"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "numpy" in json.loads(result.stdout.strip().splitlines()[-1])["heavy"]
