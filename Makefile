# Sous build. `make run` starts a dev host; `make test` runs every test.
GO      ?= go
BIN     := $(CURDIR)/bin
PLUGINS := $(notdir $(wildcard internal/plugins/*))
EXAMPLE_PLUGINS := $(notdir $(wildcard examples/plugins/*))
BUN     := $(CURDIR)/node_modules/.bin/bun
PROTOS  := $(wildcard sdk/proto/*/*.proto)
# SANDBOX_BUILD stamps the sandbox code into the executors and the sous-sandbox helper
# beside them (sdk/harness/sandbox.Build): a hash of the sources of every non-standard
# package the helper is built from. An executor starts its jails through the helper only
# when the two stamps match.
SANDBOX_BUILD := $(shell $(GO) list -deps -f '{{if not .Standard}}{{range .GoFiles}}{{$$.Dir}}/{{.}} {{end}}{{end}}' ./cmd/sous-sandbox | xargs cat | sha256sum | cut -c1-16)
LDFLAGS := -X github.com/sous-run/sous/sdk/harness/sandbox.Build=$(SANDBOX_BUILD)

.PHONY: all build host plugins example-plugins test run lint tools proto bench clean sandbox-deps

all: build

build: host plugins example-plugins

host:
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/sous ./cmd/sous

plugins:
	@mkdir -p $(BIN)/plugins
	@for p in $(PLUGINS); do \
		echo "go build sous-plugin-$$p"; \
		$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/plugins/sous-plugin-$$p ./internal/plugins/$$p || exit 1; \
	done
	@echo "go build sous-sandbox"
	@$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/plugins/sous-sandbox ./cmd/sous-sandbox

example-plugins:
	@mkdir -p $(BIN)/example-plugins
	@for p in $(EXAMPLE_PLUGINS); do \
		echo "go build example plugin $$p"; \
		$(GO) build -o $(BIN)/example-plugins/$$p ./examples/plugins/$$p || exit 1; \
	done

# tools installs the pinned Bun (package.json) into ./node_modules through npm.
tools: $(BUN)

$(BUN): package.json
	npm install --no-audit --no-fund --loglevel=error
	@touch $(BUN)

# RACE_PKGS are tested under the race detector by `make test` (the rest without it):
# packages whose tests are in-process and cheap enough for -race's 2-10x. Not here:
# internal/host/e2e, the executors and cmd/sous (real processes; the detector sees only the
# test binary) and internal/host/cluster (boltdb/bolt fails the race build's checkptr check).
RACE_PKGS := ./internal/host/api/... ./internal/host/auth/... ./internal/host/codecheck/... ./internal/host/config/... \
	./internal/host/events/... ./internal/host/invocation/... ./internal/host/mcp/... ./internal/host/plugins/... \
	./internal/host/server/... ./internal/host/store/... ./internal/host/telemetry/... ./internal/host/triggers/... \
	./internal/host/worker/... ./internal/host/control/... ./internal/redisconn/... ./internal/testenv/... \
	./internal/plugins/events-redisstream/... ./internal/plugins/messaging-redis/... \
	./internal/plugins/messaging-codeq/broker/... ./internal/plugins/messaging-codeq/driver/... \
	./internal/plugins/messaging-codeq/client/... ./sdk ./sdk/envelope/... ./sdk/harness/... \
	./sdk/telemetry/...

test: build tools lint
	SOUS_BIN_DIR=$(BIN) $(GO) test -count=1 -race -timeout 30m $(RACE_PKGS)
	SOUS_BIN_DIR=$(BIN) $(GO) test -count=1 -timeout 30m \
		$$($(GO) list ./... | grep -vxF "$$($(GO) list $(RACE_PKGS))")

run: build tools sandbox-deps
	$(BIN)/sous dev --config configs/sous.yaml

# sandbox-deps installs what the function sandbox needs beyond the kernel: slirp4netns
# for functions with `network: outbound` (apt, when root and missing).
sandbox-deps:
	@command -v slirp4netns >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "installing slirp4netns (sandbox network: outbound)"; \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slirp4netns || true; \
		fi; \
		command -v slirp4netns >/dev/null 2>&1 || echo "warning: slirp4netns missing: functions with network: outbound will fail (apt-get install slirp4netns)"; \
	}

bench: build tools
	$(BIN)/sous bench
	SOUS_BIN_DIR=$(BIN) $(GO) test -run '^$$' -bench Sandbox -benchtime 300x ./internal/plugins/executor-bun ./internal/plugins/executor-python

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './node_modules/*')); \
		if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# proto regenerates sdk/proto/*/*.pb.go (needs protoc, protoc-gen-go, protoc-gen-go-grpc).
proto:
	@for f in $(PROTOS); do \
		protoc -I sdk/proto --go_out=. --go_opt=module=github.com/sous-run/sous \
			--go-grpc_out=. --go-grpc_opt=module=github.com/sous-run/sous $$f || exit 1; \
	done

clean:
	rm -rf $(BIN)
