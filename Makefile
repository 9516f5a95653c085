# The README's first two commands: `make run` and `make test`.
GO ?= go
BIN := bin/otp
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
GOTESTSUM := gotest.tools/gotestsum@v1.13.0

.PHONY: run test test-deploy build lint lint-deploy bench sandbox

run: build
	./$(BIN) all

# deploy/check is a module of its own (Kubernetes, Compose and PromQL
# libraries stay out of OTP's go.mod); `make test` runs it too. gotestsum
# runs `go test` and ends with the failed tests and their output, so a
# failure is not buried under the other packages' logs.
test: test-deploy
	$(GO) run $(GOTESTSUM) --format pkgname-and-test-fails -- -race -count=1 ./...

test-deploy:
	cd deploy/check && $(GO) test -count=1 ./...

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/otp

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1)
	$(GO) mod tidy -diff
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	$(MAKE) lint-deploy

lint-deploy:
	cd deploy/check && $(GO) mod tidy -diff && $(GO) vet ./... && $(GO) run $(STATICCHECK) ./...

# About 6 minutes: the engine's and the webhook intake's Go benchmarks
# once each, then the intake side by side with a bare Echo baseline
# (deploy/load/run.sh intake: 3 rounds of 10 s runs, saturating and paced
# at 2,000/s, on a Redis of its own). Results in bin/bench/.
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./promise/
	$(GO) test -run '^$$' -bench SalesOrderWebhook -benchmem ./server/
	DURATION=10 OUT=bin/bench deploy/load/run.sh intake

sandbox: build  # on OTP_SANDBOX_ADDR (default 127.0.0.1:8000)
	./$(BIN) sandbox
