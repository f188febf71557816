# The two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SYSTEM_PACKAGES := chromium poppler-utils redis-server postgresql fonts-dejavu-core

.PHONY: demo test lint typecheck pytest vendor system-deps bench i18n clean

demo: $(VENV)/.installed vendor
	$(BIN)/tovholder demo

test: $(VENV)/.installed-test vendor system-deps lint typecheck pytest

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck:
	$(BIN)/mypy

pytest:
	$(BIN)/pytest -q -p no:cacheprovider

bench: $(VENV)/.installed-test vendor
	$(BIN)/python -m bench

# After adding interface text: re-extract and merge the catalogs in locales/.
i18n: $(VENV)/.installed
	$(BIN)/python -m server.i18n_tools update

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: $(VENV)/bin/python pyproject.toml
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install -q -e '.[test]'
	touch $@

# Front-end packages come pinned from npm (package-lock.json) and are copied,
# not committed, into static/vendor/.
vendor: static/vendor/.done

static/vendor/.done: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx.min.js
	cp node_modules/htmx-ext-ws/dist/ws.min.js static/vendor/htmx-ext-ws.min.js 2>/dev/null || cp node_modules/htmx-ext-ws/ws.js static/vendor/htmx-ext-ws.min.js
	cp node_modules/axe-core/axe.min.js static/vendor/axe.min.js
	touch $@

# Chromium (browser tests), pdftotext (document tests), Redis and PostgreSQL
# (realtime backends) come from Debian; installed only when missing.
system-deps:
	@missing=""; \
	for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

clean:
	rm -rf $(VENV) node_modules static/vendor data
