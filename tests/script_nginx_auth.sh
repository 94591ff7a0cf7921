#!/usr/bin/env bash
# script_nginx_auth.sh: Portcullis as the auth checker of a real nginx
# (auth_request) in front of another team's upstream (a small echo server
# started here). The README's nginx block, tried for real:
#   - no token or a bad one: 401 from nginx, the upstream never sees it;
#   - a valid token: the upstream answers and sees the identity headers,
#     not the ones the client forged;
#   - a location that needs ?role=admin: 403 for a user, 200 for an admin.
# Loopback only; everything started here is stopped on exit.
# Environment (set by ctest): PC_BINARY.
set -euo pipefail
. "$(dirname "$0")/support/wait_port.sh"
. "$(dirname "$0")/support/script_procs.sh"

: "${PC_BINARY:?PC_BINARY is the portcullis binary}"
fail() { echo "script_nginx_auth: FAIL: $*" >&2; exit 1; }
export PATH="$PATH:/usr/sbin:/sbin"
command -v nginx >/dev/null || fail "nginx is not installed (run: make deps-test)"
nginx -V 2>&1 | grep -q http_auth_request_module || fail "this nginx has no auth_request module"

pc_tmp nginx

cat >"$tmp/config.json" <<JSON
{"server": {"https_address": "127.0.0.1", "https_port": 0, "http_port": -1, "workers": 1,
            "www_root": ""},
 "tls": {"dev_cert_dir": "$tmp/certs"}, "db": {"path": "$tmp/portcullis.db"},
 "auth": {"jwt_key_file": "$tmp/jwt.pem", "argon2_memory_kib": 8192, "argon2_iterations": 1}}
JSON
"$PC_BINARY" --config "$tmp/config.json" >"$tmp/server.log" 2>&1 &
pids+=($!)
pc=$(pc_wait_port "$tmp/server.log" "${pids[-1]}" https || true)
[ -n "$pc" ] || { cat "$tmp/server.log" >&2; fail "portcullis did not start"; }

# The upstream: echoes the request's headers as JSON.
up=$(free_port)
cat >"$tmp/echo.py" <<'PY'
import json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({k.lower(): v for k, v in self.headers.items()}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
python3 "$tmp/echo.py" "$up" &
pids+=($!)

ng=$(free_port)
mkdir -p "$tmp/nginx"
cat >"$tmp/nginx.conf" <<CONF
daemon off;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $tmp/nginx;
    proxy_temp_path $tmp/nginx;
    fastcgi_temp_path $tmp/nginx;
    uwsgi_temp_path $tmp/nginx;
    scgi_temp_path $tmp/nginx;
    server {
        listen 127.0.0.1:$ng;
        # --- the README's block, with this test's addresses ---
        location /notes/ {
            auth_request /_portcullis;
            auth_request_set \$pc_user \$upstream_http_x_portcullis_user_id;
            auth_request_set \$pc_name \$upstream_http_x_portcullis_username;
            auth_request_set \$pc_role \$upstream_http_x_portcullis_role;
            proxy_set_header X-Portcullis-User-Id \$pc_user;
            proxy_set_header X-Portcullis-Username \$pc_name;
            proxy_set_header X-Portcullis-Role \$pc_role;
            proxy_pass http://127.0.0.1:$up;
        }
        location = /_portcullis {
            internal;
            proxy_pass https://127.0.0.1:$pc/api/auth/check;
            proxy_method GET;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_ssl_trusted_certificate $tmp/certs/ca.crt;
            proxy_ssl_verify on;
            proxy_ssl_name localhost;
        }
        # --- a location for admins only ---
        location /admin/ {
            auth_request /_portcullis_admin;
            proxy_pass http://127.0.0.1:$up;
        }
        location = /_portcullis_admin {
            internal;
            proxy_pass https://127.0.0.1:$pc/api/auth/check?role=admin;
            proxy_method GET;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_ssl_trusted_certificate $tmp/certs/ca.crt;
            proxy_ssl_verify on;
            proxy_ssl_name localhost;
        }
    }
}
CONF
nginx -p "$tmp/nginx" -c "$tmp/nginx.conf" &
pids+=($!)
for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$ng") 2>/dev/null && (exec 3<>"/dev/tcp/127.0.0.1/$up") 2>/dev/null && break
    sleep 0.1
done

api() { curl -s --max-time 20 --cacert "$tmp/certs/ca.crt" -H 'Content-Type: application/json' "$@"; }
token_of() { sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p'; }
api -d '{"username":"alice","password":"alice password 1"}' "https://localhost:$pc/api/register" >/dev/null
user=$(api -d '{"username":"alice","password":"alice password 1"}' "https://localhost:$pc/api/login" | token_of)
[ -n "$user" ] || fail "no token for alice"
printf 'root password 1\n' | "$PC_BINARY" --config "$tmp/config.json" user add root --admin >/dev/null
admin=$(api -d '{"username":"root","password":"root password 1"}' "https://localhost:$pc/api/login" | token_of)
[ -n "$admin" ] || fail "no token for the admin"

status() { curl -s -o "$tmp/body" -w '%{http_code}' --max-time 20 "$@"; }
expect() { [ "$1" = "$2" ] || fail "$3: got $1, want $2 ($(head -c 300 "$tmp/body"))"; }

expect "$(status "http://127.0.0.1:$ng/notes/1")" 401 "no token"
expect "$(status -H 'Authorization: Bearer not.a.token' "http://127.0.0.1:$ng/notes/1")" 401 "bad token"
expect "$(status -H "Authorization: Bearer $user" -H 'X-Portcullis-User-Id: 999' \
    -H 'X-Portcullis-Role: admin' "http://127.0.0.1:$ng/notes/1")" 200 "valid token"
grep -q '"x-portcullis-username": "alice"' "$tmp/body" || fail "the upstream did not see the user: $(cat "$tmp/body")"
grep -q '"x-portcullis-role": "user"' "$tmp/body" || fail "a forged role reached the upstream: $(cat "$tmp/body")"
grep -q '"x-portcullis-user-id": "999"' "$tmp/body" && fail "a forged user id reached the upstream"
# A POST is checked with a GET (proxy_method): the check answers any method.
expect "$(status -X POST -d 'x=1' -H "Authorization: Bearer $user" "http://127.0.0.1:$ng/notes/2")" 501 \
    "POST through to the upstream (the echo server has no do_POST: 501 is its own answer)"
expect "$(status -H "Authorization: Bearer $user" "http://127.0.0.1:$ng/admin/x")" 403 "user on an admin location"
expect "$(status -H "Authorization: Bearer $admin" "http://127.0.0.1:$ng/admin/x")" 200 "admin on an admin location"
echo "script_nginx_auth: ok (401 without a valid token, identity headers upstream, 403 without the role)"
