"""Settings of the worker processes that tests/faults starts beside the test's own database.

tests/worker's worker settings, plus the test-only delay that makes an export
last long enough to kill its worker in the middle (0, absent, everywhere else).
"""

import os

from tests.worker.settings import *  # noqa: F403

WARRANT_EXPORT_TEST_DELAY = float(os.environ.get("WARRANT_EXPORT_TEST_DELAY", "0"))
