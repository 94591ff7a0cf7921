#!/usr/bin/env python3
"""bench/mfa_users.py: users with two-factor on, for bench/auth.

  enrol BASE CA_FILE COUNT PREFIX OUT   register PREFIX-0..COUNT-1, turn TOTP
                                        on (codes computed here, RFC 6238),
                                        write "name secret" lines to OUT
  lua SECRETS FIRST LAST PASSWORD OUT   write a Lua table for wrk: users
                                        FIRST..LAST-1 with the codes of this
                                        30-second step and the next (each is
                                        accepted once, in that order)

Loopback only; the password is the bench's published one."""
import base64
import concurrent.futures
import hashlib
import hmac
import http.client
import json
import ssl
import struct
import sys
import time
import urllib.parse

PASSWORD = "bench-password-1"


def totp(secret_b32, step):
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    h = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    o = h[-1] & 0x0F
    return "%06d" % ((struct.unpack(">I", h[o:o + 4])[0] & 0x7FFFFFFF) % 1000000)


def call(conn, method, path, body=None, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    conn.request(method, path, json.dumps(body) if body is not None else None, headers)
    r = conn.getresponse()
    data = r.read()
    return r.status, (json.loads(data) if data else None)


def enrol_one(base, ctx, name):
    u = urllib.parse.urlparse(base)
    conn = http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=30)
    creds = {"username": name, "password": PASSWORD}
    st, _ = call(conn, "POST", "/api/register", creds)
    if st != 201:
        raise SystemExit("register %s: %d" % (name, st))
    st, tok = call(conn, "POST", "/api/login", creds)
    access = tok["access_token"]
    st, setup = call(conn, "POST", "/api/mfa/totp/setup", None, access)
    secret = setup["secret"]
    st, _ = call(conn, "POST", "/api/mfa/totp/enable",
                 {"code": totp(secret, int(time.time()) // 30)}, access)
    if st != 200:
        raise SystemExit("enable %s: %d" % (name, st))
    conn.close()
    return name, secret, int(time.time()) // 30


def enrol(base, ca, count, prefix, out):
    ctx = ssl.create_default_context(cafile=ca)
    ctx.check_hostname = False
    names = ["%s-%d" % (prefix, i) for i in range(count)]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        rows = list(pool.map(lambda n: enrol_one(base, ctx, n), names))
    # Codes of the enabling step are spent: wait for a later step.
    last = max(r[2] for r in rows)
    while int(time.time()) // 30 <= last:
        time.sleep(0.2)
    with open(out, "w") as f:
        for name, secret, _ in rows:
            f.write("%s %s\n" % (name, secret))


def lua(secrets, first, last, password, out):
    rows = [line.split() for line in open(secrets)][first:last]
    step = int(time.time()) // 30
    with open(out, "w") as f:
        f.write("return {\n")
        for name, secret in rows:
            f.write('  {u = "%s", c = {"%s", "%s"}},\n'
                    % (name, totp(secret, step), totp(secret, step + 1)))
        f.write("}\n")


if __name__ == "__main__":
    a = sys.argv
    if len(a) == 7 and a[1] == "enrol":
        enrol(a[2], a[3], int(a[4]), a[5], a[6])
    elif len(a) == 7 and a[1] == "lua":
        lua(a[2], int(a[3]), int(a[4]), a[5], a[6])
    else:
        sys.exit(__doc__)
