# netpanel: `sudo make run` starts the demo, `make test` is what CI runs.
# Third-party browser files come from npm (package-lock.json) at build time and
# are copied into static/vendor/, which go:embed then picks up.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build
.DELETE_ON_ERROR:

GO       ?= go
NPM      ?= npm
ARGS     ?= --demo
FUZZTIME ?= 15s
BIN      := bin/netpanel

VENDOR_DIR   := static/vendor
VENDOR_FILES := $(VENDOR_DIR)/htmx.min.js $(VENDOR_DIR)/uPlot.iife.min.js $(VENDOR_DIR)/uPlot.min.css
# npm ci writes this hidden lockfile; it is older than package-lock.json when
# node_modules is missing or out of date.
NPM_STAMP := node_modules/.package-lock.json

.PHONY: vendor generate check-generated build run test bench fuzz clean

vendor: $(VENDOR_FILES)

$(NPM_STAMP): package.json package-lock.json
	$(NPM) ci --ignore-scripts --no-audit --no-fund
	touch $@

$(VENDOR_DIR)/htmx.min.js: $(NPM_STAMP)
	cp node_modules/htmx.org/dist/htmx.min.js $@

$(VENDOR_DIR)/uPlot.iife.min.js $(VENDOR_DIR)/uPlot.min.css: $(NPM_STAMP)
	cp node_modules/uplot/dist/$(@F) $@

generate:
	$(GO) tool templ generate

# Generated *_templ.go files are committed; fail when they differ from a fresh generate.
check-generated: generate
	@git rev-parse --is-inside-work-tree >/dev/null
	@changed="$$(git status --porcelain -- '*_templ.go')"; \
	if [ -n "$$changed" ]; then \
		echo "check-generated: *_templ.go files are stale or uncommitted; run 'make generate' and commit them:" >&2; \
		echo "$$changed" >&2; \
		exit 1; \
	fi

build: vendor
	$(GO) build -o $(BIN) ./cmd/netpanel

# sudo make run               the demo (ARGS defaults to --demo)
# sudo make run ARGS='--listen 127.0.0.1:9090'
run: build
	./$(BIN) $(ARGS)

test: vendor check-generated
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...

# The raw benchmark output is kept in bin/bench.txt and also given to
# benchreport on stdin.
bench: vendor
	@mkdir -p bin
	$(GO) test -run='^$$' -bench=. -benchmem ./... | tee bin/bench.txt
	$(GO) run ./internal/benchreport < bin/bench.txt

# Every Fuzz target in every package, $(FUZZTIME) each (go test -fuzz takes one
# target in one package at a time).
fuzz: vendor
	@for pkg in $$($(GO) list ./...); do \
		list="$$($(GO) test -list '^Fuzz' "$$pkg")"; \
		for target in $$(grep '^Fuzz' <<<"$$list" || true); do \
			echo "== $$pkg $$target"; \
			$(GO) test -run='^$$' -fuzz="^$$target\$$" -fuzztime=$(FUZZTIME) "$$pkg"; \
		done; \
	done

clean:
	rm -rf bin node_modules
	rm -f $(VENDOR_FILES)
