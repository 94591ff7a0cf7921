#!/usr/bin/env bash
# script_tls_clients.sh: the real server against TLS clients nobody here
# wrote: openssl s_client, curl and Python's ssl module (all OpenSSL 3).
#   TLS 1.3 (the default) and TLS 1.2 (asked for): protocol, cipher suite,
#   key exchange group, ALPN, the certificate verified for "localhost", and
#   ticket resumption (-sess_out/-sess_in; Python's session) in both;
#   TLS 1.3: the client's suite and group preference decide, a HelloRetryRequest
#   when its key share is for a group the server does not take, no 0-RTT
#   (the ticket allows no early data);
#   TLS 1.2: the server's order decides (AES-128-GCM, P-256);
#   refused: TLS 1.1 and 1.0, CBC suites, static RSA key exchange, P-521 only,
#   TLS 1.3 CCM.
#
# Loopback only: the server listens on 127.0.0.1 with a kernel-chosen port.
# Environment (set by ctest): PC_BINARY, PC_SOURCE_DIR.
set -euo pipefail
. "$(dirname "$0")/support/wait_port.sh"

: "${PC_BINARY:?PC_BINARY is the portcullis binary}"
: "${PC_SOURCE_DIR:?PC_SOURCE_DIR is the source tree}"

for tool in openssl curl python3; do
    if ! command -v "$tool" >/dev/null; then
        echo "script_tls_clients: $tool is not installed (run: make deps-test)" >&2
        exit 1
    fi
done

tmp=$(mktemp -d /tmp/pc-tlsclients-XXXXXX)
pid=""
cleanup() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    if [ -z "${PC_KEEP_TMP:-}" ]; then rm -rf "$tmp"; else echo "kept $tmp"; fi
}
trap cleanup EXIT

cat >"$tmp/config.json" <<EOF
{
  "server": {"https_address": "127.0.0.1", "https_port": 0, "http_address": "127.0.0.1",
             "http_port": 0, "workers": 2, "www_root": "$PC_SOURCE_DIR/www"},
  "tls": {"dev_cert_dir": "$tmp/certs", "session_tickets": true},
  "db": {"path": "$tmp/data/portcullis.db"},
  "auth": {"jwt_key_file": "$tmp/data/jwt-es256.pem", "argon2_memory_kib": 8192,
           "argon2_iterations": 1}
}
EOF

"$PC_BINARY" --config "$tmp/config.json" >"$tmp/server.log" 2>&1 &
pid=$!
port=$(pc_wait_port "$tmp/server.log" "$pid" https || true)
if [ -z "$port" ]; then
    echo "script_tls_clients: the server did not start:" >&2
    cat "$tmp/server.log" >&2
    exit 1
fi
ca="$tmp/certs/ca.crt"
echo "script_tls_clients: server on 127.0.0.1:$port"

fail=0
bad() { echo "FAIL: $*"; fail=1; }
ok() { echo "  ok: $*"; }

REQ=$'GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'

# s_client NAME ARGS...: one connection sending REQ, output in $tmp/NAME.out.
# Returns s_client's status (0 when the handshake and exchange worked).
s_client() {
    local name=$1
    shift
    printf '%s' "$REQ" | timeout 20 openssl s_client -connect "127.0.0.1:$port" \
        -servername localhost -CAfile "$ca" -verify_return_error -ign_eof "$@" \
        >"$tmp/$name.out" 2>&1
}
field() { # NAME REGEX: the first line of NAME's output matching REGEX
    grep -m1 -E "$2" "$tmp/$1.out" || true
}
expect() { # NAME REGEX WHAT
    if grep -qE "$2" "$tmp/$1.out"; then ok "$3"; else
        bad "$3 (openssl $1):"
        grep -E 'Protocol|Cipher|Temp Key|ALPN|Reused|New,|alert|error|Verif' "$tmp/$1.out" | head -n 12
    fi
}
refused() { # NAME WHAT ARGS...: the handshake must fail, with the server's alert
    local name=$1 what=$2
    shift 2
    if s_client "$name" "$@"; then
        bad "$what: the handshake succeeded"
        field "$name" 'Protocol|Cipher'
    elif grep -qE 'alert|no protocols available|no ciphers available' "$tmp/$name.out"; then
        ok "$what refused ($(grep -oE 'alert [a-z ]+|no [a-z]+ available' "$tmp/$name.out" | head -n1))"
    elif grep -q 'SSL handshake has read 0 bytes' "$tmp/$name.out"; then
        # mbedTLS 3.6 closes without an alert when a TLS 1.3 ClientHello has
        # no group it takes (the server is still checked alive below).
        ok "$what refused (closed without a ServerHello)"
    else
        bad "$what: failed, but not with a TLS alert:"
        tail -n 5 "$tmp/$name.out"
    fi
}

echo "---- openssl s_client, TLS 1.3"
s_client t13 -tls1_3 -alpn http/1.1 -sess_out "$tmp/t13.sess" || bad "TLS 1.3 handshake failed"
expect t13 '^(New|Reused), TLSv1\.3, Cipher is TLS_(AES_(128|256)_GCM_SHA(256|384)|CHACHA20_POLY1305_SHA256)$' \
    "TLSv1.3 with a TLS 1.3 AEAD suite: $(field t13 '^New, ')"
expect t13 '^ *Verify return code: 0 \(ok\)' "certificate verified for localhost"
expect t13 '^ALPN protocol: http/1\.1$' "ALPN http/1.1"
expect t13 '^Server Temp Key: X25519' "group X25519 (OpenSSL's first key share)"
expect t13 '^HTTP/1\.1 200 ' "GET /healthz answered"
s_client t13r -tls1_3 -sess_in "$tmp/t13.sess" || bad "TLS 1.3 resumption failed"
expect t13r '^Reused, TLSv1\.3' "TLS 1.3 session resumed from the ticket"
expect t13r '^Server Temp Key: X25519' "resumption with a fresh key share (psk_dhe_ke)"
if openssl sess_id -in "$tmp/t13.sess" -noout -text 2>/dev/null | grep -qE 'Max Early Data: 0$'; then
    ok "the ticket allows no early data (0-RTT off)"
else
    bad "the ticket allows early data:"
    openssl sess_id -in "$tmp/t13.sess" -noout -text | grep -i early
fi
s_client t13chacha -tls1_3 -ciphersuites TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256 ||
    bad "TLS 1.3 with ChaCha20 first failed"
expect t13chacha 'Cipher is TLS_CHACHA20_POLY1305_SHA256' "the client's first suite wins (ChaCha20)"
s_client t13p256 -tls1_3 -groups P-256:X25519 || bad "TLS 1.3 with P-256 first failed"
expect t13p256 '^Server Temp Key: ECDH, prime256v1' "the client's key share decides (P-256)"
s_client t13hrr -tls1_3 -groups P-521:P-384 || bad "TLS 1.3 with a P-521 key share failed"
expect t13hrr '^Server Temp Key: ECDH, secp384r1' "P-521 share refused, P-384 after a HelloRetryRequest"
refused t13p521 "TLS 1.3 with P-521 only" -tls1_3 -groups P-521
refused t13ccm "TLS 1.3 AES-128-CCM" -tls1_3 -ciphersuites TLS_AES_128_CCM_SHA256

echo "---- openssl s_client, TLS 1.2"
s_client t12 -tls1_2 -alpn http/1.1 -sess_out "$tmp/t12.sess" || bad "TLS 1.2 handshake failed"
expect t12 '^New, TLSv1\.2, Cipher is ECDHE-ECDSA-AES128-GCM-SHA256$' \
    "TLSv1.2, the server's first suite: $(field t12 '^New, ')"
expect t12 '^Server Temp Key: ECDH, prime256v1' "the server's first group (P-256) over OpenSSL's X25519"
expect t12 '^ALPN protocol: http/1\.1$' "ALPN http/1.1"
expect t12 '^ *Verify return code: 0 \(ok\)' "certificate verified for localhost"
s_client t12r -tls1_2 -sess_in "$tmp/t12.sess" || bad "TLS 1.2 resumption failed"
expect t12r '^Reused, TLSv1\.2' "TLS 1.2 session resumed from the ticket"
s_client t12chacha -tls1_2 -cipher ECDHE-ECDSA-CHACHA20-POLY1305 || bad "TLS 1.2 ChaCha20 failed"
expect t12chacha 'Cipher is ECDHE-ECDSA-CHACHA20-POLY1305' "TLS 1.2 ECDHE-ECDSA-CHACHA20-POLY1305"

echo "---- refused"
refused t11 "TLS 1.1" -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0'
refused t10 "TLS 1.0" -tls1 -cipher 'DEFAULT:@SECLEVEL=0'
refused cbc "TLS 1.2 CBC (ECDHE-ECDSA-AES128-SHA256)" -tls1_2 -cipher ECDHE-ECDSA-AES128-SHA256
refused cbc1 "TLS 1.2 CBC with SHA-1 (ECDHE-ECDSA-AES256-SHA)" -tls1_2 -cipher ECDHE-ECDSA-AES256-SHA
refused rsa "TLS 1.2 static RSA key exchange (AES128-GCM-SHA256)" -tls1_2 -cipher AES128-GCM-SHA256
refused t12p521 "TLS 1.2 with P-521 only" -tls1_2 -groups P-521

echo "---- curl"
curl_v() { # VERSION-ARGS...: verbose output in $tmp/curl.out, body on stdout
    timeout 20 curl -sS -v --cacert "$ca" --resolve "localhost:$port:127.0.0.1" "$@" \
        "https://localhost:$port/healthz" 2>"$tmp/curl.out"
}
if body=$(curl_v --tlsv1.3) && [ -n "$body" ] &&
    grep -qE 'SSL connection using TLSv1\.3 / TLS_' "$tmp/curl.out"; then
    ok "curl: $(grep -m1 -oE 'SSL connection using .*' "$tmp/curl.out")"
else
    bad "curl over TLS 1.3:"
    tail -n 15 "$tmp/curl.out"
fi
if body=$(curl_v --tlsv1.2 --tls-max 1.2) && [ -n "$body" ] &&
    grep -qE 'SSL connection using TLSv1\.2 / ECDHE-ECDSA-AES128-GCM-SHA256' "$tmp/curl.out"; then
    ok "curl: $(grep -m1 -oE 'SSL connection using .*' "$tmp/curl.out")"
else
    bad "curl over TLS 1.2:"
    tail -n 15 "$tmp/curl.out"
fi
grep -qE 'ALPN.*http/1\.1' "$tmp/curl.out" && ok "curl: ALPN http/1.1" || bad "curl: no ALPN http/1.1"

echo "---- Python ssl"
if python3 - "$port" "$ca" >"$tmp/python.out" 2>&1 <<'PY'; then
import socket, ssl, sys

port, ca = int(sys.argv[1]), sys.argv[2]


def context(version):
    ctx = ssl.create_default_context(cafile=ca)
    ctx.minimum_version = ctx.maximum_version = version
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def connect(ctx, session=None):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost", session=session) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            assert data.startswith(b"HTTP/1.1 200 "), data[:40]
            return s.version(), s.cipher()[0], s.selected_alpn_protocol(), s.session, s.session_reused


for v, want in ((ssl.TLSVersion.TLSv1_3, "TLSv1.3"), (ssl.TLSVersion.TLSv1_2, "TLSv1.2")):
    ctx = context(v)
    version, cipher, alpn, session, reused = connect(ctx)
    assert version == want and alpn == "http/1.1" and not reused, (version, alpn, reused)
    version, cipher2, _, _, reused = connect(ctx, session)
    assert reused, f"{want}: not resumed"
    print(f"{version} {cipher} alpn={alpn} resumed={reused}")
PY
    sed 's/^/  ok: python: /' "$tmp/python.out"
else
    bad "Python ssl:"
    cat "$tmp/python.out"
fi

kill -TERM "$pid"
src=0
wait "$pid" || src=$?
pid=""
[ "$src" -eq 0 ] || bad "the server exited with status $src"
if grep -qE 'AddressSanitizer|runtime error' "$tmp/server.log"; then
    bad "sanitizer report in the server log"
    grep -A30 -E 'AddressSanitizer|runtime error' "$tmp/server.log" | head -n 60
fi
if [ "$fail" -ne 0 ]; then
    echo "script_tls_clients: FAILED"
    exit 1
fi
echo "script_tls_clients: ok"
