from pathlib import Path

import pytest


@pytest.fixture
def corpora(shared_corpora) -> Path:
    """The sample corpora beside the repository (skips outside CI, fails in CI, when absent)."""
    return shared_corpora
