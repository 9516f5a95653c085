#!/usr/bin/env bash
# Everything support asks for, in one report on stdout: versions, health,
# readiness, a metrics snapshot, the asynq queues, `otp migrate status` and
# the configuration with its secrets redacted. A section that cannot be read
# says so; the script goes on.
#
#   scripts/diagnostics.sh [ENV_FILE] > diagnostics.txt
#
# ENV_FILE (e.g. /etc/otp/otp.env or deploy/otp.env) is read for the
# configuration and for REDIS_URL; without it the process environment is
# used. OTP_URL (default http://127.0.0.1:8001) is `otp serve`, WORKER_URL
# (default http://127.0.0.1:9091) is `otp work` alone, OTP_BIN (default:
# otp on PATH) the binary.
set -uo pipefail
# shellcheck source=scripts/lib-redis.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib-redis.sh"

if [[ $# -gt 1 ]]; then
	echo "usage: scripts/diagnostics.sh [ENV_FILE]" >&2
	exit 2
fi
if [[ $# -eq 1 ]]; then
	set -a
	# shellcheck disable=SC1090 # the operator's env file
	. "$1" || {
		echo "diagnostics.sh: cannot read $1" >&2
		exit 2
	}
	set +a
fi
otp_url=${OTP_URL:-http://127.0.0.1:8001}
worker_url=${WORKER_URL:-http://127.0.0.1:9091}
otp_bin=${OTP_BIN:-otp}

section() { printf '\n== %s\n' "$*"; }

# fetch GETs a URL and prints the status line and body, or why it could not.
fetch() {
	local out
	if out=$(curl -sS --max-time 10 -w '\nHTTP %{http_code}\n' "$1" 2>&1); then
		printf '%s\n' "$out"
	else
		printf 'unavailable: %s\n' "$out"
	fi
}

# redact prints NAME=value lines with secrets and URL passwords hidden.
redact() {
	sed -E \
		-e 's/^([A-Z0-9_]*(SECRET|PASSWORD|KEY|TOKEN)[A-Z0-9_]*)=.+$/\1=<redacted>/' \
		-e 's#^([A-Z0-9_]+=[a-z-]+://)[^@/]*@#\1<redacted>@#'
}

echo "OTP diagnostics, $(date -u +%Y-%m-%dT%H:%M:%SZ), host $(hostname)"

section versions
if command -v "$otp_bin" >/dev/null 2>&1; then
	"$otp_bin" version 2>&1
else
	echo "otp: $otp_bin not found (set OTP_BIN)"
fi
command -v redis-server >/dev/null 2>&1 && redis-server --version
command -v go >/dev/null 2>&1 && go version
uname -sr

section "configuration (secrets redacted)"
env | grep -E '^(OTP_|ERPNEXT_|REDIS_URL=|LOG_LEVEL=|REQUEST_TIMEOUT=)' | sort | redact

section "otp serve: $otp_url/health"
fetch "$otp_url/health"
section "otp serve: $otp_url/ready"
fetch "$otp_url/ready"
section "otp work: $worker_url/health"
fetch "$worker_url/health"
section "otp work: $worker_url/ready"
fetch "$worker_url/ready"

section "metrics snapshot: otp_*, process_* ($otp_url/metrics, $worker_url/metrics)"
for url in "$otp_url/metrics" "$worker_url/metrics"; do
	echo "-- $url"
	if body=$(curl -sS --max-time 10 --fail "$url" 2>&1); then
		grep -E '^(otp_|process_(resident_memory_bytes|open_fds|start_time_seconds|cpu_seconds_total))' <<<"$body"
	else
		echo "unavailable: $body"
	fi
done

section "asynq queues (queue state count) on REDIS_URL"
url=${REDIS_URL:-}
case $url in
redis://* | rediss://*)
	tls=()
	[[ $url == rediss://* ]] && tls=(--tls)
	if ! command -v redis-cli >/dev/null 2>&1; then
		echo "unavailable: redis-cli not installed"
	elif ! redis-cli --no-auth-warning "${tls[@]}" -u "$url" ping >/dev/null 2>&1; then
		echo "unavailable: no PONG from $(redact <<<"REDIS_URL=$url")"
	else
		queue_counts "${tls[@]}" -u "$url"
		redis-cli --no-auth-warning "${tls[@]}" -u "$url" info persistence | grep -E '^(aof_enabled|rdb_last_bgsave_status|aof_last_write_status|rdb_last_save_time):'
		redis-cli --no-auth-warning "${tls[@]}" -u "$url" info memory | grep -E '^(used_memory_human|maxmemory_human|maxmemory_policy):'
	fi
	;;
'') echo "unavailable: REDIS_URL is unset (OTP then runs an in-process miniredis)" ;;
*) echo "unavailable: $(redact <<<"REDIS_URL=$url") is not redis:// or rediss://" ;;
esac

section "otp migrate status"
if command -v "$otp_bin" >/dev/null 2>&1; then
	"$otp_bin" migrate status 2>&1
	echo "(exit $?)"
else
	echo "unavailable: $otp_bin not found (set OTP_BIN)"
fi
