# ocrinvoice — `make help` lists the targets.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

GO        ?= go
BIN       ?= bin/ocrinvoice
# Flags for `make test`; the race detector is on by default (CI has time for it).
TESTFLAGS ?= -race -count=1
TIMEOUT   ?= 30m
# Folder of real invoices with truth.jsonl for `make eval`.
DATA      ?= ../shared/data/invoices-dev
# Paths holding generated code; check-generate fails when they differ from the commit.
GENERATED := ent graph

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*## "; print "Usage: make TARGET\n\nTargets:"} /^[a-zA-Z_-]+:.*## / {printf "  %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: generate
generate: ## Regenerate ent and GraphQL code (go generate, ordered in generate.go).
	$(GO) generate ./...

.PHONY: check-generate
check-generate: generate ## Fail when the committed generated code differs from a fresh `make generate`.
	@if ! git diff --exit-code --stat -- $(GENERATED) gqlgen.yml go.mod go.sum; then \
		echo "Generated code is out of date: run 'make generate' and commit the result." >&2; exit 1; fi
	@untracked=$$(git ls-files --others --exclude-standard -- $(GENERATED)); \
	if [[ -n "$$untracked" ]]; then \
		echo "Generation produced files that are not committed:" >&2; echo "$$untracked" >&2; exit 1; fi
	@echo "Generated code is up to date."

.PHONY: build
build: ## Build the binary into bin/ocrinvoice.
	$(GO) build -trimpath -o $(BIN) ./cmd/ocrinvoice

.PHONY: deps
deps: ## Check system packages (redis-server, tesseract, poppler-utils, headers); install them when root.
	@.ci/deps --install

.PHONY: run
run: deps build ## Build and run API + worker with embedded defaults (SQLite in ./data, private redis-server).
	./$(BIN) all

.PHONY: lint
lint: ## gofmt and go vet.
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' | grep -v '^vendor/') 2>&1); \
	if [[ -n "$$unformatted" ]]; then echo "gofmt needed:" >&2; echo "$$unformatted" >&2; exit 1; fi
	$(GO) vet ./...

.PHONY: test
test: lint ## Lint, then run every test (PostgreSQL too when TEST_DATABASE_URL is set).
	$(GO) test $(TESTFLAGS) -timeout $(TIMEOUT) ./...

.PHONY: bench
bench: ## Run the Go benchmarks.
	$(GO) test -run '^$$' -bench . -benchmem ./...

.PHONY: eval
eval: build ## Score extraction on $(DATA) (text layer, then OCR) when the folder exists.
	@if [[ ! -d "$(DATA)" ]]; then echo "No data folder $(DATA); set DATA=... to evaluate." >&2; exit 0; fi; \
	./$(BIN) eval --data "$(DATA)" --read text; \
	./$(BIN) eval --data "$(DATA)" --read ocr

.PHONY: config-table
config-table: ## Refresh the configuration table in README.md from the settings declared in internal/config.
	$(GO) run ./internal/config/configtable -readme README.md

.PHONY: ci
ci: ## What CI runs: check-generate, then test.
	$(MAKE) check-generate
	$(MAKE) test

.PHONY: clean
clean: ## Remove build output.
	rm -rf bin
