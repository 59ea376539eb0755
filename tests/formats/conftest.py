from pathlib import Path

import pytest

# /work/main/tests/formats/conftest.py -> /work/shared/corpora
CORPORA = Path(__file__).resolve().parents[2].parent / "shared" / "corpora"


@pytest.fixture
def corpora() -> Path:
    if not CORPORA.is_dir():
        pytest.skip(f"{CORPORA} not present (…/shared/corpora sample corpora)")
    return CORPORA
