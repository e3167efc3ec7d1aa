# Two commands for a fresh machine: `make run` (install, migrate, demo data, serve) and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install lint format messages

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

# Province-scale demo data (600 units, ~8,350 organizations, ~200,000 members, ~9.3 million
# attendance rows over 24 months) in the PostgreSQL database DATABASE_URL names, replacing what it
# holds: about three minutes, with a progress line per step; then the database's size.
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/jiguan_province make bench-seed-province
.PHONY: bench-seed-province
bench-seed-province: install
	@case "$(DATABASE_URL)" in postgres*) ;; *) echo "DATABASE_URL: a PostgreSQL database to replace, e.g. postgres://postgres@127.0.0.1:5432/jiguan_province"; exit 1;; esac
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --scale province --flush
	$(PY) manage.py dbshell -- -At -c "SELECT 'database size: ' || pg_size_pretty(pg_database_size(current_database()))"
