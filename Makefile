# Ducha — the manual for builders. Every target installs what it needs into .venv first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DATA   ?= var

CATALOGS := services/web/translations
MO     := $(CATALOGS)/zh_Hans_CN/LC_MESSAGES/messages.mo
HTMX_VERSION := 2.0.11
AXE_VERSION  := 4.14.1
ECHARTS_VERSION := 5.6.0

.PHONY: install run demo test lint bench up down clean browser messages vendor lock

install: $(STAMP) $(MO)  ## create .venv, install ducha with its dev tools, compile the catalogs

$(MO): $(STAMP) $(CATALOGS)/zh_Hans_CN/LC_MESSAGES/messages.po
	$(BIN)/pybabel compile --statistics -d $(CATALOGS) 2>&1 | tail -n 1

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: install  ## seed the demo (once), print its users' tokens, serve the API on :8000
	DUCHA_DATA_DIR=$(DATA) $(BIN)/ducha run

demo: install  ## seed (or re-seed, without duplicates) the demo
	DUCHA_DATA_DIR=$(DATA) $(BIN)/ducha demo

test: install browser  ## every test: unit, CLI, SQLite, real PostgreSQL, Kafka and Chromium
	$(BIN)/python -m pytest -q

browser:  ## Debian's Chromium for the browser tests (installed with apt when root)
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian's chromium and CJK fonts for the browser tests"; \
	    apt-get update -qq >/dev/null && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	  else echo "the browser tests need Chromium: run 'apt-get install chromium' as root"; exit 1; fi; }

messages: install  ## extract the screens' texts and update the catalogs (then translate the new ones)
	mkdir -p build
	$(BIN)/pybabel extract -F services/web/babel.cfg -k _l -o build/messages.pot .
	$(BIN)/pybabel update -i build/messages.pot -d $(CATALOGS) --no-fuzzy-matching --width 100

vendor:  ## refresh the vendored front-end assets from the npm registry (pinned versions)
	rm -rf build/vendor && mkdir -p build/vendor
	cd build/vendor && npm pack --silent htmx.org@$(HTMX_VERSION) axe-core@$(AXE_VERSION) \
	  echarts@$(ECHARTS_VERSION) >/dev/null
	mkdir -p build/vendor/htmx build/vendor/axe build/vendor/echarts
	tar -xzf build/vendor/htmx.org-$(HTMX_VERSION).tgz -C build/vendor/htmx
	tar -xzf build/vendor/axe-core-$(AXE_VERSION).tgz -C build/vendor/axe
	tar -xzf build/vendor/echarts-$(ECHARTS_VERSION).tgz -C build/vendor/echarts
	cp build/vendor/echarts/package/dist/echarts.common.min.js build/vendor/echarts/package/LICENSE \
	  build/vendor/echarts/package/NOTICE services/web/static/vendor/echarts/
	cp build/vendor/htmx/package/dist/htmx.min.js build/vendor/htmx/package/LICENSE \
	  services/web/static/vendor/htmx/
	cp build/vendor/axe/package/axe.min.js build/vendor/axe/package/LICENSE \
	  build/vendor/axe/package/LICENSE-3RD-PARTY.txt tests/web/vendor/axe-core/

lock: install  ## pin the image's dependencies with hashes (deploy/requirements.lock) after pyproject changes
	$(BIN)/uv pip compile pyproject.toml --quiet --generate-hashes --python-version 3.11 \
	  --python-platform x86_64-manylinux_2_28 --custom-compile-command 'make lock' \
	  -o deploy/requirements.lock

lint: install  ## ruff and mypy
	$(BIN)/ruff check domain services projections tests
	$(BIN)/ruff format --check domain services projections tests
	$(BIN)/mypy

bench: install  ## throughput figures as ratios against a baseline measured in the same run
	$(BIN)/python -m tests.bench.run

up: install  ## the distributed stack, no Docker: PostgreSQL, Kafka (Tansu), relay, 2 workers, HTTP
	$(BIN)/python -m services.stack up --data $(DATA)

down:  ## stop what make up started
	$(BIN)/python -m services.stack down --data $(DATA)

clean:  ## remove the virtualenv and local data
	rm -rf $(VENV) $(DATA)
