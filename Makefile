# The two commands a new user needs: `make run` and `make test`. Everything else is optional.
VENV ?= .venv
PYTHON := $(VENV)/bin/python
RUNTIME_STAMP := $(VENV)/.runtime-installed
DEV_STAMP := $(VENV)/.dev-installed
CHROMIUM ?= /usr/bin/chromium
DOVECOT ?= /usr/sbin/dovecot
PGBOUNCER ?= /usr/sbin/pgbouncer

.PHONY: run test lint format bench notebooks audit chromium dovecot pgbouncer clean-data help i18n

help:
	@echo "make run    start the workbench (embedded PostgreSQL, demo data, mail catcher, scheduler, app)"
	@echo "make test   lint and run every test (unit, integration, dashboards, browser)"
	@echo "make bench  run the benchmarks in tests/benchmarks"
	@echo "make notebooks  run the analyst notebooks in place on the published warehouse (make run builds it)"
	@echo "make i18n   extract the message keys into locale/messages.pot (the template for translation tools)"
	@echo "make audit  check the installed packages for known vulnerabilities (pip-audit; needs internet)"

$(PYTHON):
	python3 -m venv $(VENV)

$(RUNTIME_STAMP): requirements.txt | $(PYTHON)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(DEV_STAMP): requirements-dev.txt $(RUNTIME_STAMP)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# Debian's chromium drives the browser tests (Playwright cannot download its own browsers here).
chromium:
	@if [ ! -x "$(CHROMIUM)" ]; then \
		if [ "$$(id -u)" -ne 0 ]; then \
			echo "error: $(CHROMIUM) is missing; install it as root: apt-get install chromium" >&2; exit 1; \
		fi; \
		echo "installing Debian's chromium for the browser tests ..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi

# Debian's dovecot is the real IMAP server the tests of jobs.fetch_mail start (tests/support/imap_server.py).
dovecot:
	@if [ ! -x "$(DOVECOT)" ]; then \
		if [ "$$(id -u)" -ne 0 ]; then \
			echo "error: $(DOVECOT) is missing; install it as root: apt-get install dovecot-imapd" >&2; exit 1; \
		fi; \
		echo "installing Debian's dovecot-imapd for the mail-fetching tests ..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd >/dev/null; \
	fi

# Debian's pgbouncer is the real pooler (transaction mode) the tests start (tests/support/pgbouncer.py).
pgbouncer:
	@if [ ! -x "$(PGBOUNCER)" ]; then \
		if [ "$$(id -u)" -ne 0 ]; then \
			echo "error: $(PGBOUNCER) is missing; install it as root: apt-get install pgbouncer" >&2; exit 1; \
		fi; \
		echo "installing Debian's pgbouncer for the connection-pooling tests ..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >/dev/null; \
	fi

run: $(RUNTIME_STAMP)
	$(PYTHON) -m jobs.serve

# ruff check includes the security rules (S, bandit's checks); exceptions are justified per line.
test: $(DEV_STAMP) chromium dovecot pgbouncer
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .
	$(PYTHON) -m pytest

lint: $(DEV_STAMP)
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .

format: $(DEV_STAMP)
	$(PYTHON) -m ruff check --fix .
	$(PYTHON) -m ruff format .

bench: $(DEV_STAMP)
	$(PYTHON) -m pytest tests/benchmarks -p no:cacheprovider -s -o addopts=""

# Executes each notebook in place (outputs land in your working copy; clear them before committing:
# the tests refuse committed outputs). Needs a published warehouse: `make run` builds one.
notebooks: $(DEV_STAMP)
	@for nb in notebooks/*.ipynb; do \
		echo "running $$nb"; \
		$(PYTHON) -m jupyter execute --inplace "$$nb" || exit 1; \
	done

# Asks the vulnerability database online; without a network it fails (exit 1), it never passes unchecked.
audit: $(DEV_STAMP)
	@$(PYTHON) -m pip_audit --strict --progress-spinner off || { \
		echo "error: make audit failed: pip-audit found a known vulnerability (listed above) or could not" \
			"reach the vulnerability service (no network?); nothing is vouched for. Fix or upgrade the named" \
			"package, or run again with internet access." >&2; exit 1; }

clean-data:
	@echo "this deletes data/ (embedded database, caught mail, generated files); Ctrl-C to keep it"; sleep 3
	rm -rf data/postgres data/mailbox data/logs data/demo-login.txt data/run.json

# Translators' template: every message key the code names literally, for gettext tools (Poedit, Weblate).
# The catalogues locale/{de,en}/LC_MESSAGES/messages.po are edited directly (keys built at run time, such as
# field.<name> or reason.<code>, are not extracted, so `pybabel update` would wrongly retire them); a test
# fails while a key lacks a German or English text. The app compiles the .po files itself at start.
i18n: $(DEV_STAMP)
	$(VENV)/bin/pybabel extract -F babel.cfg -k Message:1 -k t:1 -k nt:1,1 -k term:1 --no-location \
		--sort-output -o locale/messages.pot .
