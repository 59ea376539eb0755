"""The embedded default: one machine, SQLite, tasks in-process, DEBUG on."""

from .base import *  # noqa: F403
from .base import env_bool

DEBUG = env_bool("DEBUG", True)
# Serve static files from the apps' folders, without collectstatic.
WHITENOISE_AUTOREFRESH = True
