# Shortcuts for the two README commands.
.PHONY: main test setup lint
main:
	bash scripts/main.sh
test:
	bash scripts/test.sh
setup:
	bash scripts/setup.sh
lint:
	.venv/bin/ruff check forgekit tests benchmarks
