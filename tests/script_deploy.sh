#!/usr/bin/env bash
# script_deploy.sh: `make install` and the systemd unit, as an operator uses
# them: installs the built tree into a temporary prefix, checks the unit with
# systemd-analyze verify (any warning fails), checks that the installed
# production config is valid once a certificate is in place, and that a
# reinstall keeps the operator's config.
# Environment (set by ctest): PC_BINARY, PC_SOURCE_DIR, PC_BUILD_DIR.
set -euo pipefail

: "${PC_BUILD_DIR:?PC_BUILD_DIR is the build tree}"
fail() { echo "script_deploy: FAIL: $*" >&2; exit 1; }

command -v systemd-analyze >/dev/null || fail "systemd-analyze is not installed (run: make deps-test)"

tmp=$(mktemp -d /tmp/pc-deploy-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
prefix="$tmp/prefix"
cmake --install "$PC_BUILD_DIR" --prefix "$prefix" >/dev/null

bin="$prefix/bin/portcullis"
unit="$prefix/lib/systemd/system/portcullis.service"
conf="$prefix/etc/portcullis/config.json"
for f in "$bin" "$unit" "$conf" "$prefix/lib/sysusers.d/portcullis.conf" \
         "$prefix/share/portcullis/www/index.html" "$prefix/share/doc/portcullis/README.md"; do
    [ -e "$f" ] || fail "make install did not install $f"
done
[ "$(stat -c %a "$conf")" = "640" ] || fail "$conf has mode $(stat -c %a "$conf"), want 640"

# The unit runs the installed binary on the installed config, unprivileged,
# with the hardening the README promises.
grep -qx "ExecStart=$bin --config $conf" "$unit" || fail "ExecStart does not run $bin on $conf"
for line in User=portcullis AmbientCapabilities=CAP_NET_BIND_SERVICE \
            CapabilityBoundingSet=CAP_NET_BIND_SERVICE NoNewPrivileges=yes ProtectSystem=strict \
            ReadWritePaths=/var/lib/portcullis ProtectHome=yes PrivateTmp=yes \
            'SystemCallFilter=@system-service'; do
    grep -qx "$line" "$unit" || fail "the unit lacks $line"
done
# systemd-analyze exits 0 on many mistakes (an unparsable value is only a
# warning), so its output must be empty too.
out=$(systemd-analyze verify "$unit" 2>&1) || fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify warns: $out"

# The production config is valid apart from the certificate it waits for.
out=$("$bin" --check-config --config "$conf" 2>&1) && fail "check-config passed without a certificate"
echo "$out" | grep -q "fullchain.pem" || fail "check-config does not name the missing certificate: $out"
# With one in place (a dev certificate standing in for certbot's), it passes.
echo "{\"tls\": {\"dev_cert_dir\": \"$tmp/dev\"}}" >"$tmp/gen.json"
"$PC_BINARY" gen-cert --config "$tmp/gen.json" >/dev/null
mkdir -p "$prefix/etc/portcullis/tls"
cp "$tmp/dev/server.crt" "$prefix/etc/portcullis/tls/fullchain.pem"
install -m 600 "$tmp/dev/server.key" "$prefix/etc/portcullis/tls/privkey.pem"
out=$("$bin" --check-config --config "$conf" 2>&1) || fail "check-config with a certificate: $out"

# A reinstall keeps the operator's config.
sed -i 's/"https_port": 443/"https_port": 8443/' "$conf"
cmake --install "$PC_BUILD_DIR" --prefix "$prefix" >/dev/null
grep -q '"https_port": 8443' "$conf" || fail "a reinstall overwrote $conf"

echo "script_deploy: ok (installed, unit verified, config valid with a certificate, kept on reinstall)"
