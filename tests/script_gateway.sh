#!/usr/bin/env bash
# script_gateway.sh: gateway.routes against the real binary and a real
# upstream (tests/support/gateway_upstream.py, started here), one worker so
# every request shares one event loop:
#   - access: public, token (401 + WWW-Authenticate), role:admin and
#     role:user (403 for any other role);
#   - identity headers set by Portcullis, the client's forged copies gone;
#     Authorization only on the route that forwards it; strip_prefix;
#   - bodies both ways, by length and chunked; a body over max_body_bytes
#     is 413; a 2 MB answer streams through; a request body by length
#     streams to the upstream as it arrives (an upstream answering from the
#     head alone is heard before the body is complete); a chunked request
#     body streams too, re-framed chunked (the upstream reads each piece
#     before the client sends the next; trailers dropped), and over
#     max_body_bytes mid-stream is 413, malformed framing 400, a stall 408,
#     each dropping the upstream's connection, and the next request works;
#   - a slow upstream: 504 while another request on the same loop is
#     answered meanwhile; upstream down: 502; a malformed answer: 502 and
#     the client's connection is kept;
#   - one upstream connection for many sequential requests (keep-alive);
#     a pooled connection with stray bytes from the upstream is not reused;
#   - tokens older than a logout-all, and a disabled user's, refused;
#   - --check-config refuses an https:// upstream with a clear reason;
#   - pipelined requests answered in order;
#   - the upstream metrics;
#   - SIGTERM: a forwarded request in flight is answered (Connection: close).
# Loopback only; everything started here is stopped on exit.
# Environment (set by ctest): PC_BINARY, PC_SOURCE_DIR.
set -euo pipefail
. "$(dirname "$0")/support/wait_port.sh"
. "$(dirname "$0")/support/script_procs.sh"

: "${PC_BINARY:?PC_BINARY is the portcullis binary}"
src=${PC_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
fail() { echo "script_gateway: FAIL: $*" >&2; exit 1; }

pc_tmp gateway

up=$(free_port)
python3 "$src/tests/support/gateway_upstream.py" "$up" &
pids+=($!)
down=$(free_port) # nothing listens there
met=$(free_port)
U="http://127.0.0.1:$up"
cat >"$tmp/config.json" <<JSON
{"server": {"https_address": "127.0.0.1", "https_port": 0, "http_port": -1, "workers": 1,
            "www_root": ""},
 "limits": {"max_body_bytes": 65536},
 "timeouts": {"body_ms": 2000},
 "metrics": {"port": $met},
 "tls": {"dev_cert_dir": "$tmp/certs"}, "db": {"path": "$tmp/portcullis.db"},
 "auth": {"jwt_key_file": "$tmp/jwt.pem", "totp_key_file": "$tmp/totp.key",
          "argon2_memory_kib": 8192, "argon2_iterations": 1},
 "gateway": {"routes": [
   {"prefix": "/pub/", "upstream": "$U", "access": "public"},
   {"prefix": "/pub/adm/", "upstream": "$U", "access": "role:admin"},
   {"prefix": "/notes/", "upstream": "$U", "access": "token", "strip_prefix": true},
   {"prefix": "/fwd/", "upstream": "$U", "access": "token", "forward_authorization": true},
   {"prefix": "/adm/", "upstream": "$U", "access": "role:admin"},
   {"prefix": "/usr/", "upstream": "$U", "access": "role:user"},
   {"prefix": "/slow/", "upstream": "$U", "access": "public", "timeout_ms": 3000},
   {"prefix": "/down/", "upstream": "http://127.0.0.1:$down", "access": "public"}
 ]}}
JSON
"$PC_BINARY" --check-config --config "$tmp/config.json" >/dev/null || fail "--check-config refused the config"
"$PC_BINARY" --config "$tmp/config.json" >"$tmp/server.log" 2>&1 &
pids+=($!)
pc_pid=$!
pc=$(pc_wait_port "$tmp/server.log" "${pids[-1]}" https || true)
[ -n "$pc" ] || { cat "$tmp/server.log" >&2; fail "portcullis did not start"; }
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$up") 2>/dev/null && break; sleep 0.1; done

B="https://localhost:$pc"
api() { curl -s --max-time 20 --cacert "$tmp/certs/ca.crt" -H 'Content-Type: application/json' "$@"; }
token_of() { sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p'; }
api -d '{"username":"alice","password":"alice password 1"}' "$B/api/register" >/dev/null
user=$(api -d '{"username":"alice","password":"alice password 1"}' "$B/api/login" | token_of)
[ -n "$user" ] || fail "no token for alice"
printf 'root password 1\n' | "$PC_BINARY" --config "$tmp/config.json" user add root --admin >/dev/null
admin=$(api -d '{"username":"root","password":"root password 1"}' "$B/api/login" | token_of)
[ -n "$admin" ] || fail "no token for the admin"

req() { curl -s -o "$tmp/body" -D "$tmp/head" -w '%{http_code}' --max-time 20 --cacert "$tmp/certs/ca.crt" "$@"; }
expect() { [ "$1" = "$2" ] || fail "$3: got $1, want $2 ($(head -c 300 "$tmp/body"))"; }
# The echo's view: jq-free, through python.
seen() { python3 -c 'import json,sys; print(eval(sys.argv[1], {}, {"j": json.load(open(sys.argv[2]))}))' "$1" "$tmp/body"; }
hdr() { seen "[v for k, v in j['headers'] if k.lower() == '$1']"; }

# --- access rules ---
expect "$(req "$B/pub/a?b=c")" 200 "public route"
[ "$(seen "j['path']")" = "/pub/a?b=c" ] || fail "public route path: $(seen "j['path']")"
[ "$(hdr x-portcullis-user-id)" = "[]" ] || fail "identity on a public route"
expect "$(req "$B/notes/1")" 401 "token route without a token"
grep -qi '^WWW-Authenticate: Bearer' "$tmp/head" || fail "401 without WWW-Authenticate"
grep -q '"error":"unauthorized"' "$tmp/body" || fail "401 without the JSON error"
expect "$(req -H 'Authorization: Bearer not.a.token' "$B/notes/1")" 401 "token route, bad token"
expect "$(req -H "Authorization: Bearer $user" "$B/adm/x")" 403 "role:admin route, a user"
grep -q '"error":"forbidden"' "$tmp/body" || fail "403 without the JSON error"
expect "$(req -H "Authorization: Bearer $admin" "$B/adm/x")" 200 "role:admin route, an admin"
[ "$(hdr x-portcullis-role)" = "['admin']" ] || fail "admin role upstream: $(hdr x-portcullis-role)"
expect "$(req -H "Authorization: Bearer $user" "$B/usr/x")" 200 "role:user route, a user"
expect "$(req -H "Authorization: Bearer $admin" "$B/usr/x")" 403 "role:user route, an admin (exactly that role)"

# --- a path that could mean another prefix upstream is refused, never forwarded ---
expect "$(req "$B/pub/adm/x")" 401 "nested role:admin prefix under a public one"
upstream_requests() { api "$U/x/requests" | sed -n 's/.*"requests": \([0-9]*\).*/\1/p'; }
before=$(upstream_requests)
for p in /pub/%61dm/x /pub/./adm/x /pub/x/../adm/x /pub//adm/x /pub/%2e%2e/adm /pub/x%2Fy \
    /pub/x%5cy '/pub/x\y' /pub/. /pub/%7E /pub/%zz '/pub/x/..;/adm/x' '/pub/.;x/adm' \
    /notes/../admin /notes/%2E%2E/admin; do
    expect "$(req --path-as-is -H "Authorization: Bearer $admin" "$B$p")" 400 "unsafe gateway path $p"
    grep -q '"error":"bad_request"' "$tmp/body" || fail "400 without the JSON error for $p"
done
[ "$(upstream_requests)" = "$before" ] || fail "an unsafe path reached the upstream"
expect "$(req -H "Authorization: Bearer $admin" "$B/pub/adm/x%20y?a=%2e%2e/b&c=..//d")" 200 \
    "a nested prefix's own path, encoded space, dots in the query"
[ "$(seen "j['path']")" = "/pub/adm/x%20y?a=%2e%2e/b&c=..//d" ] || fail "query path: $(seen "j['path']")"
expect "$(req "$B/pub/a.b/..c/x.../p;v=1/")" 200 "dots inside segments, a parameter, trailing slash"
[ "$(upstream_requests)" = "$((before + 2))" ] || fail "safe paths did not reach the upstream"

# --- identity, forged headers, Authorization, strip_prefix ---
expect "$(req -H "Authorization: Bearer $user" -H 'X-Portcullis-User-Id: 999' \
    -H 'x-portcullis-role: admin' -H 'X-Portcullis-Anything: x' -H 'X-Forwarded-For: 6.6.6.6' \
    -H 'X-Forwarded-Proto: http' -H 'X-Request-Id: forged-request-id-1' \
    -H 'X-Real-IP: 6.6.6.6' -H 'X-Forwarded-Host: evil.test' -H 'X-Forwarded-Port: 1' \
    -H 'X-Forwarded-Prefix: /admin' -H 'X-Original-URL: /admin' -H 'X-Rewrite-URL: /admin' \
    -H 'Forwarded: for=6.6.6.6;host=evil.test' \
    -H 'Connection: X-Drop-Me' -H 'X-Drop-Me: 1' -H 'Keep-Alive: timeout=9' \
    "$B/notes/a/b?q=1")" 200 "token route, a user"
[ "$(seen "j['path']")" = "/a/b?q=1" ] || fail "strip_prefix: $(seen "j['path']")"
[ "$(hdr x-portcullis-user-id)" != "['999']" ] && [ "$(hdr x-portcullis-user-id | wc -c)" -gt 3 ] ||
    fail "user id upstream: $(hdr x-portcullis-user-id)"
[ "$(hdr x-portcullis-username)" = "['alice']" ] || fail "username upstream: $(hdr x-portcullis-username)"
[ "$(hdr x-portcullis-role)" = "['user']" ] || fail "forged role upstream: $(hdr x-portcullis-role)"
[ "$(hdr x-portcullis-anything)" = "[]" ] || fail "a client X-Portcullis- header reached the upstream"
[ "$(hdr x-forwarded-for)" = "['127.0.0.1']" ] || fail "X-Forwarded-For: $(hdr x-forwarded-for)"
[ "$(hdr x-forwarded-proto)" = "['https']" ] || fail "X-Forwarded-Proto: $(hdr x-forwarded-proto)"
rid=$(sed -n 's/^X-Request-Id: \([0-9a-f]*\)\r$/\1/Ip' "$tmp/head")
[ ${#rid} = 32 ] && [ "$(hdr x-request-id)" = "['$rid']" ] ||
    fail "X-Request-Id: $(hdr x-request-id), ours: $rid (a client's id is not adopted)"
[ "$(hdr authorization)" = "[]" ] || fail "Authorization forwarded on a route that does not say so"
for h in x-real-ip x-forwarded-host x-forwarded-port x-forwarded-prefix x-original-url x-rewrite-url forwarded; do
    [ "$(hdr $h)" = "[]" ] || fail "the client's $h reached the upstream: $(hdr $h)"
done
[ "$(hdr x-drop-me)$(hdr keep-alive)" = "[][]" ] || fail "hop-by-hop headers forwarded"
expect "$(req -H "Authorization: Bearer $user" -H 'X_Portcullis_Role: admin' -H 'x_portcullis_user_id: 1' \
    -H 'X_Forwarded_For: 6.6.6.6' -H 'X_Request_Id: forged-2' -H 'Some_Header: 1' "$B/notes/u")" 200 \
    "underscore headers"
[ "$(seen "[k for k, v in j['headers'] if '_' in k]")" = "[]" ] ||
    fail "a header with '_' reached the upstream: $(seen "[k for k, v in j['headers'] if '_' in k]")"
[ "$(hdr x-portcullis-role)" = "['user']" ] || fail "role with an underscore forgery: $(hdr x-portcullis-role)"
expect "$(req -H 'Connection: Host, X-Drop-Me' -H 'X-Drop-Me: 1' "$B/pub/host")" 200 "Connection: Host"
[ "$(hdr host)" = "['localhost:$pc']" ] || fail "Host upstream after Connection: Host: $(hdr host)"
[ "$(hdr x-drop-me)" = "[]" ] || fail "a header Connection names was forwarded"
expect "$(req -H "Authorization: Bearer $user" "$B/fwd/x")" 200 "forward_authorization route"
[ "$(hdr authorization)" = "['Bearer $user']" ] || fail "Authorization not forwarded where configured"
[ "$(seen "j['path']")" = "/fwd/x" ] || fail "path without strip_prefix: $(seen "j['path']")"

# --- response headers: upstream's kept, ours only where it sent none ---
expect "$(req "$B/pub/h")" 200 "headers"
grep -qi '^X-Frame-Options: SAMEORIGIN' "$tmp/head" || fail "the upstream's X-Frame-Options replaced"
grep -ci '^X-Frame-Options' "$tmp/head" | grep -qx 1 || fail "two X-Frame-Options"
grep -qi '^Strict-Transport-Security: max-age' "$tmp/head" || fail "no HSTS added"
grep -qi '^X-Content-Type-Options: nosniff' "$tmp/head" || fail "no nosniff added"

# --- bodies both ways, both framings ---
head -c 30000 /dev/zero | tr '\0' 'a' >"$tmp/30k"
expect "$(req -H "Authorization: Bearer $user" --data-binary @"$tmp/30k" "$B/notes/len")" 200 "POST by length"
[ "$(seen "len(j['body'])")" = 30000 ] || fail "POST body by length: $(seen "len(j['body'])") bytes"
[ "$(seen "j['method']")" = POST ] || fail "method"
[ "$(seen "j['framing']")" = length ] || fail "a body by length reached the upstream as: $(seen "j['framing']")"
expect "$(req -H "Authorization: Bearer $user" -H 'Transfer-Encoding: chunked' --data-binary @"$tmp/30k" \
    "$B/notes/chunked")" 200 "POST chunked, answer chunked"
grep -qi '^Transfer-Encoding: chunked' "$tmp/head" || fail "chunked answer not chunked to the client"
[ "$(seen "len(j['body'])")" = 30000 ] || fail "chunked POST body: $(seen "j['body'][:80]")"
[ "$(seen "j['framing']")" = chunked ] || fail "a chunked body reached the upstream as: $(seen "j['framing']")"
[ "$(hdr content-length)" = "[]" ] || fail "a chunked body reached the upstream with a Content-Length"
expect "$(req --no-alpn --http1.0 "$B/pub/chunked")" 200 "a chunked answer to an HTTP/1.0 client"
[ "$(seen "j['path']")" = "/pub/chunked" ] || fail "HTTP/1.0 body"
expect "$(req "$B/pub/big?n=2000000")" 200 "a 2 MB answer"
[ "$(wc -c <"$tmp/body")" = 2000000 ] || fail "2 MB answer: $(wc -c <"$tmp/body") bytes"
head -c 70000 /dev/zero >"$tmp/70k"
expect "$(req -H "Expect: 100-continue" --data-binary @"$tmp/70k" "$B/pub/x")" 413 "body over max_body_bytes"
expect "$(req -H 'Transfer-Encoding: chunked' --data-binary @"$tmp/70k" "$B/pub/x")" 413 \
    "chunked body over max_body_bytes"
expect "$(req -I "$B/pub/x")" 200 "HEAD"
grep -q "\"method\"" "$tmp/body" && fail "HEAD answered with a body"
grep -qi "^Content-Length: [1-9]" "$tmp/head" || fail "HEAD lost the Content-Length"

# --- a request body streams to the upstream as it arrives ---
PYTHONPATH="$src/tests/support" python3 - "$pc" "$tmp/certs/ca.crt" <<'PY' || fail "streamed request bodies"
import json, socket, ssl, sys, time
from gw_client import connect_to, read_all
def connect():
    return connect_to(sys.argv[1], sys.argv[2])
# The upstream answers from the head alone: with the body held back until
# complete, this would wait for the body timeout and get a 408.
s = connect()
s.sendall(b"POST /pub/early HTTP/1.1\r\nHost: localhost\r\nContent-Length: 60000\r\n\r\n" + b"a" * 1000)
data = read_all(s)  # ends: the rest of the body is never read, so the connection closes
assert data.startswith(b"HTTP/1.1 200"), data[:300]
assert b'"early": true' in data and b'"content_length": "60000"' in data, data
assert b"Connection: close" in data, data
# A body in pieces, some while the upstream already has the head: all of it arrives.
s = connect()
s.sendall(b"POST /pub/pieces HTTP/1.1\r\nHost: localhost\r\nContent-Length: 30000\r\n\r\n")
for i in range(3):
    time.sleep(0.2)
    s.sendall(b"%d" % i * 10000)
s.sendall(b"GET /pub/after HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
data = read_all(s)
first = data.index(b"\r\n\r\n") + 4
body = json.loads(data[first:data.index(b"HTTP/1.1", first)])
assert body["body"] == "0" * 10000 + "1" * 10000 + "2" * 10000, body["body"][:100]
assert b'"path": "/pub/after"' in data, data[-400:]
# A body that stops halfway: 408 once the body timeout passes (the upstream
# had the head; its connection is dropped).
s = connect()
s.sendall(b"POST /pub/stalled HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5000\r\n\r\n" + b"b" * 100)
data = read_all(s)
assert data.startswith(b"HTTP/1.1 408"), data[:300]
PY

# --- a chunked request body streams to the upstream chunked, piece by piece ---
PYTHONPATH="$src/tests/support" python3 - "$pc" "$tmp/certs/ca.crt" "$up" <<'PY' || fail "streamed chunked request bodies"
import json, socket, ssl, sys, time, urllib.request
from gw_client import connect_to, read_all
def connect():
    return connect_to(sys.argv[1], sys.argv[2])
def progress(tag):
    with urllib.request.urlopen("http://127.0.0.1:%s/progress?tag=%s" % (sys.argv[3], tag),
                                timeout=10) as r:
        return json.load(r)
def wait_upstream(tag, what):
    """Until the upstream's view of the body tagged `tag` passes what(view)."""
    for _ in range(200):
        view = progress(tag)
        if view and what(view):
            return view
        time.sleep(0.05)
    raise SystemExit("upstream never got there for %s: %r" % (tag, progress(tag)))
def chunk(data):
    return b"%x\r\n%s\r\n" % (len(data), data)
head = b"POST /pub/%s?tag=%s HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"

# Three pieces, each sent once the upstream has read the one before (a body
# collected whole would never get there), then a trailer, then a pipelined
# request on the same connection.
s = connect()
s.sendall(head % (b"pieces", b"slow") + chunk(b"0" * 10000))
wait_upstream("slow", lambda v: v["received"] == 10000)
s.sendall(chunk(b"1" * 5000) + chunk(b"1" * 5000))
wait_upstream("slow", lambda v: v["received"] == 20000)
s.sendall(chunk(b"2" * 10000) + b"0\r\nX-Trailer: t\r\n\r\n" +
          b"GET /pub/after HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
data = read_all(s)
assert data.startswith(b"HTTP/1.1 200"), data[:300]
first = data.index(b"\r\n\r\n") + 4
body = json.loads(data[first:data.index(b"HTTP/1.1", first)])
assert body["body"] == "0" * 10000 + "1" * 10000 + "2" * 10000, body["body"][:100]
assert body["framing"] == "chunked" and len(body["chunks"]) >= 3, (body["framing"], body["chunks"])
assert body["trailers"] == [], body["trailers"]
assert not [k for k, v in body["headers"] if k.lower() in ("content-length", "trailer")], body["headers"]
assert progress("slow")["state"] == "complete"
assert b'"path": "/pub/after"' in data, data[-400:]

# The upstream answers from the head alone: heard before any chunk arrives.
s = connect()
s.sendall(head % (b"early", b"e") + chunk(b"x" * 100))
data = read_all(s)
assert data.startswith(b"HTTP/1.1 200"), data[:300]
assert b'"transfer_encoding": "chunked"' in data and b'"content_length": null' in data, data
assert b"Connection: close" in data, data

# Over max_body_bytes (65536) once the upstream already has 60000 bytes: 413
# to the client, the upstream's connection dropped inside the body.
s = connect()
s.sendall(head % (b"x", b"big") + chunk(b"b" * 60000))
wait_upstream("big", lambda v: v["received"] == 60000)
s.sendall(chunk(b"b" * 6000))
data = read_all(s)
assert data.startswith(b"HTTP/1.1 413"), data[:300]
assert b'"error":"body_too_large"' in data and b"Connection: close" in data, data
wait_upstream("big", lambda v: v["state"] == "aborted")

# Malformed framing after a good chunk: 400, the upstream's connection dropped.
s = connect()
s.sendall(head % (b"x", b"bad") + chunk(b"hello"))
wait_upstream("bad", lambda v: v["received"] == 5)
s.sendall(b"zz\r\nhello\r\n")
data = read_all(s)
assert data.startswith(b"HTTP/1.1 400"), data[:300]
assert b'"error":"bad_chunked_body"' in data and b"Connection: close" in data, data
wait_upstream("bad", lambda v: v["state"] == "aborted")

# A chunked body that stops halfway: 408 once the body timeout passes.
s = connect()
s.sendall(head % (b"x", b"stall") + b"64\r\n" + b"s" * 50)
data = read_all(s)
assert data.startswith(b"HTTP/1.1 408"), data[:300]
wait_upstream("stall", lambda v: v["state"] == "aborted")

# The gateway is fine afterwards: a chunked upload and a request after it on
# one kept-alive connection.
s = connect()
s.sendall(head % (b"again", b"again") + chunk(b"abc") + b"0\r\n\r\n" +
          b"GET /pub/next HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
data = read_all(s)
assert data.count(b"HTTP/1.1 200") == 2, data[:600]
assert b'"body": "abc"' in data and b'"path": "/pub/next"' in data, data
PY

# --- errors: timeout, down, malformed, closed ---
curl -s -o "$tmp/slow.body" -w '%{http_code}' --max-time 30 --cacert "$tmp/certs/ca.crt" \
    "$B/slow/slow?ms=8000" >"$tmp/slow.code" &
slow=$!
sleep 0.2
expect "$(req "$B/pub/meanwhile")" 200 "a request on the same loop while the upstream is slow"
kill -0 "$slow" 2>/dev/null || fail "the slow request ended before the other one was answered"
wait "$slow" || true
[ "$(cat "$tmp/slow.code")" = 504 ] || fail "slow upstream: $(cat "$tmp/slow.code"), want 504"
grep -q '"error":"gateway_timeout"' "$tmp/slow.body" || fail "504 without the JSON error"
expect "$(req "$B/down/x")" 502 "upstream down"
grep -q '"error":"bad_gateway"' "$tmp/body" || fail "502 without the JSON error"
expect "$(req -d 'a=1' "$B/down/x")" 502 "upstream down, a request with a body"
expect "$(req "$B/pub/close")" 502 "upstream closes without answering"
codes=$(curl -s -o /dev/null -o /dev/null -w '%{http_code} %{num_connects}\n' --max-time 20 \
    --cacert "$tmp/certs/ca.crt" "$B/pub/garbage" "$B/pub/after" | tr '\n' ' ')
[ "$codes" = "502 1 200 0 " ] || fail "malformed answer then another request: '$codes' (want 502, then 200 on the same connection)"

# --- keep-alive towards the upstream ---
expect "$(req "$B/pub/count")" 200 "count"
before=$(seen "j['connections']")
args=()
for i in $(seq 1 20); do args+=("$B/pub/seq$i"); done
for u in "${args[@]}"; do req "$u" >/dev/null; done
expect "$(req "$B/pub/count")" 200 "count"
after=$(seen "j['connections']")
echo "script_gateway: 21 sequential requests, $((after - before)) new upstream connection(s)"
[ $((after - before)) -le 1 ] || fail "21 sequential requests took $((after - before)) new upstream connections"

# --- bytes the upstream sent on an idle pooled connection: that connection is
# not reused. Deterministic: Portcullis is stopped while the next request
# and then the stray bytes arrive, so on SIGCONT the request is read first
# and takes the connection from the pool with the stray bytes unread. ---
python3 - "$pc" "$tmp/certs/ca.crt" "$pc_pid" <<'PY' || fail "stray bytes on a pooled upstream connection"
import os, signal, socket, ssl, sys, time
ctx = ssl.create_default_context(cafile=sys.argv[2])
pid = int(sys.argv[3])
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20),
                    server_hostname="localhost")
def answer():
    data = b""
    while b"\r\n\r\n" not in data:
        more = s.recv(65536)
        assert more, data
        data += more
    head, _, body = data.partition(b"\r\n\r\n")
    n = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            n = int(v)
    while len(body) < n:
        body += s.recv(65536)
    return head, body
s.sendall(b"GET /pub/stray?ms=1000 HTTP/1.1\r\nHost: localhost\r\n\r\n")
head, _ = answer()
assert head.startswith(b"HTTP/1.1 204"), head
os.kill(pid, signal.SIGSTOP)
try:
    time.sleep(0.2)
    s.sendall(b"GET /pub/after-stray HTTP/1.1\r\nHost: localhost\r\n\r\n")
    time.sleep(1.3)  # the stray answer is written at 1 s
finally:
    os.kill(pid, signal.SIGCONT)
head, body = answer()
assert head.startswith(b"HTTP/1.1 200"), head
assert b'"path": "/pub/after-stray"' in body, body[:300]
PY

# --- pipelining: four requests in one write, answered in order ---
python3 - "$pc" "$tmp/certs/ca.crt" "$up" <<'PY' || fail "pipelined requests, or HTTP/1.0 without Host"
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
# HTTP/1.0 without Host: the upstream (HTTP/1.1) gets the upstream's own.
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20),
                    server_hostname="localhost")
s.sendall(b"GET /pub/nohost HTTP/1.0\r\n\r\n")
data = b""
while True:
    more = s.recv(65536)
    if not more:
        break
    data += more
assert data.startswith(b"HTTP/1.0 200"), data[:300]
assert b'["Host", "127.0.0.1:%s"]' % sys.argv[3].encode() in data, data

s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20),
                    server_hostname="localhost")
paths = ["/pub/one", "/pub/chunked", "/healthz", "/pub/three"]
s.sendall(b"".join(b"GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n" % p.encode() for p in paths))
data = b""
while data.count(b"HTTP/1.1 200") < len(paths) or not data.endswith((b"}", b"0\r\n\r\n")):
    more = s.recv(65536)
    if not more:
        break
    data += more
order = [p for p in paths if p != "/healthz"]
pos = [data.find(b'"path": "%s"' % p.encode()) for p in order]
assert all(p >= 0 for p in pos) and pos == sorted(pos), (pos, data[:2000])
assert data.find(b'{"status":"ok"}') > pos[1] and data.find(b'{"status":"ok"}') < pos[2]
PY

# --- the same account checks as the built-in API: logout-all, disabled ---
bob_pw='{"username":"bob","password":"bob password 1"}'
api -d "$bob_pw" "$B/api/register" >/dev/null
bob=$(api -d "$bob_pw" "$B/api/login" | token_of)
expect "$(req -H "Authorization: Bearer $bob" "$B/notes/x")" 200 "bob's token"
api -X POST -H "Authorization: Bearer $bob" "$B/api/logout-all" >/dev/null
expect "$(req -H "Authorization: Bearer $bob" "$B/notes/x")" 401 "a token older than logout-all (epoch)"
bob=$(api -d "$bob_pw" "$B/api/login" | token_of)
bob_id=$(api -H "Authorization: Bearer $bob" "$B/api/me" | sed -n 's/.*"id":\([0-9]*\).*/\1/p')
expect "$(req -H "Authorization: Bearer $bob" "$B/notes/x")" 200 "bob's new token"
api -X PATCH -H "Authorization: Bearer $admin" -d '{"disabled": true}' "$B/api/admin/users/$bob_id" >/dev/null
expect "$(req -H "Authorization: Bearer $bob" "$B/notes/x")" 401 "a disabled user's token"

# --- the config check refuses what the gateway cannot do ---
sed 's|"upstream": "'"$U"'", "access": "public"}|"upstream": "https://127.0.0.1:'"$up"'", "access": "public"}|' \
    "$tmp/config.json" >"$tmp/https.json"
if "$PC_BINARY" --check-config --config "$tmp/https.json" >"$tmp/check.out" 2>&1; then
    fail "--check-config accepted an https:// upstream"
fi
grep -q "https:// upstreams are not supported" "$tmp/check.out" || fail "unclear refusal: $(cat "$tmp/check.out")"

# --- metrics ---
m=$(curl -s --max-time 10 "http://127.0.0.1:$met/metrics")
grep -q 'portcullis_upstream_requests_total{route="/pub/",code="2xx"} [1-9]' <<<"$m" ||
    fail "no upstream request count"
grep -q 'portcullis_upstream_errors_total{kind="timeout"} 1' <<<"$m" || fail "no timeout count"
grep -q 'portcullis_upstream_errors_total{kind="malformed"} [1-9]' <<<"$m" || fail "no malformed count"
grep -q 'portcullis_upstream_duration_seconds_count{route="/notes/"} [1-9]' <<<"$m" ||
    fail "no upstream latency"
if command -v promtool >/dev/null; then
    promtool check metrics <<<"$m" >/dev/null 2>&1 || { promtool check metrics <<<"$m"; fail "promtool"; }
fi
kill -0 "${pids[1]}" || fail "the server died"

# --- SIGTERM: a forwarded request in flight still gets its answer ---
curl -s -D "$tmp/drain.head" -o /dev/null --max-time 30 --cacert "$tmp/certs/ca.crt" \
    "$B/slow/slow?ms=1000" &
drain=$!
sleep 0.3
kill -TERM "${pids[1]}"
wait "$drain" || fail "the request in flight during SIGTERM failed"
grep -q '^HTTP/1.1 200' "$tmp/drain.head" || fail "in flight during SIGTERM: $(head -1 "$tmp/drain.head")"
grep -qi '^Connection: close' "$tmp/drain.head" || fail "no Connection: close while draining"
wait "${pids[1]}" || fail "the server did not exit 0 after SIGTERM"
grep -q 'info stopped' "$tmp/server.log" || fail "the server did not stop cleanly"
echo "script_gateway: ok (access rules, identity and hop-by-hop headers, bodies both ways, 413, 504, 502, keep-alive, pipelining, metrics)"
