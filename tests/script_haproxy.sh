#!/usr/bin/env bash
# script_haproxy.sh: the real client address behind a real HAProxy (Debian's
# haproxy, started here on loopback ports), in both ways a load balancer
# tells it:
#   - TCP mode with send-proxy-v2 in front of a server with
#     server.proxy_protocol: the PROXY v2 header carries the client;
#   - HTTP mode with option forwardfor in front of a server that trusts the
#     proxy's address (server.trusted_proxies): X-Forwarded-For carries it.
# Two clients (127.0.0.2 and 127.0.0.3) behind the one proxy are limited
# separately: with a registration limit of 2 per address, the first client's
# third registration gets 429 while the second client's first still gets
# 201. A client's own X-Forwarded-For does not let it escape its limit, and
# the PROXY-protocol server refuses a connection that skips the proxy.
# Loopback only; everything started here is stopped on exit.
# Environment (set by ctest): PC_BINARY, PC_SOURCE_DIR.
set -euo pipefail
. "$(dirname "$0")/support/wait_port.sh"
. "$(dirname "$0")/support/script_procs.sh"

: "${PC_BINARY:?PC_BINARY is the portcullis binary}"
fail() { echo "script_haproxy: FAIL: $*" >&2; exit 1; }
command -v haproxy >/dev/null || fail "haproxy is not installed (run: make deps-test)"

pc_tmp haproxy

# $1 name, $2 extra "server" members. Starts a server; sets port_<name>.
start_server() {
    local name=$1 extra=$2 port=""
    mkdir -p "$tmp/$name"
    cat >"$tmp/$name/config.json" <<JSON
{
  "server": {"https_address": "127.0.0.1", "https_port": 0, "http_port": -1,
             "workers": 1, "www_root": "", "log_format": "json" $extra},
  "tls": {"dev_cert_dir": "$tmp/$name/certs"},
  "db": {"path": "$tmp/$name/portcullis.db"},
  "auth": {"jwt_key_file": "$tmp/$name/jwt.pem", "argon2_memory_kib": 8192,
           "argon2_iterations": 1},
  "rate_limits": {"register_ip_per_minute": 2}
}
JSON
    "$PC_BINARY" --config "$tmp/$name/config.json" >"$tmp/$name/log" 2>&1 &
    pids+=($!)
    port=$(pc_wait_port "$tmp/$name/log" "${pids[-1]}" https || true)
    [ -n "$port" ] || { cat "$tmp/$name/log" >&2; fail "server $name did not start"; }
    printf -v "port_$name" '%s' "$port"
}


start_server tcp ', "proxy_protocol": true'
start_server http ', "trusted_proxies": ["127.0.0.1"]'
pt=$(free_port)
ph=$(free_port)

cat >"$tmp/haproxy.cfg" <<CFG
defaults
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend tcp_in
    mode tcp
    bind 127.0.0.1:$pt
    default_backend tcp_out
backend tcp_out
    mode tcp
    server a 127.0.0.1:$port_tcp send-proxy-v2
frontend http_in
    mode http
    bind 127.0.0.1:$ph
    option forwardfor
    default_backend http_out
backend http_out
    mode http
    server b 127.0.0.1:$port_http ssl verify none
CFG
haproxy -db -f "$tmp/haproxy.cfg" >"$tmp/haproxy.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$ph") 2>/dev/null && break
    sleep 0.1
done

# $1 source address, $2 base URL, $3 extra curl args... Prints the status.
# Runs in a subshell ($(...)): the name is unique without a counter.
register() {
    local src=$1 url=$2 n
    shift 2
    n=$(date +%s%N)
    curl -s -o /dev/null -w '%{http_code}' --max-time 20 --interface "$src" "$@" \
        -H 'Content-Type: application/json' \
        -d "{\"username\":\"user$n\",\"password\":\"correct horse $n\"}" "$url/api/register"
}

expect() { [ "$1" = "$2" ] || fail "$3: got $1, want $2"; }

check_mode() {
    local mode=$1 url=$2
    shift 2
    expect "$(register 127.0.0.2 "$url" "$@")" 201 "$mode: first client, 1st"
    expect "$(register 127.0.0.2 "$url" "$@")" 201 "$mode: first client, 2nd"
    expect "$(register 127.0.0.2 "$url" "$@" -H 'X-Forwarded-For: 198.51.100.7')" 429 \
        "$mode: first client, 3rd (its own X-Forwarded-For changes nothing)"
    expect "$(register 127.0.0.3 "$url" "$@")" 201 "$mode: second client behind the same proxy"
}

check_mode "TCP + PROXY v2" "https://localhost:$pt" --cacert "$tmp/tcp/certs/ca.crt"
check_mode "HTTP + X-Forwarded-For" "http://127.0.0.1:$ph"

for name in tcp http; do
    grep -q '"client_ip":"127.0.0.2"' "$tmp/$name/log" ||
        fail "$name: the log does not name client 127.0.0.2"
    grep -q '"client_ip":"127.0.0.3"' "$tmp/$name/log" ||
        fail "$name: the log does not name client 127.0.0.3"
done
# Past the proxy, straight to the PROXY-protocol server: refused.
if curl -s -o /dev/null --max-time 10 --cacert "$tmp/tcp/certs/ca.crt" \
    "https://localhost:$port_tcp/healthz"; then
    fail "a connection without a PROXY header was served"
fi
grep -q "sent no valid PROXY v2 header" "$tmp/tcp/log" || fail "the refusal is not logged"
echo "script_haproxy: ok (TCP + PROXY v2 and HTTP + X-Forwarded-For, clients limited separately)"
