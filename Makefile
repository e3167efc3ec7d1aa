# Two commands for a fresh machine: `make run` (install, migrate, demo data, serve) and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install lint format messages bench-seed

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --scale small --if-empty
	$(PY) manage.py runserver $(HOST):$(PORT)

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

# The zh_Hans catalogue, locale/zh_Hans/LC_MESSAGES/django.po, is the one source of translations
# (needs gettext; the compiled .mo is committed, so installs and tests never need it):
#   1. `make messages`: makemessages adds the source's new msgids to the .po with an empty msgstr,
#      keeps every existing translation, and drops msgids the source no longer has (a new msgid
#      close to an old one may get the old msgstr marked "#, fuzzy": a guess Django ignores);
#   2. write the Chinese of every new empty msgstr directly in the .po; check each fuzzy guess,
#      correct it, and delete its "#, fuzzy" line;
#   3. `make messages` again: compilemessages writes the .mo. Commit both files.
# tests/test_catalogue.py fails, naming the msgids, while any is untranslated or fuzzy, the
# placeholders differ, the .mo is stale, or the source holds a msgid the .po lacks. Overrides of
# Django's or a third-party app's own translation keep their msgid in that test's gettext_noop list.
messages: install
	$(PY) manage.py makemessages -l zh_Hans --no-obsolete --ignore=.venv
	$(PY) manage.py compilemessages -l zh_Hans --ignore=.venv
