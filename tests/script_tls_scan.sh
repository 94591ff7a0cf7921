#!/usr/bin/env bash
# script_tls_scan.sh: scans the real server with Debian's testssl.sh and
# fails on anything the TLS policy (tls/policy.h, README "TLS") rules out:
#   - a protocol below TLS 1.2 offered, or TLS 1.2 or TLS 1.3 missing,
#   - a cipher suite that is not ECDHE with an AEAD cipher (GCM,
#     ChaCha20-Poly1305) in TLS 1.2, or not one of the three TLS 1.3 AEAD
#     suites (AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305),
#   - no Strict-Transport-Security header,
#   - secure renegotiation missing or client-initiated renegotiation allowed,
#   - TLS compression (CRIME),
#   - any finding testssl rates MEDIUM, HIGH or CRITICAL, or a scan error.
# Certificate findings (self-signed dev CA, no OCSP/CRL, no CAA record) are
# expected for the dev certificate and only printed.
#
# Loopback only: the server listens on 127.0.0.1 with a kernel-chosen port.
# Bounded: the scan is killed after PC_TLS_SCAN_TIMEOUT seconds (240).
# Environment (set by ctest): PC_BINARY, PC_SOURCE_DIR.
set -euo pipefail
. "$(dirname "$0")/support/wait_port.sh"

: "${PC_BINARY:?PC_BINARY is the portcullis binary}"
: "${PC_SOURCE_DIR:?PC_SOURCE_DIR is the source tree}"
timeout_s=${PC_TLS_SCAN_TIMEOUT:-240}

# What the scan checks is the TLS policy, which no build flag changes; the
# plain build runs it, the sanitizer build spends its time elsewhere.
if [ "${PC_SANITIZE:-OFF}" = "ON" ]; then
    echo "script_tls_scan: skipped under ASan (the plain build scans the same policy)"
    exit 0
fi

scanner=$(command -v testssl || command -v testssl.sh || true)
if [ -z "$scanner" ]; then
    echo "script_tls_scan: testssl.sh is not installed (run: make deps-test)" >&2
    exit 1
fi

tmp=$(mktemp -d /tmp/pc-tlsscan-XXXXXX)
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
  "tls": {"dev_cert_dir": "$tmp/certs"},
  "db": {"path": "$tmp/data/portcullis.db"},
  "auth": {"jwt_key_file": "$tmp/data/jwt-es256.pem", "totp_key_file": "$tmp/data/totp.key", "master_key_file": "$tmp/data/master.key", "argon2_memory_kib": 8192,
           "argon2_iterations": 1}
}
EOF

"$PC_BINARY" --config "$tmp/config.json" >"$tmp/server.log" 2>&1 &
pid=$!
port=$(pc_wait_port "$tmp/server.log" "$pid" https || true)
if [ -z "$port" ]; then
    echo "script_tls_scan: the server did not start:" >&2
    cat "$tmp/server.log" >&2
    exit 1
fi
echo "script_tls_scan: scanning 127.0.0.1:$port with $scanner (at most ${timeout_s}s)"

start=$(date +%s)
rc=0
timeout "$timeout_s" "$scanner" --quiet --color 0 --warnings off --nodns none \
    --connect-timeout 5 --openssl-timeout 5 --jsonfile "$tmp/scan.json" \
    --protocols --headers --vulnerable --cipher-per-proto \
    "127.0.0.1:$port" >"$tmp/scan.txt" 2>&1 || rc=$?
echo "script_tls_scan: scan took $(( $(date +%s) - start ))s (exit $rc)"
if [ "$rc" -eq 124 ] || [ ! -s "$tmp/scan.json" ]; then
    echo "script_tls_scan: the scan did not finish" >&2
    tail -n 30 "$tmp/scan.txt" >&2
    exit 1
fi

# testssl's flat JSON has one "key" : "value" per line; one finding per
# object. Turn it into id<TAB>severity<TAB>finding lines.
awk '
function val(line) {
    sub(/^[^:]*:[ \t]*"/, "", line)
    sub(/",?[ \t]*$/, "", line)
    return line
}
/^[ \t]*"id"[ \t]*:/       { id = val($0) }
/^[ \t]*"severity"[ \t]*:/ { sev = val($0) }
/^[ \t]*"finding"[ \t]*:/  { fnd = val($0) }
/^[ \t]*}/ { if (id != "") print id "\t" sev "\t" fnd; id = sev = fnd = "" }
' "$tmp/scan.json" >"$tmp/findings.tsv"

fail=0
bad() { echo "FAIL: $*"; fail=1; }
finding() { awk -F '\t' -v id="$1" '$1 == id { print $3; exit }' "$tmp/findings.tsv"; }
severity() { awk -F '\t' -v id="$1" '$1 == id { print $2; exit }' "$tmp/findings.tsv"; }

echo "---- protocols"
for p in SSLv2 SSLv3 TLS1 TLS1_1 TLS1_2 TLS1_3; do
    f=$(finding "$p")
    printf '  %-8s %s\n' "$p" "${f:-(not reported)}"
    case "$p" in
        TLS1_2) [[ "$f" == offered* ]] || bad "TLS 1.2 is not offered" ;;
        TLS1_3) [[ "$f" == offered* ]] || bad "TLS 1.3 is not offered" ;;
        *) [[ "$f" == *"not offered"* ]] || bad "$p: $f" ;;
    esac
done

echo "---- cipher suites (IANA names)"
nsuites=0
while IFS=$'\t' read -r id _ f; do
    suite=${f##* }
    nsuites=$((nsuites + 1))
    echo "  $suite"
    if [[ "$suite" =~ ^TLS_ECDHE_(ECDSA|RSA)_WITH_(AES_(128|256)_GCM_SHA(256|384)|CHACHA20_POLY1305_SHA256)$ ]] ||
       [[ "$suite" =~ ^TLS_(AES_(128|256)_GCM_SHA(256|384)|CHACHA20_POLY1305_SHA256)$ ]]; then
        :
    else
        bad "suite $suite is not ECDHE with an AEAD cipher ($id)"
    fi
done < <(awk -F '\t' '$1 ~ /^cipher-tls/' "$tmp/findings.tsv")
[ "$nsuites" -gt 0 ] || bad "no cipher suite reported (scan output not understood)"

echo "---- HSTS, renegotiation, compression"
hsts=$(finding HSTS_time)
echo "  HSTS: ${hsts:-$(finding HSTS)}"
[ -n "$hsts" ] && [ "$(severity HSTS_time)" = OK ] || bad "Strict-Transport-Security missing or too short"
echo "  secure renegotiation: $(finding secure_renego)"
[[ "$(finding secure_renego)" == supported* ]] || bad "secure renegotiation (RFC 5746) not supported"
echo "  client-initiated renegotiation: $(finding secure_client_renego)"
[ "$(severity secure_client_renego)" = OK ] || bad "client-initiated renegotiation allowed"
echo "  compression (CRIME): $(finding CRIME_TLS)"
[ "$(severity CRIME_TLS)" = OK ] || bad "TLS compression offered"

echo "---- vulnerabilities"
for v in heartbleed CCS ticketbleed ROBOT POODLE_SSL fallback_SCSV SWEET32 FREAK DROWN \
         LOGJAM BEAST LUCKY13 RC4 BREACH; do
    s=$(severity "$v")
    printf '  %-14s %-6s %s\n' "$v" "${s:-?}" "$(finding "$v")"
    [ -n "$s" ] || bad "$v was not tested"
done

echo "---- every finding rated MEDIUM or worse"
while IFS=$'\t' read -r id sev f; do
    case "$id" in
        cert_*|certs_*|DNS_CAArecord|OCSP_*|certificate_transparency)
            echo "  (dev certificate) $id $sev: $f" ;;
        *) bad "$id $sev: $f" ;;
    esac
done < <(awk -F '\t' '$2 ~ /^(MEDIUM|HIGH|CRITICAL|FATAL)$/ || $1 == "scanProblem"' "$tmp/findings.tsv")

# The scan sent SSLv2 hellos, heartbeats, renegotiation attempts and worse:
# the server must still stop cleanly (a sanitizer build aborts on any error).
kill -TERM "$pid"
src=0
wait "$pid" || src=$?
pid=""
[ "$src" -eq 0 ] || bad "the server exited with status $src after the scan"
if grep -qE 'AddressSanitizer|runtime error' "$tmp/server.log"; then
    bad "sanitizer report in the server log"
    grep -A30 -E 'AddressSanitizer|runtime error' "$tmp/server.log" | head -n 60
fi

if [ "$fail" -ne 0 ]; then
    echo "script_tls_scan: FAILED (full report below)"
    cat "$tmp/scan.txt"
    exit 1
fi
echo "script_tls_scan: ok: TLS 1.3 and 1.2 only, $nsuites AEAD suites (TLS 1.2 ones ECDHE), HSTS, secure renegotiation, no compression, no vulnerability"
