.PHONY: setup run test test-fast lint bench

setup:
	scripts/setup.sh

run: setup
	scripts/run.sh

test:
	WITH_BROWSER=1 scripts/setup.sh
	scripts/test.sh

# The edit loop: no browser, no process kills, nothing that waits on timing.
test-fast: setup
	scripts/test.sh -m "not browser and not slow and not faults"

lint: setup
	.venv/bin/ruff check .
	PYTHONPATH=platform:. .venv/bin/lint-imports
