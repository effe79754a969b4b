# `make run`: install, migrate, load the demo and serve the site with its task cluster and the
# audit sequencer.
# `make test`: install and run the whole test suite.
# Both use PostgreSQL and Redis when DATABASE_URL and REDIS_URL are set.
# `make soak`: the soak test with faults (bench/soak/): SOAK_SECONDS of load with faults after
# SOAK_BASELINE seconds without, on a PostgreSQL instance and a Redis server of its own.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml setup.py audit/_walk.c Makefile | cksum | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?= -n auto

SOAK_SECONDS ?= 600
SOAK_BASELINE ?= 180
SOAK_FAULTS ?= all
SOAK_ARGS ?=
SOAK_STAMP := $(VENV)/.soak-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: install run test lint format messages system-packages soak

# Debian packages the platform needs (Japanese fonts for PDFs, Chromium for browser tests,
# OpenSSL's headers for the audit walk's C accelerator); installed only where apt-get exists
# and they are missing. Before the install in run and test, so that the accelerator builds.
system-packages:
	@bash scripts/system-packages.sh

$(STAMP): pyproject.toml setup.py audit/_walk.c Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

# On PostgreSQL, a DATABASE_URL without DATABASE_OWNER_URL is a superuser's: scripts/db_roles.py
# makes (idempotently) the owner, runtime and sealer roles and exports their URLs, so that the
# migrations run as the owner and everything else as the runtime role (README, "Production").
DB_ROLES = roles="$$($(BIN)/python scripts/db_roles.py)" && eval "$$roles"

run: system-packages install
	$(DB_ROLES) && export DEBUG=$${DEBUG:-1} && \
	  $(BIN)/python manage.py migrate --noinput && \
	  $(BIN)/python manage.py seed_demo && \
	  bash scripts/serve.sh $(BIN)/python $(HOST) $(PORT)

test: system-packages install
	$(DB_ROLES) && DEBUG=1 $(BIN)/python -m pytest $(PYTEST_ARGS)

# PostgreSQL's server programs (initdb, pg_ctl) and redis-server must be installed; the soak
# starts its own instances of both on other ports and never touches the machine's.
# Only the bench extra's requirements: the project and its dev extra are installed already
# (reinstalling them with it built the project again and took twice as long).
BENCH_REQUIREMENTS = $(BIN)/python -c 'import tomllib; \
  print(*tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["bench"])'
$(SOAK_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet $$($(BENCH_REQUIREMENTS))
	rm -f $(VENV)/.soak-*
	touch $@

soak: $(SOAK_STAMP) system-packages
	$(BIN)/python -m bench.soak.run --duration $(SOAK_SECONDS) --baseline $(SOAK_BASELINE) \
	  --faults $(SOAK_FAULTS) $(SOAK_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Extract and compile the Japanese and English catalogues (commit the results). Without source
# locations, so that a change adds only its own messages to a catalogue.
APPS := audit governance consent review grants participation public
# Where the pages in やさしい日本語 (ja-easy) take their texts from: the shared templates, the
# resident portal, the public register; every other string falls back to ordinary Japanese.
EASY_JAPANESE_APPS := . consent public
messages: install
	for dir in . $(APPS); do \
	  (cd $$dir && DEBUG=1 $(CURDIR)/$(BIN)/python $(CURDIR)/manage.py makemessages -l ja -l en --add-location=never --ignore=.venv --ignore=var --ignore=tests \
	   $$( case " $(EASY_JAPANESE_APPS) " in *" $$dir "*) echo "-l ja_Easy";; esac ) \
	   $$( [ $$dir = . ] && for app in $(APPS); do echo "--ignore=$$app"; done ) ); \
	done
	DEBUG=1 $(BIN)/python manage.py compilemessages --ignore=.venv
