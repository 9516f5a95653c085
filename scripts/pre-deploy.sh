#!/usr/bin/env bash
# The checks to pass before a release is deployed, in the order a failure is
# cheapest to find: formatting, go vet and staticcheck (make lint, with
# go mod tidy -diff), gosec, golangci-lint when installed, the tests with
# -race and coverage, coverage per package, then the build.
#
#   scripts/pre-deploy.sh            # REDIS_URL set: the real-Redis tests run too
#
# COVERAGE_MIN (default 80) is the per-package statement coverage asked for;
# packages below it are listed and fail the run. Packages without tests
# (main packages of tools) count as 0 %. The version is VERSION or
# `git describe`.
set -euo pipefail
cd "$(dirname "$0")/.."

min=${COVERAGE_MIN:-80}
gosec=github.com/securego/gosec/v2/cmd/gosec@v2.30.0
step() { printf '\n== %s\n' "$*"; }

step "make lint: gofmt, go mod tidy -diff, go vet, staticcheck (and deploy/check)"
make lint

step "gosec ($gosec)"
# Rules left out, each for what it reported on this code base (gosec
# v2.30.0, 17 findings, all of them these):
#   G104 unchecked errors: staticcheck's and errcheck's job already.
#   G101 "hardcoded credentials": the sandbox's demo keys and a header name.
#   G115 integer conversions: day and weekday arithmetic on small numbers.
#   G404 math/rand: retry jitter and the sandbox's ids, not secrets.
#   G704 SSRF: `otp healthcheck --url`, the operator's own URL.
# Everything else gosec checks fails the run.
go run "$gosec" -quiet -exclude=G104,G101,G115,G404,G704 -exclude-dir=deploy ./...

step golangci-lint
if command -v golangci-lint >/dev/null 2>&1; then
	golangci-lint run ./...
else
	echo "skipped: golangci-lint is not installed (https://golangci-lint.run/welcome/install/)"
fi

step "go test -race with coverage"
profile=$(mktemp)
trap 'rm -f "$profile" "$profile.out"' EXIT
go test -race -count=1 -covermode=atomic -coverprofile="$profile" ./... | tee "$profile.out"
(cd deploy/check && go test -count=1 ./...)

step "coverage per package (want >= $min %)"
# "ok PKG TIME coverage: N% ...", and "PKG coverage: 0.0% ..." for a
# package without tests.
below=$(awk -v min="$min" '
	/coverage:/ && $1 != "coverage:" {
		pkg = ($1 == "ok") ? $2 : $1
		for (i = 1; i <= NF; i++) if ($i == "coverage:") c = $(i + 1)
		sub("%", "", c)
		if (c + 0 < min) printf "  %s %s%%\n", pkg, c
	}
	$1 == "?" { printf "  %s 0%% (no test files)\n", $2 }' "$profile.out")
rm -f "$profile.out"
if [[ -n $below ]]; then
	echo "below $min %:"
	echo "$below"
	echo "pre-deploy.sh: FAILED: coverage (set COVERAGE_MIN to accept a lower bar knowingly)" >&2
	exit 1
fi
echo "every package is at $min % or more"

step build
make build VERSION="${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}"
./bin/otp version
