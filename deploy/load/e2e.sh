#!/usr/bin/env bash
# The end-to-end run behind README "Performance" (deploy/load/README.md,
# "End to end"): a save in the ERPNext sandbox → the promise fields OTP
# writes back, with `otp serve` and `otp work` as separate processes on a
# real redis-server of the run's own, the sandbox answering every request
# after LATENCY. deploy/load/e2e/main.go does the work; this script builds it
# and otp, starts the Redis and stops it (by its process id) when it ends.
#
#   deploy/load/run.sh e2e            # rates 20, 50, 100 and 150 saves/s, twice each
#   deploy/load/run.sh e2e curve      # the concurrency curve: saves at CURVE_RATE with
#                                     # OTP_WORKER_CONCURRENCY 10, 50 and 100
#   deploy/load/run.sh e2e poll       # what an idle otp work costs Redis: commands/s and
#                                     # redis-server CPU over 30 s (OTP_BIN: another otp binary)
#
# Env: RATES (default 20,50,100,150), RUNS (2), DURATION (seconds per run, 30),
#      LATENCY (30ms), CONCURRENCY (OTP_WORKER_CONCURRENCY, 10), WRITE_RATE
#      (OTP_WRITE_RATE, 400: above every rate measured), CURVE_RATE (400),
#      ORDERS (1250), LINES (4), WEBHOOK_WORKERS (the sandbox's background workers
#      sending webhooks, 1 as a bench's default), CPUPROFILE (a file: profile the
#      driver, the sandbox mostly, over the measured runs), OUT (deploy/load/results/<UTC date>),
#      E2E_REDIS_PORT, E2E_ERP_PORT, E2E_OTP_PORT, E2E_WORKER_PORT (6398, 18010-18012)
set -euo pipefail
cd "$(dirname "$0")/../.."

what=${1:-rates}
RATES=${RATES:-20,50,100,150}
RUNS=${RUNS:-2}
DURATION=${DURATION:-30}
LATENCY=${LATENCY:-30ms}
CONCURRENCY=${CONCURRENCY:-10}
WRITE_RATE=${WRITE_RATE:-400}
CURVE_RATE=${CURVE_RATE:-400}
ORDERS=${ORDERS:-1250}
LINES=${LINES:-4}
extra=()
# CPUPROFILE=file: a CPU profile of the driver, the sandbox mostly, over the measured runs.
[[ -n ${CPUPROFILE:-} ]] && extra+=(-cpuprofile "$CPUPROFILE")
WEBHOOK_WORKERS=${WEBHOOK_WORKERS:-1}
OUT=${OUT:-deploy/load/results/$(date -u +%Y-%m-%d)}
port=${E2E_REDIS_PORT:-6398}

command -v redis-server >/dev/null || {
	echo "missing: redis-server (apt-get install redis-server)" >&2
	exit 1
}
tmp=$(mktemp -d)
redis_pid=''
cleanup() {
	if [[ -n $redis_pid ]]; then
		kill "$redis_pid" 2>/dev/null || true
		wait "$redis_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

mkdir -p "$OUT"
go build -o "$tmp/otp" ./cmd/otp
go build -o "$tmp/e2e" ./deploy/load/e2e
otp_bin=${OTP_BIN:-$tmp/otp}
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no >"$tmp/redis.log" 2>&1 &
redis_pid=$!
for _ in $(seq 1 50); do
	redis-cli -p "$port" ping >/dev/null 2>&1 && break
	sleep 0.1
done

# e2e NAME ARGS...: one invocation of the driver, its output kept.
e2e() {
	local name=$1
	shift
	{
		echo "# $name: $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git rev-parse --short HEAD), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
		echo "# e2e -latency $LATENCY -orders $ORDERS -lines $LINES -webhook-workers $WEBHOOK_WORKERS -duration ${DURATION}s $*"
		"$tmp/e2e" -otp "$otp_bin" -redis "redis://127.0.0.1:$port/0" -logs "$tmp" \
			-erp-addr "127.0.0.1:${E2E_ERP_PORT:-18010}" -otp-addr "127.0.0.1:${E2E_OTP_PORT:-18011}" \
			-worker-addr "127.0.0.1:${E2E_WORKER_PORT:-18012}" \
			-latency "$LATENCY" -orders "$ORDERS" -lines "$LINES" -webhook-workers "$WEBHOOK_WORKERS" -duration "${DURATION}s" "${extra[@]}" "$@"
	} 2>&1 | tee "$OUT/$name.txt"
}

case "$what" in
rates)
	e2e e2e-rates -rates "$RATES" -runs "$RUNS" -concurrency "$CONCURRENCY" -write-rate "$WRITE_RATE"
	;;
curve)
	for c in 10 50 100; do
		e2e "e2e-curve-c$c" -rates "$CURVE_RATE" -runs "$RUNS" -concurrency "$c" -write-rate "$WRITE_RATE"
	done
	;;
poll)
	"$tmp/otp" sandbox --addr "127.0.0.1:${E2E_ERP_PORT:-18010}" >"$tmp/erp.log" 2>&1 &
	erp=$!
	sleep 1
	env OTP_ENV=development REDIS_URL="redis://127.0.0.1:$port/0" ERPNEXT_BASE_URL="http://127.0.0.1:${E2E_ERP_PORT:-18010}" \
		ERPNEXT_API_KEY=otp-demo-key ERPNEXT_API_SECRET=otp-demo-secret ERPNEXT_API_USER=otp@example.com \
		OTP_WEBHOOK_SECRET=unused OTP_WORKER_ADDR="127.0.0.1:${E2E_WORKER_PORT:-18012}" LOG_LEVEL=WARN \
		"$otp_bin" work >/dev/null 2>"$tmp/work.log" &
	work=$!
	sleep 5
	redis-cli -p "$port" config resetstat >/dev/null
	t0=$(awk '{print $14 + $15}' "/proc/$redis_pid/stat")
	sleep 30
	t1=$(awk '{print $14 + $15}' "/proc/$redis_pid/stat")
	calls=$(redis-cli -p "$port" info commandstats | tr -d '\r' | awk -F'[:=,]' '/^cmdstat_/ {s += $3} END {print s}')
	ticks=$(getconf CLK_TCK)
	echo "idle otp work ($otp_bin), 30 s: $((calls / 30)) Redis commands/s, redis-server CPU $(((t1 - t0) * 1000 / ticks)) ms," \
		"load $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$OUT/e2e-poll.txt"
	kill "$work" "$erp"
	wait "$work" "$erp" 2>/dev/null || true
	;;
*)
	echo "usage: $0 [rates|curve|poll]" >&2
	exit 2
	;;
esac
echo "results in $OUT"
