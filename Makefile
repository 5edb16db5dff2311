# Tocsin — the two commands: `make run` and `make test` (plus `make bench`, `make demo`).
# Needs only Python >= 3.11 and access to PyPI; everything else goes into .venv/ and instance/.

PYTHON ?= python3
VENV   := .venv
VPY    := $(VENV)/bin/python
ARGS   ?=

.PHONY: run test i18n bench bench-all bench-targeting bench-email bench-callbacks bench-feeds bench-addresses bench-import demo venv dev-venv clean help
.DEFAULT_GOAL := help

help:
	@echo "make run    start Tocsin (web on http://127.0.0.1:5000 + a worker), sandbox by default"
	@echo "make test   the test suite on SQLite, then on PostgreSQL when one answers"
	@echo "make bench  the fan-out benchmark (bench/fanout.py; ARGS='--residents 20000')"
	@echo "make bench-all  every benchmark on SQLite and PostgreSQL, one table (ARGS='--quick', '--readme')"
	@echo "make bench-targeting  reach-preview times over 1M residents (bench/targeting.py)"
	@echo "make bench-email  emails per second to a local SMTP server (bench/email_throughput.py)"
	@echo "make bench-callbacks  signed Twilio status callbacks applied per second (bench/callbacks.py)"
	@echo "make bench-feeds  public feed cost and the dispatcher pages under feed load (bench/feeds.py)"
	@echo "make bench-addresses  address search p50/p95 over 500,000 points (bench/address_search.py)"
	@echo "make bench-import  CSV import rows/s, command line (1M rows) and API (bench/import_speed.py)"
	@echo "make demo   load the sample town (zones + a few thousand residents)"
	@echo "make i18n   extract locales/messages.pot, merge it into every catalog, compile the .mo files"

$(VPY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Tocsin needs Python >= 3.11; run: make PYTHON=python3.12 …")'
	$(PYTHON) -m venv $(VENV) || { echo "could not create $(VENV): install your Python's venv module (Debian: apt-get install python3-venv)"; exit 1; }
	$(VPY) -m pip install --quiet --upgrade pip

# Stamp files: reinstall only when a requirements file changed.
$(VENV)/.installed-run: requirements.txt | $(VPY)
	$(VPY) -m pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(VPY)
	$(VPY) -m pip install --quiet -r requirements-dev.txt
	@touch $@ $(VENV)/.installed-run

venv: $(VENV)/.installed-run
dev-venv: $(VENV)/.installed-dev

# SANDBOX=1 unless the environment sets SANDBOX: a fresh machine gets the no-credentials demo
# (Tocsin itself never infers the sandbox from missing credentials).
# Redis: $REDIS_URL, else 127.0.0.1:6379, else a bundled redis-server kept under instance/.
# Metrics: every process writes into PROMETHEUS_MULTIPROC_DIR (default instance/prometheus),
# emptied at each start. Then migrate, create the admin on first run, start web + worker.
run: venv
	@set -e; \
	if [ -z "$${SANDBOX+set}" ]; then \
	  SANDBOX=1; export SANDBOX; \
	  echo "SANDBOX=1 (set by make run): channels record instead of sending, /sandbox is open and two-factor sign-in is optional. Run with SANDBOX=0 for a live deployment."; \
	fi; \
	REDIS_URL="$$($(VPY) scripts/ensure_redis.py)"; export REDIS_URL; \
	echo "Redis: $$REDIS_URL"; \
	PROMETHEUS_MULTIPROC_DIR="$${PROMETHEUS_MULTIPROC_DIR:-$${TOCSIN_INSTANCE:-$(CURDIR)/instance}/prometheus}"; \
	(umask 077; mkdir -p "$$PROMETHEUS_MULTIPROC_DIR"); rm -f "$$PROMETHEUS_MULTIPROC_DIR"/*.db; \
	export PROMETHEUS_MULTIPROC_DIR; \
	$(VPY) -m notifier init-db; \
	$(VPY) -m notifier bootstrap; \
	$(VPY) -m notifier setup-check; \
	echo "Starting web (http://127.0.0.1:5000) and worker; Ctrl-C stops both."; \
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" exec $(VENV)/bin/honcho start -f Procfile

test: dev-venv
	$(VPY) scripts/run_tests.py $(ARGS)

# The babel flags live here and in tests/test_catalogs.py, which fails when this was not run.
i18n: dev-venv
	$(VENV)/bin/pybabel extract -F locales/babel.cfg -k "gettext:2,2t" -k "N_" -c "Translators:" \
	  --sort-by-file --omit-header --width 100 --project Tocsin -o locales/messages.pot . >/dev/null
	$(VENV)/bin/pybabel update -i locales/messages.pot -d locales -D messages --no-fuzzy-matching \
	  --ignore-obsolete --width 100
	$(VENV)/bin/pybabel compile -d locales -D messages --statistics

bench: dev-venv
	$(VPY) bench/fanout.py $(ARGS)

bench-targeting: dev-venv
	$(VPY) bench/targeting.py $(ARGS)

bench-email: dev-venv
	$(VPY) bench/email_throughput.py $(ARGS)

bench-callbacks: dev-venv
	$(VPY) bench/callbacks.py $(ARGS)

bench-feeds: dev-venv
	$(VPY) bench/feeds.py $(ARGS)

bench-addresses: dev-venv
	$(VPY) bench/address_search.py $(ARGS)

bench-all: dev-venv
	$(VPY) bench/all.py $(ARGS)

bench-import: dev-venv
	$(VPY) bench/import_speed.py $(ARGS)

demo: venv
	@set -e; \
	REDIS_URL="$$($(VPY) scripts/ensure_redis.py)"; export REDIS_URL; \
	$(VPY) -m notifier init-db; \
	$(VPY) -m notifier demo

clean:
	rm -rf $(VENV) .pytest_cache
	@echo "instance/ (database, secret key, local Redis) was kept; remove it by hand to start over."
