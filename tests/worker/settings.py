"""Settings of the Celery worker processes that tests/worker starts.

The suite's settings, plus what a real worker needs and what the tests vary
through the environment: the queue (one per test, so that no other worker on
the same Redis takes its jobs), the visibility timeout, how often abandoned
messages are looked for, and the test-only delay that makes a run last long
enough to kill its worker in the middle.
"""

import os

from config.settings.test import *  # noqa: F403
from config.settings.test import CELERY_BROKER_TRANSPORT_OPTIONS

CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("WARRANT_TEST_QUEUE", "celery")
CELERY_BROKER_TRANSPORT_OPTIONS = {
    **CELERY_BROKER_TRANSPORT_OPTIONS,
    # Look for messages of dead workers every second, not every 100 s.
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
WARRANT_AGREEMENT_TEST_DELAY = float(os.environ.get("WARRANT_AGREEMENT_TEST_DELAY", "0"))
WARRANT_IMPORT_TEST_DELAY = float(os.environ.get("WARRANT_IMPORT_TEST_DELAY", "0"))
WARRANT_SUGGESTION_TEST_DELAY = float(os.environ.get("WARRANT_SUGGESTION_TEST_DELAY", "0"))
