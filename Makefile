# Two commands for a fresh machine: `make run` (install, migrate, demo data, serve) and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000

.PHONY: run test install lint format messages bench-seed

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --scale small --if-empty
	$(PY) manage.py runserver 0.0.0.0:$(PORT)

test: install
	$(VENV)/bin/pytest

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e ".[dev]"
	touch $@

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Regenerate and compile the zh_Hans catalogue (needs gettext; the compiled .mo is committed).
messages: install
	$(PY) manage.py makemessages -l zh_Hans --no-obsolete --ignore=.venv
	$(PY) manage.py compilemessages -l zh_Hans --ignore=.venv
