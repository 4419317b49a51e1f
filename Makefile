# Two commands do everything on a fresh machine with Python 3.11 and git:
#   make demo   the main job (generate the demo practice, ingest, build, publish, write the
#               latest month's owner report, serve the dashboards)
#   make test   the test suite (installs Debian chromium and poppler-utils if missing)
# Both install what they need: uv in .uv/, then the locked environment in .venv/.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
UV_VERSION := 0.13.8
UV := .uv/bin/uv
VENV := .venv

.PHONY: demo test lint bench-generate setup

setup: $(VENV)/.synced

$(UV):
	$(PYTHON) -m venv .uv
	.uv/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# --compile-bytecode: Python may be told not to write .pyc files (PYTHONDONTWRITEBYTECODE),
# and then every rcm, dagster and dbt process would compile its libraries again (seconds
# each); compiled once at install, they start in about half the time.
$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --compile-bytecode --python $(PYTHON)
	touch $@

# The demo ends with the owner PDF report, whose charts Chromium draws (kaleido).
demo: $(VENV)/.synced $(CHROMIUM)
	$(VENV)/bin/rcm demo

# Browser tests drive Debian's chromium (Playwright cannot download a browser here);
# installed once, by apt, the first time the tests run on a machine.
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

$(CHROMIUM):
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium \
	  || ($(SUDO) apt-get update -q && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium)

# The report tests read the PDFs back with poppler's pdftotext, render their pages with
# pdftoppm, and make the SMTP test's certificate with openssl.
PDFTOPPM := /usr/bin/pdftoppm

$(PDFTOPPM):
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q poppler-utils openssl \
	  || ($(SUDO) apt-get update -q && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q poppler-utils openssl)

test: $(VENV)/.synced $(CHROMIUM) $(PDFTOPPM)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest

lint: $(VENV)/.synced
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench-generate: $(VENV)/.synced
	$(VENV)/bin/python benchmarks/bench_generate.py
