"""Fixtures for the minutes tests: sample minutes and PDF text extraction."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
# The project is not installed into the venv, and test helpers live next to
# this file; make both importable whatever pytest's import mode.
for path in (ROOT, HERE):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from minutes_samples import make_kvifa, make_plan, make_workshop  # noqa: E402

from server.minutes.model import DevelopmentPlan, Minutes  # noqa: E402


@pytest.fixture
def kvifa() -> Minutes:
    return make_kvifa()


@pytest.fixture
def workshop() -> Minutes:
    return make_workshop()


@pytest.fixture
def plan() -> DevelopmentPlan:
    return make_plan()


@pytest.fixture
def pdf_text() -> Callable[[bytes], str]:
    """Extract a PDF's text with poppler's pdftotext (layout-free, reading order)."""
    exe = shutil.which("pdftotext")
    if exe is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")

    def extract(pdf: bytes) -> str:
        done = subprocess.run(
            [exe, "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True
        )
        return done.stdout.decode("utf-8")

    return extract
