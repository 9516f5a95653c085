#!/usr/bin/env bash
# The measurements behind README "Performance" (deploy/load/README.md), on
# this machine, 127.0.0.1 only. It starts a Redis of its own; `bench` runs
# the Go benchmarks (summarised with benchstat) with REDIS_URL pointing at
# it; the load tests build otp, start the ERPNext sandbox (`otp sandbox
# --latency`) and `otp serve` on ports of their own and run wrk against them.
# Everything it started is stopped when it ends (also on Ctrl-C or a failure).
#
#   deploy/load/run.sh [bench|profile|webhook|quote|quote-latency|load|all]   (default: all)
#
#   bench          go test -bench for promise/, server/ (webhook intake, quote API), worker/; and profile
#   profile        where a 100-line promise's CPU goes (pprof -top -cum of the worker benchmark)
#   webhook        wrk: signed Sales Order webhooks, as fast as they are answered and paced at RATE
#   quote          wrk: POST /otp/promise, the same two ways
#   quote-latency  wrk: the same with 20 ms per ERPNext request
#   load           webhook, quote and quote-latency; all: bench and load
#
# Env: DURATION    seconds per measured run (default 30; each group also
#                  runs a 3 s warm-up that is not recorded)
#      RATE        the paced runs' target rate, requests/s (default 500)
#      COUNT       go test -count for bench (default 6: benchstat needs 6 for an interval)
#      OUT         where the results go (default deploy/load/results/<UTC date>)
#      REDIS_PORT, ERP_PORT, OTP_PORT   (default 6399, 18000, 18001)
#      LOG_LEVEL   otp serve's (default INFO: one JSON line per webhook, as in production)
set -euo pipefail
cd "$(dirname "$0")/../.."

what=${1:-all}
case "$what" in bench | profile | webhook | quote | quote-latency | load | all) ;; *)
	echo "usage: $0 [bench|profile|webhook|quote|quote-latency|load|all]" >&2
	exit 2
	;;
esac
DURATION=${DURATION:-30}
RATE=${RATE:-500}
COUNT=${COUNT:-6}
BENCHSTAT=golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
OUT=${OUT:-deploy/load/results/$(date -u +%Y-%m-%d)}
REDIS_PORT=${REDIS_PORT:-6399}
ERP_PORT=${ERP_PORT:-18000}
OTP_PORT=${OTP_PORT:-18001}
export LOG_LEVEL=${LOG_LEVEL:-INFO}

# What the runs need: install it on a Debian machine where we may (as CI does).
missing=()
for cmd in redis-server redis-cli wrk curl; do
	command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd")
done
if ((${#missing[@]})); then
	if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server wrk curl >/dev/null
	else
		echo "missing: ${missing[*]} (apt-get install redis-server wrk curl)" >&2
		exit 1
	fi
fi

tmp=$(mktemp -d)
pids=()
cleanup() {
	local pid
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

# stop PID: stop one process this script started.
stop() {
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	local kept=() pid
	for pid in "${pids[@]}"; do
		[[ $pid == "$1" ]] || kept+=("$pid")
	done
	pids=("${kept[@]}")
}

# wait_for URL: until it answers 200, for at most 30 s.
wait_for() {
	local deadline=$((SECONDS + 30))
	until [[ $(curl -s -o /dev/null -w '%{http_code}' "$1") == 200 ]]; do
		if ((SECONDS > deadline)); then
			echo "no answer from $1; logs in $tmp:" >&2
			tail -n 20 "$tmp"/*.log >&2 || true
			exit 1
		fi
		sleep 0.2
	done
}

mkdir -p "$OUT"

{
	echo "== deploy/load/run.sh $what"
	echo "date:    $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "commit:  $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . 2>/dev/null || echo ' (with uncommitted changes)')"
	echo "cpu:     $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
	echo "memory:  $(free -g | awk '/^Mem:/ {print $2 " GiB"}')"
	echo "go:      $(go version | cut -d' ' -f3-)"
	echo "redis:   $(redis-server --version | cut -d' ' -f3)"
	echo "wrk:     $(wrk --version 2>&1 | head -1 | cut -d' ' -f2)"
	echo "load:    everything below (wrk, otp serve, redis-server, the sandbox) shares these cores"
	echo "load tests: ${DURATION}s per run; paced runs target ${RATE} requests/s; otp LOG_LEVEL=$LOG_LEVEL; benchmarks: -count $COUNT"
} | tee -a "$OUT/machine.txt"

redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no >"$tmp/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 50); do
	redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break
	sleep 0.1
done
redis-cli -p "$REDIS_PORT" ping >/dev/null

# bench NAME PACKAGE PATTERN: go test -bench, raw output and benchstat's summary.
bench() {
	echo "== go test -run '^\$' -bench '$3' -benchmem -count $COUNT $2"
	{
		echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
		REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0" go test -run '^$' -bench "$3" -benchmem -count "$COUNT" "$2"
		echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
	} >"$OUT/bench-$1.txt" 2>&1 || {
		tail -n 20 "$OUT/bench-$1.txt" >&2
		exit 1
	}
	(cd "$OUT" && go run "$BENCHSTAT" "bench-$1.txt") | tee "$OUT/bench-$1.benchstat.txt"
}

if [[ $what == all || $what == bench ]]; then
	bench promise ./promise/ .
	bench webhook ./server/ SalesOrderWebhook
	bench quote ./server/ QuotePromise
	# A book pass: -benchtime 200x, not -count (its book takes a minute to build).
	echo "== go test -run '^\$' -bench BookPass -benchtime 200x ./worker/"
	go test -run '^$' -bench BookPass -benchtime 200x ./worker/ | tee "$OUT/bench-worker.txt"
fi
if [[ $what == all || $what == bench || $what == profile ]]; then
	echo "== profile: BookPass/5000-lines/sequential"
	go test -run '^$' -bench 'BookPass/5000-lines/sequential' -benchtime 30x \
		-cpuprofile "$tmp/cpu.out" -o "$tmp/worker.test" ./worker/ >"$tmp/profile-bench.txt"
	{
		echo "# go test -run '^\$' -bench 'BookPass/5000-lines/sequential' -benchtime 30x -cpuprofile cpu.out -o worker.test ./worker/"
		echo "# go tool pprof -top -cum worker.test cpu.out"
		grep '^Benchmark' "$tmp/profile-bench.txt"
		go tool pprof -top -cum "$tmp/worker.test" "$tmp/cpu.out" 2>/dev/null
	} >"$OUT/profile-worker-book-pass.txt"
	grep -E 'Total samples|erp.decode$|sandbox.\(\*Sandbox\).ServeHTTP$|runtime.gcBgMarkWorker$|promise.Allocate$|worker.\(\*Worker\).pass$' "$OUT/profile-worker-book-pass.txt"
fi
[[ $what == bench || $what == profile ]] && exit 0

echo "building otp"
go build -o "$tmp/otp" ./cmd/otp

secret=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
erp_pid='' otp_pid=''

# start LATENCY: the sandbox with that ERPNext latency, and otp serve on it.
start() {
	[[ -n $otp_pid ]] && stop "$otp_pid"
	[[ -n $erp_pid ]] && stop "$erp_pid"
	"$tmp/otp" sandbox --addr "127.0.0.1:$ERP_PORT" --latency "$1" >"$tmp/erp.log" 2>&1 &
	erp_pid=$!
	pids+=("$erp_pid")
	wait_for "http://127.0.0.1:$ERP_PORT/api/method/ping"
	env OTP_ENV=development \
		REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0" \
		ERPNEXT_BASE_URL="http://127.0.0.1:$ERP_PORT" \
		ERPNEXT_API_KEY=otp-demo-key ERPNEXT_API_SECRET=otp-demo-secret ERPNEXT_API_USER=otp@example.com \
		OTP_WEBHOOK_SECRET="$secret" \
		OTP_HTTP_ADDR="127.0.0.1:$OTP_PORT" \
		OTP_PUBLIC_URL="http://127.0.0.1:$OTP_PORT" \
		"$tmp/otp" serve >"$tmp/otp.out" 2>"$tmp/otp.log" &
	otp_pid=$!
	pids+=("$otp_pid")
	wait_for "http://127.0.0.1:$OTP_PORT/health"
}

pending() { redis-cli -p "$REDIS_PORT" llen 'asynq:{promise}:pending'; }

# measure NAME SCRIPT PATH CONNECTIONS [RATE]: one recorded wrk run.
measure() {
	local name=$1 script=$2 path=$3 conns=$4 rate=${5:-}
	echo "== $name: -c$conns${rate:+, paced at $rate/s}, ${DURATION}s"
	{
		echo "# $name: wrk -t1 -c$conns -d${DURATION}s -s deploy/load/$script http://127.0.0.1:$OTP_PORT$path${rate:+ (WRK_RATE=$rate)}"
		echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
		OTP_WEBHOOK_SECRET=$secret WRK_RATE=$rate WRK_THREADS=1 WRK_RUN=$name \
			wrk -t1 -c"$conns" -d"${DURATION}s" --timeout 5s --latency -s "deploy/load/$script" "http://127.0.0.1:$OTP_PORT$path"
		echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
	} >"$OUT/$name.txt" 2>&1
	grep '^RESULT' "$OUT/$name.txt" | sed "s/^RESULT/$name/" | tee -a "$OUT/summary.txt"
	grep -q 'non2xx=0 socket_errors=0' "$OUT/$name.txt" || echo "   ^ errors: see $OUT/$name.txt" >&2
}

# warm NAME SCRIPT PATH CONNECTIONS: 3 s, not recorded.
warm() {
	OTP_WEBHOOK_SECRET=$secret WRK_RUN="warm-$1-$SECONDS" wrk -t1 -c"$4" -d3s -s "deploy/load/$2" "http://127.0.0.1:$OTP_PORT$3" >/dev/null
}

# webhook NAME CONNECTIONS [RATE]: a measured run, then a check that every
# answered delivery is a queued task (none deduplicated, none lost).
webhook() {
	local before after requests
	before=$(pending)
	measure "$1" webhook.lua /webhooks/erpnext/sales-order "$2" "${3:-}"
	after=$(pending)
	requests=$(sed -n 's/^RESULT requests=\([0-9]*\).*/\1/p' "$OUT/$1.txt")
	# wrk counts answered requests; up to one per connection was in flight when it stopped.
	if ((after - before < requests || after - before > requests + $2)); then
		echo "   ^ queued $((after - before)) tasks for $requests answered deliveries" | tee -a "$OUT/$1.txt" >&2
	else
		echo "# queued tasks: $((after - before)) for $requests answered deliveries" >>"$OUT/$1.txt"
	fi
}

: >"$OUT/summary.txt"
load() { [[ $what == all || $what == load || $what == "$1" ]]; }
if load webhook; then
	start 0s
	warm webhook webhook.lua /webhooks/erpnext/sales-order 32
	webhook webhook-max 32
	webhook "webhook-$RATE" 32 "$RATE"
fi
if load quote; then
	start 0s
	warm quote quote.lua /otp/promise 16
	measure quote-max quote.lua /otp/promise 16
	measure "quote-$RATE" quote.lua /otp/promise 32 "$RATE"
fi
if load quote-latency; then
	start 20ms
	warm quote quote.lua /otp/promise 64
	measure quote-erp20ms-max quote.lua /otp/promise 64
	measure "quote-erp20ms-$RATE" quote.lua /otp/promise 64 "$RATE"
fi
echo "results in $OUT"
