# GridCase: `make run` sets everything up and starts the portal with demo data;
# `make test` sets everything up and runs the whole test suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
VENDOR := app/static/vendor
CATALOGS := $(wildcard app/translations/*/LC_MESSAGES/messages.po)

.PHONY: run test setup vendor translations extract migrate demo clean

setup: $(VENV)/.installed $(VENDOR)/.installed translations .env

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# Front-end packages come from the npm registry and are served from our own static folder.
$(VENDOR)/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)
	cp node_modules/bootstrap/dist/css/bootstrap.min.css node_modules/bootstrap/dist/css/bootstrap.min.css.map \
	   node_modules/bootstrap/dist/js/bootstrap.bundle.min.js node_modules/bootstrap/dist/js/bootstrap.bundle.min.js.map \
	   node_modules/htmx.org/dist/htmx.min.js node_modules/echarts/dist/echarts.min.js $(VENDOR)/
	mkdir -p $(VENDOR)/bpmn-js/bpmn-font/css $(VENDOR)/bpmn-js/bpmn-font/font
	cp node_modules/bpmn-js/dist/bpmn-modeler.production.min.js node_modules/bpmn-js/dist/bpmn-navigated-viewer.production.min.js \
	   node_modules/bpmn-js/dist/assets/diagram-js.css \
	   node_modules/bpmn-js/dist/assets/bpmn-js.css $(VENDOR)/bpmn-js/
	cp node_modules/bpmn-js/dist/assets/bpmn-font/css/bpmn.css $(VENDOR)/bpmn-js/bpmn-font/css/
	cp node_modules/bpmn-js/dist/assets/bpmn-font/font/bpmn.woff2 node_modules/bpmn-js/dist/assets/bpmn-font/font/bpmn.woff \
	   node_modules/bpmn-js/dist/assets/bpmn-font/font/bpmn.ttf node_modules/bpmn-js/dist/assets/bpmn-font/font/bpmn.eot \
	   node_modules/bpmn-js/dist/assets/bpmn-font/font/bpmn.svg $(VENDOR)/bpmn-js/bpmn-font/font/
	touch $@

vendor: $(VENDOR)/.installed

translations: $(VENV)/.installed $(CATALOGS:.po=.mo)

%.mo: %.po
	$(BIN)/pybabel compile --use-fuzzy -i $< -o $@ 2>/dev/null || $(BIN)/pybabel compile -i $< -o $@

# Refresh the catalogs after changing user-facing strings, then translate what is new.
extract: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o app/translations/messages.pot --no-location --sort-output app workflows docs_templates
	$(BIN)/pybabel update -i app/translations/messages.pot -d app/translations --no-fuzzy-matching --ignore-obsolete

.env:
	cp .env.example .env

migrate: setup
	$(FLASK) db upgrade

demo: migrate
	$(FLASK) bpmn deploy
	$(FLASK) seed-demo

run: demo
	@echo "GridCase on http://127.0.0.1:5000 (Ctrl-C stops the web app, the worker and beat)"
	$(BIN)/honcho -f Procfile.dev start

test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) node_modules $(VENDOR)/*.js $(VENDOR)/*.css $(VENDOR)/*.map $(VENDOR)/bpmn-js $(VENDOR)/.installed app/translations/*/LC_MESSAGES/*.mo
