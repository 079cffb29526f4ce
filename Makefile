# Every target creates .venv and installs the project when needed, so `make run` and
# `make test` work on a fresh clone with nothing but Python 3.11.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two stamps: `make run` installs what the service needs (RUN_STAMP), every other target also
# the development tools (DEV_STAMP, which implies RUN_STAMP). So `make run` after `make test`
# installs nothing, and `make test` after `make run` only adds the tools.
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
PIP := $(BIN)/pip install --quiet --disable-pip-version-check
TEST_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: run test test-sqlite test-postgres lint bench soak clean

$(RUN_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) -e .
	touch $(RUN_STAMP)

$(DEV_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) -e '.[dev]'
	touch $(RUN_STAMP) $(DEV_STAMP)

run: $(RUN_STAMP)
	$(BIN)/asn-feedback db upgrade
	$(BIN)/asn-feedback seed-demo --if-empty
	$(BIN)/asn-feedback serve

lint: $(DEV_STAMP)
	$(BIN)/ruff check core conversations httpkit bot admin_api console web mail whatsapp app tests bench migrations
	$(BIN)/ruff format --check core conversations httpkit bot admin_api console web mail whatsapp app tests bench migrations
	$(BIN)/mypy
	$(BIN)/lint-imports

test-sqlite: $(DEV_STAMP)
	$(BIN)/pytest --db sqlite --ignore=tests/soak --durations=25

test-postgres: $(DEV_STAMP)
	TEST_DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/pytest --db postgres -m db --ignore=tests/soak --durations=25

test: lint test-sqlite test-postgres

soak: $(DEV_STAMP)
	$(BIN)/pytest -s tests/soak

bench: $(DEV_STAMP)
	$(BIN)/python bench/ikm_bench.py
	$(BIN)/python bench/cases_bench.py
	$(BIN)/python bench/evaluation_bench.py
	$(BIN)/python bench/digest_bench.py
	$(BIN)/python bench/bot_bench.py
	$(BIN)/python bench/load_bench.py
	$(BIN)/python bench/login_bench.py
	$(BIN)/python bench/console_bench.py
	$(BIN)/python bench/console_scores_bench.py
	$(BIN)/python bench/evaluation_review_bench.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache

# Screenshots of the staff console with demo data for the README (not part of `make test`).
.PHONY: screenshots
screenshots: $(DEV_STAMP)
	$(BIN)/python bench/screenshots.py

# Pictures of the citizen's path in the bot (the real bot, demo data) for the README.
.PHONY: bot-screenshots
bot-screenshots: $(DEV_STAMP)
	$(BIN)/python bench/bot_screenshots.py
