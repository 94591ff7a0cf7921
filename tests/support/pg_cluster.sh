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
# With PC_PG_TLS_PORT=PORT in the environment, start also makes a
# self-signed certificate for 127.0.0.1 (openssl) and listens on
# 127.0.0.1:PORT for TLS connections only (hostssl in pg_hba.conf: a
# connection without TLS is refused); url then prints a TCP URL with
# sslmode=verify-full and that certificate as the root.
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

url() {
    if [ -f "$dir/tls_port" ]; then
        echo "postgresql://portcullis@127.0.0.1:$(cat "$dir/tls_port")/portcullis?sslmode=verify-full&sslrootcert=$dir/server.crt"
    else
        echo "postgresql:///portcullis?host=$dir&user=portcullis"
    fi
}

stop() {
    if [ -f "$dir/data/postmaster.pid" ]; then
        as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
}

server_start() {
    local tcp="-c listen_addresses=''"
    if [ -f "$dir/tls_port" ]; then
        tcp="-c listen_addresses=127.0.0.1 -c port=$(cat "$dir/tls_port") -c ssl=on \
             -c ssl_cert_file=$dir/server.crt -c ssl_key_file=$dir/server.key"
    fi
    # fsync off: a test cluster is thrown away, and the machine is shared.
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "$tcp -c unix_socket_directories='$dir' -c fsync=off -c max_connections=200" \
        start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
}

# The certificate, and pg_hba.conf allowing TCP with TLS only.
tls_setup() {
    echo "$PC_PG_TLS_PORT" >"$dir/tls_port"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
        -keyout "$dir/server.key" -out "$dir/server.crt" 2>/dev/null
    chmod 600 "$dir/server.key"
    chmod 644 "$dir/server.crt" "$dir/tls_port"
    [ "$(id -u)" -eq 0 ] && chown "${PC_PG_USER:-nobody}" "$dir/server.key" "$dir/server.crt"
    {
        echo "local all all trust"
        echo "hostssl all all 127.0.0.1/32 trust"
    } >"$dir/data/pg_hba.conf"
}

start() {
    stop
    mkdir -m 0700 "$dir"
    [ "$(id -u)" -eq 0 ] && chown "${PC_PG_USER:-nobody}" "$dir"
    as_owner "$bindir/initdb" -D "$dir/data" -U portcullis --auth=trust -E UTF8 --no-locale \
        --no-sync >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    [ -n "${PC_PG_TLS_PORT:-}" ] && tls_setup
    server_start
    local port=5432
    [ -f "$dir/tls_port" ] && port=$(cat "$dir/tls_port")
    as_owner "$bindir/createdb" -h "$dir" -p "$port" -U portcullis portcullis
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
