"""The catalogs as committed and the msgids the sources hold now, read once."""

from __future__ import annotations

import pytest
from babel.messages.catalog import Catalog

from server import i18n_tools


@pytest.fixture(scope="session")
def extracted() -> Catalog:
    """What `python -m server.i18n_tools update` would extract right now."""
    return i18n_tools.extract()


@pytest.fixture(scope="session")
def pot() -> Catalog:
    return i18n_tools.read_catalog(i18n_tools.template_path())


@pytest.fixture(scope="session")
def catalogs() -> dict[str, Catalog]:
    return {
        lang: i18n_tools.read_catalog(i18n_tools.catalog_path(lang), lang)
        for lang in i18n_tools.LANGUAGES
    }
