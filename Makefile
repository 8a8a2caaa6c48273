.PHONY: setup run test lint bench

setup:
	scripts/setup.sh

run: setup
	scripts/run.sh

test:
	WITH_BROWSER=1 scripts/setup.sh
	scripts/test.sh

lint: setup
	.venv/bin/ruff check .
	PYTHONPATH=platform:. .venv/bin/lint-imports
