#!/usr/bin/env bash
# The measurements behind README "Performance" (deploy/load/README.md), on
# this machine, 127.0.0.1 only. It starts a Redis of its own; `bench` runs
# the Go benchmarks (summarised with benchstat) with REDIS_URL pointing at
# it; the load tests build otp and the bare-Echo baseline, start the ERPNext
# sandbox (`otp sandbox --latency`), `otp serve` and the baseline on ports of
# their own and run wrk against them.
# Everything it started is stopped when it ends (also on Ctrl-C or a failure).
#
#   deploy/load/run.sh [bench|profile|intake|intake-profile|quote|quote-latency|load|all]   (default: all)
#
#   bench          go test -bench for promise/, server/ (webhook intake, quote API), worker/; and profile
#   profile        where a 100-line promise's CPU goes (pprof -top -cum of the worker benchmark)
#   intake         side by side, alternating ROUNDS times: the bare Echo baseline (echobase/) and
#                  otp serve on Redis under the same signed-webhook wrk load, as fast as answered
#                  and paced at INTAKE_RATE; the ratio of the medians; otp serve's peak RSS
#                  (webhook is the old name of this mode)
#   intake-profile where a running otp serve's CPU goes under the saturating webhook load
#                  (built with -tags pprof; pprof -top of a PROFILE_SECONDS profile)
#   quote          wrk: POST /otp/promise, as fast as answered and paced at RATE
#   quote-latency  wrk: the same with 20 ms per ERPNext request
#   load           intake, quote and quote-latency; all: bench and load
#
# Env: DURATION    seconds per measured run (default 30; each group also
#                  runs a 3 s warm-up that is not recorded)
#      ROUNDS      intake: rounds of (baseline, otp) runs (default 3)
#      INTAKE_RATE intake: the paced runs' rate, requests/s (default 2000)
#      RATE        the quote groups' paced rate, requests/s (default 500)
#      COUNT       go test -count for bench (default 6: benchstat needs 6 for an interval)
#      PROFILE_SECONDS  intake-profile: seconds of CPU profile (default 10)
#      OUT         where the results go (default deploy/load/results/<UTC date>)
#      REDIS_PORT, ERP_PORT, OTP_PORT, BASE_PORT, PPROF_PORT   (default 6399, 18000, 18001, 18002, 18003)
#      LOG_LEVEL   otp serve's (default INFO: one JSON line per webhook, as in production)
set -euo pipefail
cd "$(dirname "$0")/../.."
# The end-to-end runs have a script of their own: deploy/load/e2e.sh.
[[ ${1:-} == e2e ]] && exec deploy/load/e2e.sh "${@:2}"

what=${1:-all}
[[ $what == webhook ]] && what=intake
modes='bench|profile|intake|intake-profile|quote|quote-latency|load|all'
case "|$modes|" in *"|$what|"*) ;; *)
	echo "usage: $0 [$modes]" >&2
	exit 2
	;;
esac
DURATION=${DURATION:-30}
ROUNDS=${ROUNDS:-3}
INTAKE_RATE=${INTAKE_RATE:-2000}
RATE=${RATE:-500}
COUNT=${COUNT:-6}
PROFILE_SECONDS=${PROFILE_SECONDS:-10}
BENCHSTAT=golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
OUT=${OUT:-deploy/load/results/$(date -u +%Y-%m-%d)}
REDIS_PORT=${REDIS_PORT:-6399}
ERP_PORT=${ERP_PORT:-18000}
OTP_PORT=${OTP_PORT:-18001}
BASE_PORT=${BASE_PORT:-18002}
PPROF_PORT=${PPROF_PORT:-18003}
export LOG_LEVEL=${LOG_LEVEL:-INFO}
WEBHOOK_PATH=/webhooks/erpnext/sales-order

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

# median N...: the middle value (the lower middle of an even count).
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

# field NAME FILE: a value of the RESULT line of a wrk run's output.
field() { sed -n "s/^RESULT.* $1=\([0-9.]*\).*/\1/p" "$2"; }

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

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
	echo "load:    everything below (wrk, otp serve, redis-server, the sandbox, the baseline) shares these cores"
	echo "load tests: ${DURATION}s per run; intake: $ROUNDS rounds, paced at ${INTAKE_RATE}/s; quotes paced at ${RATE}/s; otp LOG_LEVEL=$LOG_LEVEL; benchmarks: -count $COUNT"
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
		echo "# load average before: $(loadavg)"
		REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0" go test -run '^$' -bench "$3" -benchmem -count "$COUNT" "$2"
		echo "# load average after: $(loadavg)"
	} >"$OUT/bench-$1.txt" 2>&1 || {
		tail -n 20 "$OUT/bench-$1.txt" >&2
		exit 1
	}
	(cd "$OUT" && go run "$BENCHSTAT" "bench-$1.txt") | tee "$OUT/bench-$1.benchstat.txt"
}

mode_bench() {
	bench promise ./promise/ .
	bench webhook ./server/ SalesOrderWebhook
	bench quote ./quote/ QuotePromise
	# A book pass: -benchtime 200x, not -count (its book takes a minute to build).
	echo "== go test -run '^\$' -bench BookPass -benchtime 200x ./worker/"
	go test -run '^$' -bench BookPass -benchtime 200x ./worker/ | tee "$OUT/bench-worker.txt"
}

mode_profile() {
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
}

# build [TAGS]: otp (with those build tags) and echobase, once.
built=''
build() {
	[[ $built == "${1:-none}" ]] && return
	echo "building otp${1:+ (-tags $1)} and echobase"
	go build ${1:+-tags "$1"} -o "$tmp/otp" ./cmd/otp
	go build -o "$tmp/echobase" ./deploy/load/echobase
	built=${1:-none}
}

secret=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
erp_pid='' otp_pid='' base_pid=''

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
		OTP_PPROF_ADDR="127.0.0.1:$PPROF_PORT" \
		"$tmp/otp" serve >"$tmp/otp.out" 2>"$tmp/otp.log" &
	otp_pid=$!
	pids+=("$otp_pid")
	wait_for "http://127.0.0.1:$OTP_PORT/health"
}

# start_base: the bare Echo baseline.
start_base() {
	[[ -n $base_pid ]] && stop "$base_pid"
	"$tmp/echobase" -addr "127.0.0.1:$BASE_PORT" >"$tmp/base.log" 2>&1 &
	base_pid=$!
	pids+=("$base_pid")
	wait_for "http://127.0.0.1:$BASE_PORT/health"
}

# measure NAME SCRIPT URL CONNECTIONS [RATE]: one recorded wrk run.
measure() {
	local name=$1 script=$2 url=$3 conns=$4 rate=${5:-}
	{
		echo "# $name: wrk -t1 -c$conns -d${DURATION}s -s deploy/load/$script $url${rate:+ (WRK_RATE=$rate)}"
		echo "# load average before: $(loadavg)"
		OTP_WEBHOOK_SECRET=$secret WRK_RATE=$rate WRK_THREADS=1 WRK_RUN=$name-$RANDOM \
			wrk -t1 -c"$conns" -d"${DURATION}s" --timeout 5s --latency -s "deploy/load/$script" "$url"
		echo "# load average after: $(loadavg)"
	} >"$OUT/$name.txt" 2>&1
	grep '^RESULT' "$OUT/$name.txt" | sed "s/^RESULT/$name/" | tee -a "$OUT/summary.txt"
	grep -q 'non2xx=0 socket_errors=0' "$OUT/$name.txt" || echo "   ^ errors: see $OUT/$name.txt" >&2
}

# warm SCRIPT URL CONNECTIONS: 3 s, not recorded.
warm() {
	OTP_WEBHOOK_SECRET=$secret WRK_RUN="warm-$RANDOM" wrk -t1 -c"$3" -d3s -s "deploy/load/$1" "$2" >/dev/null
}

pending() { redis-cli -p "$REDIS_PORT" llen 'asynq:{promise}:pending'; }

# webhook NAME CONNECTIONS [RATE]: a measured run of otp serve, then a check
# that every answered delivery is a queued task (none deduplicated, none
# lost), then an empty Redis again for the next run.
webhook() {
	local before after requests
	before=$(pending)
	measure "$1" webhook.lua "http://127.0.0.1:$OTP_PORT$WEBHOOK_PATH" "$2" "${3:-}"
	after=$(pending)
	requests=$(field requests "$OUT/$1.txt")
	# wrk counts answered requests; up to one per connection was in flight when it stopped.
	if ((after - before < requests || after - before > requests + $2)); then
		echo "   ^ queued $((after - before)) tasks for $requests answered deliveries" | tee -a "$OUT/$1.txt" >&2
	else
		echo "# queued tasks: $((after - before)) for $requests answered deliveries" | tee -a "$OUT/$1.txt"
	fi
	redis-cli -p "$REDIS_PORT" flushdb >/dev/null
}

# base NAME CONNECTIONS [RATE]: a measured run of the bare Echo baseline.
base() { measure "$1" webhook.lua "http://127.0.0.1:$BASE_PORT$WEBHOOK_PATH" "$2" "${3:-}"; }

# ticks PID...: CPU time the processes used so far, in clock ticks (user + system).
ticks() {
	local pid total=0
	for pid in "$@"; do
		total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
	done
	echo "$total"
}

# cpu_per_request TICKS_BEFORE TICKS_AFTER FILE: CPU µs per answered request of a run.
cpu_per_request() {
	awk -v b="$1" -v a="$2" -v n="$(field requests "$3")" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.0f", (a - b) * 1e6 / hz / n}'
}

# rss PID: peak and current resident memory, from /proc.
rss() { awk '/^VmHWM|^VmRSS/ {printf "%s %.1f MiB  ", $1, $2 / 1024}' "/proc/$1/status"; }

# mode_intake: the bare baseline and otp serve side by side, alternating,
# as fast as answered (-c32) and paced at INTAKE_RATE; the ratio of the
# medians is the figure that holds on a shared machine.
mode_intake() {
	build
	start 0s
	start_base
	warm webhook.lua "http://127.0.0.1:$BASE_PORT$WEBHOOK_PATH" 32
	warm webhook.lua "http://127.0.0.1:$OTP_PORT$WEBHOOK_PATH" 32
	redis-cli -p "$REDIS_PORT" flushdb >/dev/null
	echo "== intake side by side: wrk -t1 -c32 -d${DURATION}s -s deploy/load/webhook.lua, $ROUNDS rounds, baseline first"
	local r t0 t1 r0 r1 bare=() otp=() bare_p99=() otp_p99=() bare_cpu=() otp_cpu=() redis_cpu=()
	local redis_pid
	redis_pid=$(redis-cli -p "$REDIS_PORT" info server | sed -n 's/^process_id:\([0-9]*\).*/\1/p')
	for r in $(seq 1 "$ROUNDS"); do
		t0=$(ticks "$base_pid")
		base "intake-base-max-$r" 32
		t1=$(ticks "$base_pid")
		bare+=("$(field rps "$OUT/intake-base-max-$r.txt")")
		bare_cpu+=("$(cpu_per_request "$t0" "$t1" "$OUT/intake-base-max-$r.txt")")
		t0=$(ticks "$otp_pid") r0=$(ticks "$redis_pid")
		webhook "intake-otp-max-$r" 32
		t1=$(ticks "$otp_pid") r1=$(ticks "$redis_pid")
		otp+=("$(field rps "$OUT/intake-otp-max-$r.txt")")
		otp_cpu+=("$(cpu_per_request "$t0" "$t1" "$OUT/intake-otp-max-$r.txt")")
		redis_cpu+=("$(cpu_per_request "$r0" "$r1" "$OUT/intake-otp-max-$r.txt")")
	done
	local otp_mem base_mem
	otp_mem=$(rss "$otp_pid") base_mem=$(rss "$base_pid")
	echo "== intake paced at ${INTAKE_RATE}/s (WRK_RATE=$INTAKE_RATE), $ROUNDS rounds"
	for r in $(seq 1 "$ROUNDS"); do
		base "intake-base-$INTAKE_RATE-$r" 32 "$INTAKE_RATE"
		webhook "intake-otp-$INTAKE_RATE-$r" 32 "$INTAKE_RATE"
		bare_p99+=("$(field p99_ms "$OUT/intake-base-$INTAKE_RATE-$r.txt")")
		otp_p99+=("$(field p99_ms "$OUT/intake-otp-$INTAKE_RATE-$r.txt")")
	done
	local mb mo
	mb=$(median "${bare[@]}") mo=$(median "${otp[@]}")
	{
		echo "== intake: median of $ROUNDS rounds"
		echo "saturation (-c32)   baseline ${mb}/s   otp serve ${mo}/s   ratio $(awk -v o="$mo" -v b="$mb" 'BEGIN {printf "%.2f", o / b}')"
		echo "CPU per request     baseline $(median "${bare_cpu[@]}") µs   otp serve $(median "${otp_cpu[@]}") µs + redis-server $(median "${redis_cpu[@]}") µs"
		echo "paced ${INTAKE_RATE}/s p99    baseline $(median "${bare_p99[@]}") ms   otp serve $(median "${otp_p99[@]}") ms"
		echo "memory after the saturating runs: otp serve $otp_mem; baseline $base_mem"
	} | tee "$OUT/intake.txt" | tee -a "$OUT/summary.txt"
}

# mode_intake_profile: a CPU profile of otp serve (built with -tags pprof,
# which serves net/http/pprof on OTP_PPROF_ADDR) under the saturating load.
mode_intake_profile() {
	build pprof
	start 0s
	warm webhook.lua "http://127.0.0.1:$OTP_PORT$WEBHOOK_PATH" 32
	echo "== intake-profile: ${PROFILE_SECONDS}s CPU profile of otp serve under wrk -t1 -c32"
	local d=$DURATION
	DURATION=$((PROFILE_SECONDS + 4))
	curl -s -o "$tmp/intake.pprof" "http://127.0.0.1:$PPROF_PORT/debug/pprof/profile?seconds=$PROFILE_SECONDS" &
	local curl_pid=$!
	webhook intake-profile-load 32
	wait "$curl_pid"
	DURATION=$d
	cp "$tmp/intake.pprof" "$OUT/profile-intake.pprof"
	{
		echo "# otp serve built with -tags pprof under wrk -t1 -c32 -s deploy/load/webhook.lua (LOG_LEVEL=$LOG_LEVEL)"
		echo "# curl -o intake.pprof 'http://127.0.0.1:$PPROF_PORT/debug/pprof/profile?seconds=$PROFILE_SECONDS'"
		echo "# go tool pprof -top otp intake.pprof"
		go tool pprof -top "$tmp/otp" "$tmp/intake.pprof" 2>/dev/null | head -40
		echo "# go tool pprof -top -cum otp intake.pprof"
		go tool pprof -top -cum "$tmp/otp" "$tmp/intake.pprof" 2>/dev/null | head -60
	} >"$OUT/profile-intake.txt"
	sed -n '1,20p' "$OUT/profile-intake.txt"
	echo "full profile: $OUT/profile-intake.txt (go tool pprof -http : $OUT/profile-intake.pprof)"
}

mode_quote() {
	build
	start 0s
	local url=http://127.0.0.1:$OTP_PORT/otp/promise
	warm quote.lua "$url" 16
	measure quote-max quote.lua "$url" 16
	measure "quote-$RATE" quote.lua "$url" 32 "$RATE"
}

mode_quote_latency() {
	build
	start 20ms
	local url=http://127.0.0.1:$OTP_PORT/otp/promise
	warm quote.lua "$url" 64
	measure quote-erp20ms-max quote.lua "$url" 64
	measure "quote-erp20ms-$RATE" quote.lua "$url" 64 "$RATE"
}

: >>"$OUT/summary.txt"
case $what in
bench)
	mode_bench
	mode_profile
	;;
profile) mode_profile ;;
intake) mode_intake ;;
intake-profile) mode_intake_profile ;;
quote) mode_quote ;;
quote-latency) mode_quote_latency ;;
load | all)
	# Not `a && b`: bash ignores set -e inside a function called so.
	if [[ $what == all ]]; then
		mode_bench
		mode_profile
	fi
	mode_intake
	mode_quote
	mode_quote_latency
	;;
esac
echo "results in $OUT"
