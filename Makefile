# Convenience wrappers around scripts/ (the scripts are what the README and CI use).
.PHONY: setup demo test bench
setup: ; bash scripts/setup.sh
demo: ; bash scripts/demo.sh
test: ; bash scripts/test.sh
bench: setup
	for b in bench/[!_]*.py; do .venv/bin/python $$b || exit 1; done
