"""Run the examples in the docstrings of annotator.text and annotator.formats.

The root pytest configuration collects doctests only from its testpaths; this
keeps the examples of these modules checked wherever the suite is run from.
"""

import doctest
import importlib

import pytest

MODULES = [
    "annotator.text.newlines",
    "annotator.text.tokens",
    "annotator.text.utf16",
    "annotator.text.cleaning",
    "annotator.text.layout",
    "annotator.text.remap",
    "annotator.text.titles",
    "annotator.text.spreadsheet",
    "annotator.formats.plaintext",
    "annotator.formats.pdf",
    "annotator.formats.brat",
    "annotator.formats.jsonl",
    "annotator.formats.bounded_json",
    "annotator.formats.schema",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_hold(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
