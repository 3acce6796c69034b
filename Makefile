# ocrinvoice — `make help` lists the targets.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

GO        ?= go
# SQLite with FTS5 (the trigram search index, see internal/database/extras.go).
export GOFLAGS += -tags=sqlite_fts5
BIN       ?= bin/ocrinvoice
# Flags for `make test`; the race detector is on by default (CI has time for it).
TESTFLAGS ?= -race -count=1
TIMEOUT   ?= 30m
# Folder of real invoices with truth.jsonl for `make eval`.
DATA      ?= ../shared/data/invoices-dev
# staticcheck for `make lint`; .ci/run installs the pinned version with go install.
STATICCHECK ?= staticcheck
# Pinned npm tools (tools/npm/package-lock.json): the OpenAPI linters of `make lint` and the
# GraphQL clients of cmd/ocrinvoice's contract test. `make npm-install` (run by .ci/run) installs them.
NPM_TOOLS := tools/npm
NPM_BIN   := $(NPM_TOOLS)/node_modules/.bin
OPENAPI   := internal/rest/openapi.json
# The review web app (web/): TypeScript sources built by esbuild into web/dist, which is
# committed and embedded in the binary (package web). Its npm packages are pinned in
# web/package-lock.json; `make web-install` installs them (the browser test needs axe-core).
WEB := web
# Paths holding generated code; check-generate fails when they differ from the commit.
GENERATED := ent graph
# Helm for helm-test, built from the Go module proxy into bin/ (HELM=... uses another one).
HELM_VERSION ?= v3.22.0
HELM         ?= bin/helm
CHART        := helm/ocrinvoice

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

.PHONY: install
install: deps ## Install ocrinvoice into $GOBIN (default $(go env GOPATH)/bin) with go install, so the README's `ocrinvoice ...` lines run.
	$(GO) install -trimpath ./cmd/ocrinvoice
	@dir=$$($(GO) env GOBIN); dir=$${dir:-$$($(GO) env GOPATH)/bin}; \
	echo "Installed $$dir/ocrinvoice"; \
	case ":$$PATH:" in *":$$dir:"*) ;; *) echo "$$dir is not on PATH; add it to run ocrinvoice by name: export PATH=\"$$dir:\$$PATH\"" >&2 ;; esac

.PHONY: deps
deps: ## Check system packages (redis-server, tesseract, poppler-utils, headers); install them when root.
	@.ci/deps --install

.PHONY: run
run: deps build ## Build and run API + worker with embedded defaults (SQLite in ./data, private redis-server).
	./$(BIN) all

.PHONY: npm-install
npm-install: ## Install the pinned npm tools (tools/npm) with npm ci from the npm registry; no-op when current. Needs Node.js >= 20.19 and npm.
	@stamp=$(NPM_TOOLS)/node_modules/.installed-lock.sha256; want=$$(sha256sum $(NPM_TOOLS)/package-lock.json | cut -d' ' -f1); \
	if [[ "$$(cat $$stamp 2>/dev/null)" != "$$want" ]]; then \
		echo "npm ci --prefix $(NPM_TOOLS)"; npm ci --prefix $(NPM_TOOLS) --no-audit --no-fund; echo "$$want" > $$stamp; \
	fi

.PHONY: web-install
web-install: ## Install the review app's pinned npm packages (web/package-lock.json) with npm ci; no-op when current.
	@stamp=$(WEB)/node_modules/.installed-lock.sha256; want=$$(sha256sum $(WEB)/package-lock.json | cut -d' ' -f1); \
	if [[ "$$(cat $$stamp 2>/dev/null)" != "$$want" ]]; then \
		echo "npm ci --prefix $(WEB)"; npm ci --prefix $(WEB) --no-audit --no-fund; echo "$$want" > $$stamp; \
	fi

.PHONY: web
web: web-install ## Type-check and build the review app (web/src) into web/dist, which the binary embeds; commit the result.
	cd $(WEB) && node_modules/.bin/tsc --noEmit -p . && node build.mjs
	@echo "web/dist: $$(cat $(WEB)/dist/* | gzip -9 | wc -c) bytes gzipped"

.PHONY: check-web
check-web: web ## Fail when the committed web/dist differs from a fresh `make web`.
	@if ! git diff --exit-code --stat -- $(WEB)/dist; then \
		echo "web/dist is out of date: run 'make web' and commit the result." >&2; exit 1; fi
	@untracked=$$(git ls-files --others --exclude-standard -- $(WEB)/dist); \
	if [[ -n "$$untracked" ]]; then \
		echo "The build produced files that are not committed:" >&2; echo "$$untracked" >&2; exit 1; fi
	@echo "web/dist is up to date."

.PHONY: playground
playground: ## Rebuild the GraphQL playground's embedded files (internal/playground/dist) from the npm packages pinned in tools/playground, and graph's introspection fixtures. Needs Node.js and npm.
	npm ci --prefix tools/playground --no-audit --no-fund
	tools/playground/vendor.sh
	cd tools/playground && node introspection.mjs ../../graph/testdata

.PHONY: check-playground
check-playground: playground ## Fail when the committed playground files differ from a fresh `make playground`.
	@if ! git diff --exit-code --stat -- internal/playground/dist graph/testdata || [[ -n "$$(git ls-files --others --exclude-standard -- internal/playground/dist graph/testdata)" ]]; then \
		echo "The playground's files are out of date: run 'make playground' and commit the result." >&2; exit 1; fi
	@echo "The playground's files are up to date."

.PHONY: lint
lint: lint-go lint-openapi ## gofmt, go vet, staticcheck (not on generated code) and the OpenAPI linters.

.PHONY: lint-openapi
lint-openapi: ## Lint the OpenAPI document with Redocly (recommended rules) and Spectral (spectral:oas); warnings fail too.
	@if [[ ! -x $(NPM_BIN)/redocly || ! -x $(NPM_BIN)/spectral ]]; then \
		echo "The OpenAPI linters are not installed: run 'make npm-install' (npm ci in $(NPM_TOOLS); needs Node.js >= 20.19 and npm)." >&2; exit 1; fi
	@echo "redocly lint --config $(NPM_TOOLS)/redocly.yaml $(OPENAPI)"; \
	out=$$(REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true $(NPM_BIN)/redocly lint --config $(NPM_TOOLS)/redocly.yaml --format stylish $(OPENAPI) 2>&1) && rc=0 || rc=$$?; \
	echo "$$out" | grep -Ev '^\s*$$|[╔║╚]'; \
	if (( rc != 0 )) || grep -Eq '^\s+[0-9]+:[0-9]+\s+warning' <<<"$$out"; then echo "redocly lint: $(OPENAPI) has problems (see above)" >&2; exit 1; fi
	$(NPM_BIN)/spectral lint --ruleset $(NPM_TOOLS)/spectral.yaml --fail-severity warn $(OPENAPI)

.PHONY: lint-go
lint-go: ## gofmt, go vet and staticcheck (not on generated ent and gqlgen code).
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' | grep -v '^vendor/') 2>&1); \
	if [[ -n "$$unformatted" ]]; then echo "gofmt needed:" >&2; echo "$$unformatted" >&2; exit 1; fi
	$(GO) vet ./...
	@if ! command -v $(STATICCHECK) >/dev/null; then \
		echo "$(STATICCHECK) not found: install it as .ci/run does (go install honnef.co/go/tools/cmd/staticcheck@VERSION, with $$($(GO) env GOPATH)/bin on PATH)" >&2; exit 1; fi
	@# Generated code is not ours to fix: the ent packages but ent/schema, and graph/generated,
	@# are left out of the packages staticcheck reports on (it still reads them as dependencies).
	pkgs=$$($(GO) list ./... | grep -Ev '/ent(/[^/]+)?$$|/graph/generated$$'); $(STATICCHECK) $$pkgs ./ent/schema

.PHONY: test
test: lint helm-test ## Lint, check the Helm chart, then run every test (PostgreSQL too when TEST_DATABASE_URL is set).
	@# helm-test has just run the chart's package (./helm); it is not run again here.
	pkgs=$$($(GO) list ./... | grep -v '/helm$$'); $(GO) test $(TESTFLAGS) -timeout $(TIMEOUT) $$pkgs

.PHONY: helm-install
helm-install: ## Install the pinned helm (HELM_VERSION) as bin/helm with go install from the Go module proxy; no-op when current.
	@if [[ ! -x bin/helm || "$$(cat bin/.helm-version 2>/dev/null)" != "$(HELM_VERSION)" ]]; then \
		echo "GOBIN=$(CURDIR)/bin $(GO) install helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)"; \
		GOBIN="$(CURDIR)/bin" $(GO) install helm.sh/helm/v3/cmd/helm@$(HELM_VERSION); \
		echo "$(HELM_VERSION)" > bin/.helm-version; \
	fi

.PHONY: helm-test
helm-test: $(if $(filter bin/helm,$(HELM)),helm-install) ## Lint the chart (--strict, defaults and every ci/ values file), render it, decode and check the manifests.
	@for f in "" $(sort $(wildcard $(CHART)/ci/*.yaml)); do \
		echo "$(HELM) lint --strict $(CHART)$${f:+ --values $$f}"; \
		$(HELM) lint --strict --quiet $(CHART) $${f:+--values "$$f"}; \
	done
	HELM="$(if $(findstring /,$(HELM)),$(abspath $(HELM)),$(shell command -v $(HELM)))" $(GO) test -count=1 ./helm/...

.PHONY: chaos
chaos: ## Fault-injection suite: serve + 2 workers on private PostgreSQL and Redis; worker/API SIGKILL, Redis emptied, PostgreSQL stopped during a 200-document batch.
	@# The test builds the binary itself (go build shares the test build's cache; OCRINVOICE_CHAOS_BIN=... runs another).
	OCRINVOICE_CHAOS=1 $(GO) test -count=1 -timeout 10m -run '^TestChaos$$' -v ./cmd/ocrinvoice/

.PHONY: bench
bench: ## Run the Go benchmarks.
	$(GO) test -run '^$$' -bench . -benchmem ./...

# Jobs each database holds for bench-scale, and how long each request kind is loaded at
# each concurrency.
ROWS           ?= 1000000
BENCH_DURATION ?= 3s
BENCH_CONC     ?= 1,8,64

.PHONY: bench-scale
bench-scale: build ## Scale benchmark (not in `make test`): seeds $(ROWS) jobs into SQLite and PostgreSQL (TEST_DATABASE_URL; skipped when unset), serves each with bin/ocrinvoice and loads list, filter, search, get, create and GraphQL at c=$(BENCH_CONC), as ratios to /healthz; e.g. make bench-scale ROWS=100000.
	$(GO) run ./tools/benchscale -bin $(BIN) -rows $(ROWS) -duration $(BENCH_DURATION) -c $(BENCH_CONC) -pg "$${TEST_DATABASE_URL:-}"

.PHONY: bench-filters-scale
bench-filters-scale: ## Go benchmarks at 100,000 jobs (the worst filter the cost budget accepts, PostgreSQL throughput at 8 and 64 clients, ranked sorts and $regex) and search and counted totals at 1,000,000 (TEST_DATABASE_URL for PostgreSQL).
	$(GO) test -run '^$$' -bench 'BenchmarkWorstAcceptedFilter|BenchmarkPoolScale|BenchmarkSortAndRegexScale' -benchtime 3s -timeout 60m ./internal/jobs/
	OCRINVOICE_BENCH_JOBS=$${OCRINVOICE_BENCH_JOBS:-1000000} $(GO) test -run '^$$' -bench 'BenchmarkSearchCountScale' -benchtime 2s -timeout 60m ./internal/jobs/

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
