# Agora — the two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PLUGINS := $(sort $(dir $(wildcard plugins/*/pyproject.toml)))
# The sortition engine, its own distribution (agora-sortition): installed in the same pip
# command as the platform, which depends on it, so that pip takes it from here.
ENGINE := sortition/
TRANSLATIONS := platform/agora/translations
HOST ?= 127.0.0.1
empty :=
space := $(empty) $(empty)
PORT ?= 8000
# The end-to-end tests drive Debian's Chromium through Playwright (no browser download).
CHROMIUM ?= /usr/bin/chromium
# The local cluster (deploy/local-cluster) and its fault tests put Debian's nginx in front.
NGINX ?= /usr/sbin/nginx

export AGORA_BASE_DOMAIN ?= localhost

.PHONY: install run demo test lint typecheck pytest translations translations-update bench clean css screenshots

$(STAMP): pyproject.toml $(ENGINE)pyproject.toml $(addsuffix pyproject.toml,$(PLUGINS)) | $(CHROMIUM) $(NGINX)
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11 or newer is required")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]' -e '$(ENGINE)[test]' $(addprefix -e ,$(PLUGINS))
	@touch $(STAMP)

install: $(STAMP) translations

# Checked at every install: Debian's package when missing and we may install it, else a
# clear message (the end-to-end tests then fail saying the same).
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing Debian's chromium for the end-to-end tests"; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null || \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	    echo "Could not install chromium: the end-to-end tests will fail until it is."; \
	else \
	  echo "Note: the end-to-end tests need Chromium at $(CHROMIUM):" \
	       "run 'sudo apt-get install chromium' (Debian, Ubuntu)," \
	       "or set AGORA_TEST_CHROMIUM to a Chromium binary."; \
	fi

# The same for nginx. Debian's package starts no server here: the cluster runs its own.
$(NGINX):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing Debian's nginx for the local cluster and its fault tests"; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null || \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null; } || \
	    echo "Could not install nginx: the local cluster and its fault tests will fail until it is."; \
	else \
	  echo "Note: the local cluster and its fault tests need nginx at $(NGINX):" \
	       "run 'sudo apt-get install nginx' (Debian, Ubuntu)," \
	       "or set AGORA_NGINX to an nginx binary."; \
	fi

translations: $(STAMP)
	$(BIN)/pybabel compile --statistics -d $(TRANSLATIONS) 2>&1 | grep -v '^compiling'

## make translations-update: collect new strings into the catalogs (then translate fr)
translations-update: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k _lp:1c,2 --project=Agora \
	  --copyright-holder="Agora contributors" -o $(TRANSLATIONS)/messages.pot platform/agora
	$(BIN)/pybabel update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS)

## make run: set up, migrate the embedded SQLite database, onboard the demo communes, serve on :8000
run: install demo
	@echo "Agora on http://localhost:$(PORT)/ (console) and http://poitiers.localhost:$(PORT)/ (Poitiers)"
	AGORA_PUBLIC_PORT=$(PORT) $(BIN)/gunicorn -c deploy/gunicorn.conf.py --bind $(HOST):$(PORT)

demo: install
	$(BIN)/flask --app agora db upgrade
	$(BIN)/flask --app agora tenants apply tenants/
	$(BIN)/flask --app agora identity create-account equipe@cooperative.example
	$(BIN)/flask --app agora identity assign-staff equipe@cooperative.example poitiers
	$(BIN)/flask --app agora identity assign-staff equipe@cooperative.example grenoble
	$(BIN)/flask --app agora identity assign-staff equipe@cooperative.example montreuil
	$(BIN)/flask --app agora identity grant mairie@poitiers.example poitiers commune_admin
	$(BIN)/flask --app agora demo load
	$(BIN)/flask --app agora demo onboard

## make test: set up, then lint, type-check and run the whole test suite
test: install lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Plugins and the engine are installed through import hooks mypy cannot follow: give it their
# folders. The engine and its tests are checked on their own, as the distribution stands alone
# (its tests' conftest would otherwise clash with the platform's).
typecheck: $(STAMP)
	MYPYPATH=$(subst $(space),:,$(strip platform sortition $(patsubst %/,%,$(PLUGINS)))) \
	  $(BIN)/mypy platform/agora $(filter-out %.egg-info,$(wildcard plugins/*/agora_*)) tests bench \
	  deploy/local-cluster
	MYPYPATH=sortition:sortition/tests $(BIN)/mypy sortition/agora_sortition sortition/tests

# One pytest-xdist worker per core, and one more: the tests wait on PostgreSQL, Redis and
# Chromium, which run in processes of their own (TEST_WORKERS=0 runs the suite in this
# process). The fault tests share one local cluster: their xdist_group keeps them on one worker.
TEST_WORKERS ?= $(shell $(PYTHON) -c 'import os; print((os.cpu_count() or 1) + 1)')
pytest: $(STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup

bench: install
	$(BIN)/python bench/draws.py
	$(BIN)/python bench/sortition.py
	$(BIN)/python bench/tenancy.py
	$(BIN)/python bench/voting.py

## make css: rebuild platform/agora/web/static/agora.css (committed) from frontend/agora.scss
## Needs node and npm, for this target only: installing, running and testing Agora never do.
## GOV.UK Frontend (MIT) and the Sass compiler come at the versions pinned in
## frontend/package.json; the version must match the Jinja macros' (govuk-frontend-jinja's
## README lists which GOV.UK Frontend release each of its versions ports).
STATIC := platform/agora/web/static
css:
	cd frontend && npm install --no-audit --no-fund --ignore-scripts --no-package-lock
	cd frontend && npx sass --no-source-map --style=compressed --quiet-deps agora.scss ../$(STATIC)/agora.css
	mkdir -p $(STATIC)/govuk
	{ echo "/* GOV.UK Frontend $$(node -p "require('./frontend/node_modules/govuk-frontend/package.json').version"), MIT licence, (c) Crown copyright */"; \
	  sed 's,//# sourceMappingURL=.*,,' frontend/node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js; } \
	  > $(STATIC)/govuk/govuk-frontend.min.js
	cp frontend/agora.js frontend/supported.js $(STATIC)/

## make screenshots: PNGs of the main pages at 390 and 1280 px, per person, into screenshots/
screenshots: install
	AGORA_SCREENSHOTS=screenshots $(BIN)/python -m pytest -q -p no:cacheprovider tests/e2e/test_screenshots.py

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache
