"""gw_client.py: the TLS client of script_gateway.sh's Python steps:
a connection to Portcullis on loopback, checked against the test's CA,
and an answer read until the server closes."""
import socket
import ssl


def connect_to(port, cafile, timeout=15):
    ctx = ssl.create_default_context(cafile=cafile)
    raw = socket.create_connection(("127.0.0.1", int(port)), timeout=timeout)
    return ctx.wrap_socket(raw, server_hostname="localhost")


def read_all(s):
    data = b""
    while True:
        try:
            more = s.recv(65536)
        except socket.timeout:
            raise SystemExit("no answer within the timeout: %r" % data[:300])
        if not more:
            return data
        data += more
