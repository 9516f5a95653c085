#!/usr/bin/env bash
# Back up OTP's Redis: an RDB snapshot taken over the network with
# `redis-cli --rdb` (it works whether the server persists with AOF, RDB or
# neither), its SHA-256, and the asynq queue counts read right after it.
#
#   REDIS_URL=redis://127.0.0.1:6379/0 scripts/backup.sh [DIR]
#
# DIR defaults to backups/; the backup goes to DIR/otp-redis-<UTC time>/,
# whose path is printed. Check it with scripts/backup-verify.sh.
set -euo pipefail
# shellcheck source=scripts/lib-redis.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib-redis.sh"

url=${REDIS_URL:-redis://127.0.0.1:6379/0}
case $url in
redis://* | rediss://*) ;;
*)
	echo "backup.sh: REDIS_URL must be redis:// or rediss:// (for Sentinel, give the master's address)" >&2
	exit 2
	;;
esac
tls=()
[[ $url == rediss://* ]] && tls=(--tls)

dir=${1:-backups}
out="$dir/otp-redis-$(date -u +%Y%m%dT%H%M%SZ)"
umask 077
mkdir -p "$out"
if ! log=$(redis-cli --no-auth-warning "${tls[@]}" -u "$url" --rdb "$out/dump.rdb" 2>&1); then
	echo "backup.sh: redis-cli --rdb failed: $log" >&2
	exit 1
fi
queue_counts "${tls[@]}" -u "$url" >"$out/queues.txt"
redis_db "$url" >"$out/db"
(cd "$out" && sha256sum dump.rdb queues.txt db >SHA256SUMS)
echo "$out"
