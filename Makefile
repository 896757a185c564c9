# The template's own tasks. `make help` lists them.
.DEFAULT_GOAL := help
SHELL := bash
VENV ?= .venv
BIN := $(VENV)/bin
DEST ?= ../my-project
DATA ?=
PYTEST_ARGS ?=

$(BIN)/.installed: pyproject.toml
	python3 -m venv "$(VENV)"
	"$(BIN)/python" -m pip install --quiet --upgrade pip
	"$(BIN)/python" -m pip install --quiet -e '.[test]'
	touch "$@"

.PHONY: help
help: ## list the targets
	@if [[ -t 1 ]]; then c=$$'\033[36m' r=$$'\033[0m'; else c='' r=''; fi; \
	grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -v c="$$c" -v r="$$r" 'BEGIN {FS = ":.*## "}; {printf "  %s%-10s%s %s\n", c, $$1, r, $$2}'

.PHONY: install
install: $(BIN)/.installed ## create .venv with the template's dependencies

.PHONY: generate
generate: $(BIN)/.installed ## render a project: make generate DEST=../my-project [DATA="-d layout=single -d services=app"]
	"$(BIN)/python" hooks/generate.py "$(DEST)" $(DATA)

.PHONY: test
test: $(BIN)/.installed ## run the template's tests (docker tests skip where no engine answers)
	PATH="$(abspath $(BIN)):$$PATH" "$(BIN)/pytest" -n auto --dist loadgroup $(PYTEST_ARGS)

.PHONY: test-fast
test-fast: $(BIN)/.installed ## the inner loop: no docker, no slow (no update histories, no uv/npm/tsc runs), no network
	PATH="$(abspath $(BIN)):$$PATH" "$(BIN)/pytest" -n auto --dist loadgroup -m 'not slow and not docker' $(PYTEST_ARGS)

.PHONY: lint
lint: $(BIN)/.installed ## ruff over the template's own Python
	"$(BIN)/ruff" check hooks tests bench tools
