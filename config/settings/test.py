"""Settings for the test suite.

The suite runs on SQLite unless DATABASE_URL points it at PostgreSQL (as CI
does). Tasks run in-process unless a test starts a real worker itself.
"""

import os
import tempfile
from pathlib import Path

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = "warrant-tests"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ALLOWED_HOSTS = ["*"]
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = False
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", tempfile.gettempdir())) / "warrant-test-media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOGGING = {"version": 1, "disable_existing_loggers": False}
# Static files come from the apps' folders; no collectstatic in tests.
WHITENOISE_AUTOREFRESH = True
