# newsroom: `make demo` builds and serves the sample newsroom; `make test` sets up and runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.test-installed
BROWSER_STAMP := $(VENV)/.browser-tools
SLEEP_SHIM := $(VENV)/lib/libmonotonic_sleep.so
DOCS_VENV := .venv-docs
DOCS_STAMP := $(DOCS_VENV)/.installed
AXE := node_modules/axe-core/axe.min.js
HTMX := node_modules/htmx.org/dist/htmx.min.js
DESK_DEMO := var/desk-demo-password
CATALOGS := $(patsubst %.po,%.mo,$(wildcard theme/translations/*/LC_MESSAGES/messages.po))
DESK_CATALOGS := $(patsubst %.po,%.mo,$(wildcard plugins/newsroom/desk/translations/*/LC_MESSAGES/desk.po))
HOST ?= 127.0.0.1
PORT ?= 8000
N ?= 2000
LANGS ?= fi,sv,en

.PHONY: install html serve preview demo publish check lint docs test test-dates bench bench-build bench-publish bench-images bench-mail bench-lists bench-subscriptions translations clean distclean

install: $(STAMP) $(CATALOGS) $(DESK_CATALOGS)

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

theme/translations/%/LC_MESSAGES/messages.mo: theme/translations/%/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile --statistics -i $< -o $@

plugins/newsroom/desk/translations/%/LC_MESSAGES/desk.mo: plugins/newsroom/desk/translations/%/LC_MESSAGES/desk.po $(STAMP)
	$(BIN)/pybabel compile --statistics -D desk -i $< -o $@

check: install
	$(BIN)/newsroom check

html: install
	$(BIN)/newsroom build

serve: install
	$(BIN)/pelican --settings pelicanconf.py --autoreload --listen --bind $(HOST) --port $(PORT)

# The site at $(HOST):$(PORT), and beside it the subscription service at 127.0.0.1:8001 (the site's forms post
# there), a mail sink that saves every email under var/mail/ and the resident publisher, which keeps the public
# build in var/site and mails the sink the moment an embargo lifts (all stopped with the demo).
# The desk at 127.0.0.1:8002 (previews on :8003) too, signed in as 'demo' with the password printed (kept in
# var/desk-demo-password); its saves are commits in this checkout, which holds content/.
demo: html $(HTMX) $(DESK_DEMO)
	$(BIN)/newsroom mail-sink & sink=$$!; \
	$(BIN)/newsroom --settings pelicanconf.py subscriptions serve & service=$$!; \
	$(BIN)/newsroom publisher run & publisher=$$!; \
	$(BIN)/newsroom desk serve & desk=$$!; \
	trap 'kill $$sink $$service $$publisher $$desk 2>/dev/null' EXIT INT TERM; \
	echo "Desk: http://127.0.0.1:8002  user: demo  password: $$(cat $(DESK_DEMO))"; \
	$(MAKE) --no-print-directory serve

$(DESK_DEMO): | install
	@mkdir -p $(@D)
	@umask 077; $(BIN)/python -c "import secrets; print(secrets.token_urlsafe(12))" > $@.new
	@$(BIN)/newsroom desk users add demo --name "Demo Writer" --email demo@example.org --role admin --password-stdin < $@.new
	@mv $@.new $@

# Drafts and embargoed releases too, marked, into preview/ (never deployable), served at $(HOST):$(PORT).
preview: install
	$(BIN)/newsroom preview
	$(BIN)/pelican --settings pelicanconf.py --listen --output preview --bind $(HOST) --port $(PORT)

publish: install
	$(BIN)/newsroom build --publish

$(TEST_STAMP): requirements-test.txt $(STAMP)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-test.txt
	touch $@

# Quality-gate tools: Debian's Chromium (Playwright drives it), a Java runtime (Nu HTML Checker), faketime
# and a C compiler (make test-dates) and OpenSSH with rsync (the rsync deploy test runs its own sshd), installed only when missing; axe-core from the npm registry, exactly as package-lock.json pins it.
$(BROWSER_STAMP):
	@missing=""; test -x /usr/bin/chromium || missing="chromium"; \
	command -v java >/dev/null || missing="$$missing default-jre-headless"; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	command -v faketime >/dev/null || missing="$$missing faketime"; \
	command -v cc >/dev/null || missing="$$missing gcc libc6-dev"; \
	command -v ffprobe >/dev/null || missing="$$missing ffmpeg"; \
	test -x /usr/sbin/sshd || missing="$$missing openssh-server"; \
	command -v ssh >/dev/null || missing="$$missing openssh-client"; \
	command -v rsync >/dev/null || missing="$$missing rsync"; \
	if [ -n "$$missing" ]; then \
	  sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  echo "Installing$$missing with apt-get ..."; \
	  $$sudo apt-get update -qq && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
	@mkdir -p $(@D) && touch $@

$(AXE): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(HTMX): $(AXE)
	@test -f $@ || npm ci --no-audit --no-fund --loglevel=error

# Lint, types and layers, one command a line: ruff (lint and format) on the whole tree, mypy on the layers it
# covers, the import rules between the layers (pyproject.toml [tool.importlinter]).
lint: $(TEST_STAMP)
	$(BIN)/ruff check plugins tests *.py
	$(BIN)/ruff format --check plugins tests *.py
	$(BIN)/mypy
	$(BIN)/lint-imports

# The documentation site (mkdocs.yml, docs/) into site/; strict, so a broken link or a missing page fails it
# (not --quiet: that hides the warnings strict mode counts). Its own environment: Material for MkDocs needs a
# newer Pygments than Pelican takes.
$(DOCS_STAMP): requirements-docs.txt
	$(PYTHON) -m venv $(DOCS_VENV)
	$(DOCS_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-docs.txt
	touch $@

docs: $(DOCS_STAMP)
	NO_MKDOCS_2_WARNING=1 $(DOCS_VENV)/bin/mkdocs build --strict

test: install $(TEST_STAMP) $(BROWSER_STAMP) $(AXE) $(HTMX) lint docs
	$(BIN)/pytest

# No test depends on today's date: the whole suite with the machine's clock at other dates (libfaketime, which
# subprocesses inherit; it reads the offset once a day, FAKETIME_CACHE_DURATION: FAKETIME_NO_CACHE made it read the
# environment at every clock read, which crashed a test that sets a variable while another thread reads the clock,
# since getenv and setenv are not thread-safe). The clock is moved by an
# offset, not started at the date: a start date would restart in every new process, so a server a test starts
# would run minutes behind the test that waits for it. The monotonic clock stays real (DONT_FAKE_MONOTONIC): with it
# shifted, a timed wait on a condition (threading.Event.wait) sleeps until the real clock reaches the shifted one;
# tests/faketime/monotonic_sleep.c, preloaded before libfaketime, keeps an absolute monotonic sleep (Python's
# time.sleep) working in every process (it says how).
# Playwright's driver and the Chromium it starts run without libfaketime (tests/faketime/playwright-node says why).
DATES ?= 2027-06-15 12:00:00,2030-01-01 00:00:00
test-dates: install $(TEST_STAMP) $(BROWSER_STAMP) $(AXE) $(SLEEP_SHIM)
	@dates='$(DATES)'; IFS=,; for date in $$dates; do \
	  offset=$$(( $$(date -d "$$date" +%s) - $$(date +%s) )); \
	  echo "== the suite with the clock at $$(faketime -f "+$${offset}s" date '+%F %T %Z')"; \
	  LD_PRELOAD=$(CURDIR)/$(SLEEP_SHIM) PLAYWRIGHT_NODEJS_PATH=$(CURDIR)/tests/faketime/playwright-node FAKETIME_CACHE_DURATION=86400 DONT_FAKE_MONOTONIC=1 faketime -f "+$${offset}s" $(BIN)/pytest -q -p no:cacheprovider || exit 1; \
	done

$(SLEEP_SHIM): tests/faketime/monotonic_sleep.c | $(BROWSER_STAMP)
	cc -shared -fPIC -O2 -Wall -Wextra -Werror -o $@ $<

# Every benchmark, each against its baseline in the same run (see BENCHMARKS.md); bench-images is separate (slow).
bench: bench-build bench-mail bench-subscriptions

# The build benchmark: N synthetic releases built with bare Pelican and with the newsroom, in the first of LANGS,
# then in all of them; prints the table and where a cold build's time goes.
bench-build: install
	$(BIN)/python tests/bench/bench_build.py --releases $(N) --langs $(LANGS) --profile

# Image derivatives for 200 generated photos of 12 MP: cold, warm (cache) and with one photo changed.
bench-images: install
	$(BIN)/python tests/bench/bench_images.py

# Embargo lift to page served and to first email, and a saved release to page served: the resident publisher and
# cron-style `newsroom publish` side by side on N synthetic releases, bare Pelican's cold build as the yardstick.
bench-publish: install $(TEST_STAMP)
	$(BIN)/python tests/bench/bench_publish.py --releases $(N)

# Email: one release to 10,000 subscribers through a local aiosmtpd sink; messages per second and peak memory.
bench-mail: install
	$(BIN)/python tests/bench/bench_mail.py

# The subscription service under a bounded sign-up load on loopback: requests per second with no errors, p99 latency.
# Media lists: one release to 5,000 journalists on 10 lists, beside the loopback transport limit of the same run.
bench-lists: install
	$(BIN)/python tests/bench/bench_lists.py

bench-subscriptions: install $(TEST_STAMP)
	$(BIN)/python tests/bench/bench_subscriptions.py

# Re-extract UI strings from templates and code into the catalogs after changing them.
translations: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k NP_:1c,2 --no-location --sort-output -o theme/translations/messages.pot .
	$(BIN)/pybabel update -i theme/translations/messages.pot -d theme/translations --no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel extract -F plugins/newsroom/desk/babel.cfg -k N_ --no-location --sort-output -o plugins/newsroom/desk/translations/desk.pot plugins/newsroom/desk
	$(BIN)/pybabel update -D desk -i plugins/newsroom/desk/translations/desk.pot -d plugins/newsroom/desk/translations --no-fuzzy-matching --ignore-obsolete

clean:
	rm -rf output preview .pytest_cache
	find . -name __pycache__ -not -path './.venv/*' -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) $(DOCS_VENV) site
