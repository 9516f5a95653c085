# shellcheck shell=bash
# Helpers shared by backup.sh, backup-verify.sh and diagnostics.sh; source it.

# redis_db prints the database number of a redis:// URL (0 when it has none).
redis_db() {
	local db=${1##*/}
	case $db in
	'' | *[!0-9]*) echo 0 ;;
	*) echo "$db" ;;
	esac
}

# queue_counts prints "QUEUE STATE COUNT" for every asynq queue (the sets
# asynq keeps under asynq:{QUEUE}:STATE), sorted. Its arguments are
# redis-cli's connection options, e.g. -u redis://host:6379/0 or -s SOCKET -n 0.
queue_counts() {
	local q state kind n
	for q in $(redis-cli --no-auth-warning "$@" SMEMBERS asynq:queues | sort); do
		for state in pending active scheduled retry archived completed; do
			case $state in
			pending | active) kind=LLEN ;;
			*) kind=ZCARD ;;
			esac
			n=$(redis-cli --no-auth-warning "$@" "$kind" "asynq:{$q}:$state")
			printf '%s %s %s\n' "$q" "$state" "$n"
		done
	done
}
