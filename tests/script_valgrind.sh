#!/usr/bin/env bash
# script_valgrind.sh: the whole unit-test suite once under valgrind memcheck,
# then the real server for one short HTTPS exchange (health, register,
# login, /api/me, refresh, logout, a static file, a 404) and a SIGTERM.
# Any memory error, and any definite or indirect leak, fails. Suppressions
# (tests/valgrind.supp) cover third-party libraries only.
#
# Valgrind and ASan cannot share a process: in the sanitizer build
# (PC_SANITIZE=ON) this test only says so and passes; ASan's leak checker
# covers that build.
# Bounded: each unit-test binary gets PC_VALGRIND_TIMEOUT seconds (300), the
# server 120 s to start and 60 s per request.
# Environment (set by ctest): PC_BINARY, PC_SOURCE_DIR, PC_BUILD_DIR, PC_SANITIZE.
set -euo pipefail
. "$(dirname "$0")/support/wait_port.sh"

: "${PC_BINARY:?PC_BINARY is the portcullis binary}"
: "${PC_SOURCE_DIR:?PC_SOURCE_DIR is the source tree}"
: "${PC_BUILD_DIR:?PC_BUILD_DIR is the build tree}"

case "${PC_SANITIZE:-OFF}" in
    ON|on|1|TRUE|true|YES|yes)
        echo "script_valgrind: skipped under ASan (valgrind and ASan do not mix)"
        exit 0 ;;
esac
if ! command -v valgrind >/dev/null; then
    echo "script_valgrind: valgrind is not installed (run: make deps-test)" >&2
    exit 1
fi

per_test=${PC_VALGRIND_TIMEOUT:-300}
vg=(valgrind --tool=memcheck --leak-check=full --errors-for-leak-kinds=definite,indirect
    --show-leak-kinds=definite,indirect --error-exitcode=99 --num-callers=30
    --suppressions="$PC_SOURCE_DIR/tests/valgrind.supp")
tmp=$(mktemp -d /tmp/pc-valgrind-XXXXXX)
pid=""
cleanup() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    if [ -z "${PC_KEEP_TMP:-}" ]; then rm -rf "$tmp"; else echo "kept $tmp"; fi
}
trap cleanup EXIT
fail=0

# ---- unit tests: in-process (CK_FORK=no), so valgrind sees every test ----
shopt -s nullglob
tests=("$PC_BUILD_DIR"/tests/test_*)
if [ ${#tests[@]} -eq 0 ]; then
    echo "script_valgrind: no unit-test binaries under $PC_BUILD_DIR/tests" >&2
    exit 1
fi
for t in "${tests[@]}"; do
    [ -x "$t" ] && [ -f "$t" ] || continue
    name=$(basename "$t")
    start=$(date +%s)
    rc=0
    CK_FORK=no timeout "$per_test" "${vg[@]}" --log-file="$tmp/$name.vg" "$t" \
        >"$tmp/$name.out" 2>&1 || rc=$?
    printf '  %-24s exit %-3s %3ss\n' "$name" "$rc" "$(( $(date +%s) - start ))"
    if [ "$rc" -ne 0 ]; then
        echo "FAIL: $name under valgrind (exit $rc: 99 = memory error or leak, 124 = timeout)"
        tail -n 20 "$tmp/$name.out"
        grep -v '^==[0-9]*== *$' "$tmp/$name.vg" | tail -n 80
        fail=1
    fi
done

# ---- the server: one short exchange, then SIGTERM ----
cat >"$tmp/config.json" <<EOF
{
  "server": {"https_address": "127.0.0.1", "https_port": 0, "http_port": -1, "workers": 2,
             "www_root": "$PC_SOURCE_DIR/www"},
  "tls": {"dev_cert_dir": "$tmp/certs"},
  "db": {"path": "$tmp/data/portcullis.db"},
  "pool": {"threads": 2},
  "auth": {"jwt_key_file": "$tmp/data/jwt-es256.pem", "totp_key_file": "$tmp/data/totp.key", "master_key_file": "$tmp/data/master.key", "argon2_memory_kib": 8192,
           "argon2_iterations": 1}
}
EOF
"${vg[@]}" --log-file="$tmp/server.vg" "$PC_BINARY" --config "$tmp/config.json" \
    >"$tmp/server.log" 2>&1 &
pid=$!
port=$(pc_wait_port "$tmp/server.log" "$pid" https 1200 || true) # up to 120 s
if [ -z "$port" ]; then
    echo "FAIL: the server did not start under valgrind" >&2
    cat "$tmp/server.log" "$tmp/server.vg" >&2
    exit 1
fi

base="https://localhost:$port"
req() {   # method path [json] [bearer] -> prints status, body in $tmp/body
    local args=(-s -o "$tmp/body" -w '%{http_code}' --max-time 60 --cacert "$tmp/certs/ca.crt"
                --resolve "localhost:$port:127.0.0.1" -X "$1")
    [ -n "${3:-}" ] && args+=(-H 'Content-Type: application/json' --data "$3")
    [ -n "${4:-}" ] && args+=(-H "Authorization: Bearer $4")
    curl "${args[@]}" "$base$2" || echo 000
}
json_field() { sed -n "s/.*\"$1\" *: *\"\\([^\"]*\\)\".*/\\1/p" "$tmp/body"; }
expect() {   # want got what
    if [ "$1" != "$2" ]; then echo "FAIL: $3: HTTP $2, wanted $1"; cat "$tmp/body"; echo; fail=1; fi
}
cred='{"username":"valgrind","password":"valgrind-password"}'
expect 200 "$(req GET /healthz)" "GET /healthz"
expect 201 "$(req POST /api/register "$cred")" "register"
expect 200 "$(req POST /api/login "$cred")" "login"
access=$(json_field access_token)
refresh=$(json_field refresh_token)
expect 200 "$(req GET /api/me "" "$access")" "GET /api/me"
expect 200 "$(req POST /api/token/refresh "{\"refresh_token\":\"$refresh\"}")" "refresh"
refresh2=$(json_field refresh_token)
expect 401 "$(req POST /api/token/refresh "{\"refresh_token\":\"$refresh\"}")" "refresh reuse"
# The reuse ended that session, its access token with it.
expect 401 "$(req GET /api/me "" "$access")" "GET /api/me after reuse"
expect 200 "$(req POST /api/login "$cred")" "login again"
access=$(json_field access_token)
refresh2=$(json_field refresh_token)
expect 200 "$(req GET /api/sessions "" "$access")" "GET /api/sessions"
expect 204 "$(req POST /api/logout "{\"refresh_token\":\"$refresh2\"}" "$access")" "logout"
expect 200 "$(req GET /)" "GET / (static)"
expect 404 "$(req GET /no-such-thing)" "GET 404"
expect 401 "$(req POST /api/login '{"username":"valgrind","password":"wrong-password"}')" "bad login"

kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=""
echo "  portcullis (server)      exit $rc"
if [ "$rc" -ne 0 ]; then
    echo "FAIL: the server under valgrind (exit $rc: 99 = memory error or leak)"
    tail -n 20 "$tmp/server.log"
    grep -v '^==[0-9]*== *$' "$tmp/server.vg" | tail -n 120
    fail=1
fi
grep -E 'ERROR SUMMARY|definitely lost|indirectly lost' "$tmp/server.vg" | sed 's/^/  /'

if [ "$fail" -ne 0 ]; then
    echo "script_valgrind: FAILED"
    exit 1
fi
echo "script_valgrind: ok: ${#tests[@]} unit-test binaries and the server, no memory error, no leak"
