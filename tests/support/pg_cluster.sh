#!/usr/bin/env bash
# pg_cluster.sh: a throwaway PostgreSQL cluster for the tests that run the
# store on PostgreSQL. Nothing of the machine's own PostgreSQL is used or
# touched: the cluster lives in DIR (data, log and its Unix socket), listens
# on that socket only (no TCP port, so parallel builds never collide), and
# trusts local connections (it is reachable only through DIR, mode 0700).
#
#   pg_cluster.sh start DIR   create DIR, initdb, start, create database
#                             "portcullis" (a leftover cluster in DIR is
#                             stopped and removed first)
#   pg_cluster.sh stop DIR    stop the cluster and remove DIR
#   pg_cluster.sh url DIR     print the libpq URL of the database
#   pg_cluster.sh down DIR    stop the server, keeping its data (a restart)
#   pg_cluster.sh up DIR      start it again after down
#
# PostgreSQL refuses to run as root: run as root, the cluster belongs to,
# and runs as, the unprivileged user PC_PG_USER (default: nobody), and DIR
# is handed to that user. DIR must be short (a Unix socket path holds at
# most 107 bytes) and on a path that user can traverse (e.g. under /tmp).
set -euo pipefail

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop|url|down|up DIR" >&2; exit 2; }
case "$dir" in /*) ;; *) echo "pg_cluster: DIR must be absolute" >&2; exit 2 ;; esac

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
[ -x "${bindir:-}/initdb" ] || {
    echo "pg_cluster: no PostgreSQL server (install Debian's postgresql: .ci/deps --test)" >&2
    exit 1
}

as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u "${PC_PG_USER:-nobody}" -- "$@"
    else
        "$@"
    fi
}

url() { echo "postgresql:///portcullis?host=$dir&user=portcullis"; }

stop() {
    if [ -f "$dir/data/postmaster.pid" ]; then
        as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
}

server_start() {
    # fsync off: a test cluster is thrown away, and the machine is shared.
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses='' -c unix_socket_directories='$dir' -c fsync=off \
            -c max_connections=200" start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
}

start() {
    stop
    mkdir -m 0700 "$dir"
    [ "$(id -u)" -eq 0 ] && chown "${PC_PG_USER:-nobody}" "$dir"
    as_owner "$bindir/initdb" -D "$dir/data" -U portcullis --auth=trust -E UTF8 --no-locale \
        --no-sync >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    server_start
    as_owner "$bindir/createdb" -h "$dir" -U portcullis portcullis
    echo "pg_cluster: started $(url)"
}

case "$cmd" in
start) start ;;
stop) stop ;;
url) url ;;
down) as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null ;;
up) server_start ;;
*) echo "usage: $0 start|stop|url|down|up DIR" >&2; exit 2 ;;
esac
