# Inventory Beacon. `make run` and `make test` do all the set-up on Debian.
SHELL := bash
export LANG := en_US.UTF-8
GO    ?= go
TAGS  := migrated_fynedo
BIN   := bin

.PHONY: run test deps build vet fmt-check sim clean

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

test: deps fmt-check vet
	scripts/session.sh $(GO) test -race -tags $(TAGS) -timeout 30m ./...

sim:
	$(GO) run ./cmd/m365sim

clean:
	rm -rf $(BIN)
