#!/usr/bin/env bash
# Real-browser test of the pages in www/: Debian's chromium driven by
# playwright-core (tests/browser/login.mjs) against the real portcullis binary
# in demo mode on ephemeral loopback ports. Screenshots go to
# $PC_BUILD_DIR/screenshots/. Run by ctest (tests/CMakeLists.txt) with
# PC_BINARY, PC_SOURCE_DIR, PC_BUILD_DIR and PC_SANITIZE set.
#
# node_modules is installed with `npm ci` under $PC_BUILD_DIR/browser, never
# in the source tree; it is reused while package-lock.json is unchanged.
set -euo pipefail

: "${PC_BINARY:?PC_BINARY must name the portcullis binary}"
: "${PC_SOURCE_DIR:?PC_SOURCE_DIR must name the source tree}"
: "${PC_BUILD_DIR:?PC_BUILD_DIR must name the build directory}"
chromium=${PC_CHROMIUM:-/usr/bin/chromium}
src="$PC_SOURCE_DIR/tests/browser"
work="$PC_BUILD_DIR/browser"
shots="$PC_BUILD_DIR/screenshots"

fail() { echo "script_browser: $*" >&2; exit 1; }

# ---- prerequisites (installed by `.ci/deps --test`) ----
[ -x "$PC_BINARY" ] || fail "no binary at $PC_BINARY"
[ -x "$chromium" ] || fail "no chromium at $chromium (run .ci/deps --test)"
command -v node >/dev/null || fail "node not found (run .ci/deps --test)"
command -v npm >/dev/null || fail "npm not found (run .ci/deps --test)"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || fail "playwright-core needs Node.js 20 or newer, found $(node --version)"

# ---- playwright-core into the build folder ----
mkdir -p "$work" "$shots"
rm -f "$shots"/*.png
lock_sum=$(sha256sum "$src/package-lock.json" | cut -d' ' -f1)
if [ ! -d "$work/node_modules/playwright-core" ] || [ "$(cat "$work/.lock.sha256" 2>/dev/null)" != "$lock_sum" ]; then
  cp "$src/package.json" "$src/package-lock.json" "$work/"
  rm -f "$work/.lock.sha256"
  (cd "$work" && timeout 120 npm ci --no-audit --no-fund --loglevel=error) ||
    fail "npm ci failed in $work"
  echo "$lock_sum" > "$work/.lock.sha256"
fi
cp "$src"/*.mjs "$work/"

# ---- the server ----
tmp=$(mktemp -d /tmp/pc-browser-XXXXXX)
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

show_log() {
  echo "---- server log ----" >&2
  tail -n 60 "$tmp/server.log" >&2 || true
}

mkdir -p "$tmp/data"
# The plain listener's port is fixed here so its origin can be listed in
# http.cors_origins (cors.mjs calls the HTTPS API from a page served there).
http_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$tmp/config.json" <<EOF
{
  "http": {"cors_origins": ["http://127.0.0.1:$http_port"]},
  "server": {"https_address": "127.0.0.1", "https_port": 0,
             "http_address": "127.0.0.1", "http_port": $http_port,
             "workers": 2, "www_root": "$PC_SOURCE_DIR/www"},
  "tls": {"dev_cert_dir": "$tmp/certs"},
  "db": {"path": "$tmp/data/portcullis.db"},
  "auth": {"jwt_key_file": "$tmp/data/jwt-es256.pem", "totp_key_file": "$tmp/data/totp.key", "master_key_file": "$tmp/data/master.key",
           "argon2_memory_kib": 8192, "argon2_iterations": 1, "argon2_parallelism": 1}
}
EOF

"$PC_BINARY" --config "$tmp/config.json" --demo >"$tmp/server.log" 2>&1 &
pid=$!

# Sanitizer builds start slowly: up to 60 s for both "listening on" lines.
https_port="" http_port=""
for _ in $(seq 1 600); do
  https_port=$(sed -n 's|.*listening on https://127\.0\.0\.1:\([0-9][0-9]*\).*|\1|p' "$tmp/server.log" | head -n1)
  http_port=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9][0-9]*\).*|\1|p' "$tmp/server.log" | head -n1)
  [ -n "$https_port" ] && [ -n "$http_port" ] && break
  kill -0 "$pid" 2>/dev/null || { show_log; fail "the server exited at start"; }
  sleep 0.1
done
[ -n "$https_port" ] && [ -n "$http_port" ] || { show_log; fail "the server did not report its ports within 60 s"; }
echo "script_browser: server on https://127.0.0.1:$https_port and http://127.0.0.1:$http_port (demo mode)"

# ---- the browser ----
# TMPDIR: the browser profiles land in $tmp, removed on exit even if node is killed.
rc=0
TMPDIR="$tmp" PC_URL="https://127.0.0.1:$https_port" PC_HTTP_URL="http://127.0.0.1:$http_port" \
PC_CA_FILE="$tmp/certs/ca.crt" \
PC_CHROMIUM="$chromium" PC_SCREENSHOTS="$shots" PC_SANITIZE="${PC_SANITIZE:-OFF}" \
  timeout -k 5 170 node "$work/login.mjs" || rc=$?
if [ "$rc" -eq 0 ]; then
  PC_URL="https://127.0.0.1:$https_port" PC_HTTP_URL="http://127.0.0.1:$http_port" \
  PC_CA_FILE="$tmp/certs/ca.crt" PC_CHROMIUM="$chromium" \
    timeout -k 5 100 node "$work/cors.mjs" || rc=$?
  # The browser really asked first: the preflight reached the server.
  if [ "$rc" -eq 0 ] && ! grep -q '"OPTIONS /api/register" 204' "$tmp/server.log"; then
    show_log
    fail "no CORS preflight reached the server"
  fi
fi

# ---- stop: SIGTERM must end the server cleanly with status 0 ----
if ! kill -0 "$pid" 2>/dev/null; then
  wait "$pid" && status=0 || status=$?
  pid=""
  show_log
  fail "the server died during the browser test (status $status; browser test exit $rc)"
fi
kill -TERM "$pid"
status=""
for _ in $(seq 1 300); do
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$pid" 2>/dev/null; then
  show_log
  fail "the server did not stop within 30 s of SIGTERM"
fi
wait "$pid" && status=0 || status=$?
pid=""
if grep -q -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$tmp/server.log"; then
  show_log
  fail "the sanitizers reported an error in the server"
fi
[ "$rc" -eq 0 ] || { show_log; fail "the browser test failed (exit $rc); screenshots in $shots"; }
[ "$status" -eq 0 ] || { show_log; fail "the server exited with status $status after SIGTERM"; }
echo "script_browser: ok; screenshots in $shots"
