# Inventory Beacon. `make run` and `make test` do all the set-up on Debian.
SHELL := bash
export LANG := en_US.UTF-8
GO    ?= go
TAGS  := migrated_fynedo
BIN   := bin

.PHONY: run test deps build vet vet-platforms fmt-check sim clean

deps:
	@scripts/install-deps.sh

build: deps
	$(GO) build -tags $(TAGS) -o $(BIN)/beacon ./cmd/beacon
	$(GO) build -o $(BIN)/m365sim ./cmd/m365sim

# On a desktop this opens the window; on a machine without a display it runs
# inside scripts/session.sh (Xvfb and a private keyring) so it still starts.
run: build
	@if [[ -n "$$DISPLAY$$WAYLAND_DISPLAY" ]]; then $(BIN)/beacon --demo; \
	else echo "run: no display; starting under Xvfb with a private keyring" >&2; scripts/session.sh $(BIN)/beacon --demo; fi

fmt-check:
	@bad=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [[ -n "$$bad" ]]; then echo "gofmt needed:"; echo "$$bad"; exit 1; fi

vet: deps
	$(GO) vet -tags $(TAGS) ./...

# The suite, then the whole suite again as if today were 45 and 400 days
# later (issue 15): BEACON_CLOCK_SHIFT moves the program's one
# clock (internal/clock), so a test that only passes today fails here.
# -count=1: a cached result of the unshifted run must not stand in.
SHIFTED_PKGS := ./...
CLOCK_SHIFTS := 45d 400d

# Every package, tests included, must compile for Windows and macOS too
# (issue 24). cmd/beacon links GLFW through cgo, and on macOS Fyne itself
# needs cgo, so those are left to a native build there.
vet-platforms:
	GOOS=windows CGO_ENABLED=0 $(GO) vet -tags $(TAGS) $$($(GO) list ./... | grep -v '/cmd/beacon$$')
	GOOS=darwin CGO_ENABLED=0 $(GO) vet -tags $(TAGS) $$($(GO) list ./... | grep -v '/cmd/beacon$$\|/ui$$\|/ui/')

test: deps fmt-check vet vet-platforms
	scripts/session.sh $(GO) test -race -tags $(TAGS) -timeout 30m ./...
	@echo "== the schedule with Go's embedded zone database (Windows has no other)"
	ZONEINFO=$$($(GO) env GOROOT)/lib/time/zoneinfo.zip scripts/session.sh $(GO) test -count=1 -race -tags $(TAGS) ./schedule/...
	@for s in $(CLOCK_SHIFTS); do \
	  echo "== the clock moved by $$s (BEACON_CLOCK_SHIFT=$$s)"; \
	  BEACON_CLOCK_SHIFT=$$s scripts/session.sh $(GO) test -count=1 -race -tags $(TAGS) -timeout 30m $(SHIFTED_PKGS) || exit 1; \
	done
	@$(MAKE) --no-print-directory test-windows

# Issue 24: the Windows builds run under Wine, against the simulator
# (scripts/test-windows.sh says what runs): the test binaries of storage,
# internal/filelock, schedule and storage/inventory, the console beacon.exe
# (execute, export, list, Credential Manager, two processes at once) and
# the packaged "Inventory Beacon.exe" --version.
.PHONY: test-windows package-windows
test-windows: deps package-windows
	scripts/test-windows.sh

# dist/Inventory Beacon.exe, cross-built with mingw-w64 (a GUI program:
# the headless commands want the console build, see README).
package-windows: deps
	CC=x86_64-w64-mingw32-gcc scripts/package.sh --os windows

sim:
	$(GO) run ./cmd/m365sim

clean:
	rm -rf $(BIN)

# Issue 7's benchmark: sequential vs parallel vs incremental `beacon execute`
# against the simulator (10k/100k/200k users, 0 and 150 ms), results into
# BENCHMARKS.md. `make bench BENCH_ARGS=--quick` runs 10,000 users only.
# Then (issue 21) the same 100,000-user full import into SQLite and into a
# throw-away PostgreSQL server it starts itself (--store postgres, about a
# minute more), PostgreSQL's wall time as a ratio of SQLite's.
# `make bench-scale` (opt-in: the 1,000,000-user run takes minutes and
# gigabytes) is the cost growth from 10,000 to 1,000,000 users: wall, CPU
# per user against 100,000, peak RSS, database size; then, per size, an
# incremental import after 0.1% of the users changed (its own table);
# BENCH_SCALE_ARGS=--users=10000,100000 picks the sizes.
.PHONY: bench bench-scale
bench:
	scripts/session.sh $(GO) run ./cmd/bench --write BENCHMARKS.md $(BENCH_ARGS)
	scripts/session.sh $(GO) run ./cmd/bench --store postgres --write BENCHMARKS.md $(BENCH_ARGS)

bench-scale:
	scripts/session.sh $(GO) run ./cmd/bench --growth --write BENCHMARKS.md $(BENCH_SCALE_ARGS)

# Issue 9: the Linux bundle, the README's screenshots, startup figures.
# `make package` builds dist/Inventory_Beacon.tar.xz with `fyne package
# --release` (metadata from FyneApp.toml; stripped, -trimpath) and checks it
# installs and starts (scripts/check-package.sh). macOS/Windows: README.
.PHONY: package screenshots startup-bench
package: deps
	scripts/package.sh

# docs/screenshots/{main-window,dialog}@{1x,2x}.png from the real window under Xvfb.
screenshots: build
	scripts/screenshots.sh

# Cold start to first frame and idle memory, 10 runs each with --demo and without.
startup-bench: build
	scripts/startup-bench.sh

# Issue 8: the reliability and security campaign at full size (10 min 39 s on
# 2 cores with 11 fuzz targets; 14 now): faulty Graph, kill -9 of imports and config saves, the token
# chain, OAuth attacks, secrets at rest, fuzzing, scheduler load. Figures
# in RELIABILITY.md. Go longer with BEACON_SOAK_SCALE=2 SOAK_FUZZTIME=1m
# BEACON_SOAK_LOAD_USERS=200000 BEACON_SOAK_LOAD_DURATION=15m make soak.
.PHONY: soak
soak: deps
	scripts/soak.sh
