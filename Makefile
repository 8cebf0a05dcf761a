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

# `netpanel --version` prints VERSION (from the newest tag, if any) and
# COMMIT, "-dirty" when the checkout has changes. Set explicitly rather
# than left to Go's VCS stamping, which GOFLAGS=-buildvcs=false and
# builds outside a checkout turn off.
VERSION  ?= $(shell git describe --tags --dirty 2>/dev/null)
COMMIT   ?= $(shell h=$$(git rev-parse HEAD 2>/dev/null) && { git diff --quiet HEAD 2>/dev/null && echo $$h || echo $$h-dirty; })
LDFLAGS  := $(if $(VERSION),-X main.version=$(VERSION)) $(if $(COMMIT),-X main.commit=$(COMMIT))

# make install PREFIX=/usr DESTDIR=/tmp/pkg, as a distribution package
# does; the defaults install under /usr/local, which systemd, man,
# bash-completion and systemd-tmpfiles all search.
PREFIX         ?= /usr/local
DESTDIR        ?=
SBINDIR        ?= $(PREFIX)/sbin
MANDIR         ?= $(PREFIX)/share/man
BASHCOMPDIR    ?= $(PREFIX)/share/bash-completion/completions
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
TMPFILESDIR    ?= $(PREFIX)/lib/tmpfiles.d
DIST           := cmd/netpanel/dist

VENDOR_DIR   := static/vendor
VENDOR_FILES := $(VENDOR_DIR)/htmx.min.js $(VENDOR_DIR)/uPlot.iife.min.js $(VENDOR_DIR)/uPlot.min.css
# npm ci writes this hidden lockfile; it is older than package-lock.json when
# node_modules is missing or out of date.
NPM_STAMP := node_modules/.package-lock.json

.PHONY: vendor generate check-generated build run test bench fuzz clean install uninstall

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
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/netpanel

# The manual page and the completion come from the binary's own flag set
# and command table, so they cannot drift from it.
bin/netpanel.8: build
	./$(BIN) man > $@

bin/netpanel.bash: build
	./$(BIN) completion bash > $@

# The unit names the installed binary.
bin/netpanel.service: $(DIST)/netpanel.service
	@mkdir -p bin
	sed 's|^ExecStart=/usr/local/sbin/netpanel|ExecStart=$(SBINDIR)/netpanel|' $< > $@

install: build bin/netpanel.8 bin/netpanel.bash bin/netpanel.service
	install -D -m 0755 $(BIN) $(DESTDIR)$(SBINDIR)/netpanel
	install -D -m 0644 bin/netpanel.8 $(DESTDIR)$(MANDIR)/man8/netpanel.8
	install -D -m 0644 bin/netpanel.bash $(DESTDIR)$(BASHCOMPDIR)/netpanel
	install -D -m 0644 bin/netpanel.service $(DESTDIR)$(SYSTEMDUNITDIR)/netpanel.service
	install -D -m 0644 $(DIST)/netpanel.tmpfiles $(DESTDIR)$(TMPFILESDIR)/netpanel.conf
	@if [ -z "$(DESTDIR)" ]; then \
		echo "installed; now: systemctl daemon-reload && systemd-tmpfiles --create netpanel.conf && systemctl enable --now netpanel"; \
	fi

# Leaves /var/lib/netpanel (accounts, audit log, backups) alone.
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/netpanel $(DESTDIR)$(MANDIR)/man8/netpanel.8 \
		$(DESTDIR)$(BASHCOMPDIR)/netpanel $(DESTDIR)$(SYSTEMDUNITDIR)/netpanel.service \
		$(DESTDIR)$(TMPFILESDIR)/netpanel.conf

# sudo make run               the demo (ARGS defaults to --demo)
# sudo make run ARGS='--listen 127.0.0.1:9090'
run: build
	./$(BIN) $(ARGS)

# networkd.Loader's Loads run side by side: its tests run again under the
# race detector.
test: vendor check-generated
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...
	$(GO) test -count=1 -race -run Loader ./netops/files/networkd/

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
