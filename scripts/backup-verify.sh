#!/usr/bin/env bash
# Prove a backup of scripts/backup.sh restores: check its checksums and the
# RDB file, load it into a throwaway redis-server (a Unix socket in a
# temporary directory, no TCP port), and compare the asynq queues it holds
# with those counted at backup time.
#
#   scripts/backup-verify.sh BACKUP_DIR [TOLERANCE]
#
# TOLERANCE (default 0) is how many tasks a queue state may differ by: the
# counts are read just after the snapshot, so a busy server can move a few
# tasks in between. Exit 0: every queue came back with its tasks.
set -euo pipefail
# shellcheck source=scripts/lib-redis.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib-redis.sh"

if [[ $# -lt 1 || $# -gt 2 ]]; then
	echo "usage: scripts/backup-verify.sh BACKUP_DIR [TOLERANCE]" >&2
	exit 2
fi
backup=$1
tolerance=${2:-0}

(cd "$backup" && sha256sum --quiet -c SHA256SUMS)
redis-check-rdb "$backup/dump.rdb" >/dev/null

tmp=$(mktemp -d)
sock="$tmp/redis.sock"
cleanup() {
	redis-cli -s "$sock" shutdown nosave >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
cp "$backup/dump.rdb" "$tmp/dump.rdb"
redis-server --port 0 --unixsocket "$sock" --unixsocketperm 700 --dir "$tmp" --dbfilename dump.rdb \
	--appendonly no --save '' --daemonize yes --pidfile "$tmp/redis.pid" --logfile "$tmp/redis.log"
for _ in $(seq 1 100); do
	[[ $(redis-cli -s "$sock" ping 2>/dev/null) == PONG ]] && break
	sleep 0.1
done
if [[ $(redis-cli -s "$sock" ping 2>/dev/null) != PONG ]]; then
	echo "backup-verify.sh: the throwaway redis-server did not start:" >&2
	cat "$tmp/redis.log" >&2
	exit 1
fi

queue_counts -s "$sock" -n "$(cat "$backup/db")" >"$tmp/restored.txt"
echo "queue state at-backup restored"
# Every line of either file, matched by queue and state.
if ! awk -v tol="$tolerance" '
	FNR == NR { want[$1 " " $2] = $3; next }
	{ got[$1 " " $2] = $3 }
	END {
		bad = 0
		for (k in want) {
			g = (k in got) ? got[k] : "missing"
			d = (g == "missing") ? tol + 1 : want[k] - g
			if (d < 0) d = -d
			print k, want[k], g
			if (d > tol) bad = 1
		}
		for (k in got) if (!(k in want)) { print k, "missing", got[k]; bad = 1 }
		exit bad
	}' "$backup/queues.txt" "$tmp/restored.txt" | sort; then
	echo "backup-verify.sh: FAILED: the restored queues differ from the backup's (tolerance $tolerance)" >&2
	exit 1
fi
total=$(awk '{ n += $3 } END { print n + 0 }' "$tmp/restored.txt")
echo "backup-verify.sh: OK: $(wc -l <"$tmp/restored.txt") queue states, $total tasks restored from $backup"
