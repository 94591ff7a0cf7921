#!/usr/bin/env python3
"""A test upstream for the gateway tests: HTTP/1.1 with keep-alive, one
thread per connection. Every answer echoes what arrived as JSON (method,
path, headers, body). The path's last segment picks a behaviour:
  .../slow?ms=N   answer after N ms          .../chunked   answer chunked
  .../garbage     a malformed head, close    .../close     close, no answer
  .../big?n=N     N bytes of 'x'             .../count     {"connections": N}
  .../requests    {"requests": N}, N the requests seen before this one (any path)
  .../stray?ms=N  answer 204, then N ms later (default 1000) write a whole
                  unasked-for answer ("stray") on the kept connection
  .../early       answer before reading the body (it need not have arrived), close
  .../progress?tag=T  how far the chunked request body tagged T (?tag=T on
                  its own request) was read: {"received": bytes, "chunks": N,
                  "state": "reading" | "complete" | "aborted"}, "aborted"
                  when the connection ended inside the body
The echo says how the request body was framed ("framing": "length",
"chunked" or "none"), and for a chunked one the chunk sizes and the
trailer fields seen.
Usage: gateway_upstream.py PORT  (loopback only)."""
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

accepted = 0
requests = 0
lock = threading.Lock()
progress = {}  # tag -> how far its chunked body was read


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def get_request(self):
        global accepted
        conn = super().get_request()
        with lock:
            accepted += 1
        return conn


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def body(self):
        """The request body, or None when the connection ended inside it."""
        self.chunks, self.trailers = [], []
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self.framing = "chunked"
            return self.chunked_body()
        self.framing = "length" if self.headers.get("Content-Length") is not None else "none"
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def chunked_body(self):
        tag = parse_qs(urlsplit(self.path).query).get("tag", [None])[0]
        data = b""

        def note(state):
            if tag:
                with lock:
                    progress[tag] = {"received": len(data), "chunks": len(self.chunks),
                                     "state": state}
        note("reading")
        try:
            while True:
                line = self.rfile.readline(1024)
                if not line.endswith(b"\r\n"):
                    raise EOFError(line)
                size = int(line[:-2].split(b";")[0], 16)
                if size == 0:
                    break
                part = self.rfile.read(size)
                if len(part) < size or self.rfile.read(2) != b"\r\n":
                    raise EOFError(part[-20:])
                data += part
                self.chunks.append(size)
                note("reading")
            while True:
                line = self.rfile.readline(1024)
                if line == b"\r\n":
                    break
                if not line.endswith(b"\r\n"):
                    raise EOFError(line)
                self.trailers.append(line[:-2].decode("latin-1"))
        except (EOFError, ValueError, OSError):
            note("aborted")
            self.close_connection = True
            return None
        note("complete")
        return data

    def handle_any(self):
        global requests
        u = urlsplit(self.path)
        q = parse_qs(u.query)
        last = u.path.rstrip("/").rsplit("/", 1)[-1]
        with lock:
            if last != "requests":
                requests += 1
            seen = requests
        if last == "requests":
            out = json.dumps({"requests": seen}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)
            return
        if last == "early":
            out = json.dumps({"early": True,
                              "content_length": self.headers.get("Content-Length"),
                              "transfer_encoding": self.headers.get("Transfer-Encoding")}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(out)
            self.close_connection = True
            return
        if last == "progress":
            with lock:
                out = json.dumps(progress.get(q.get("tag", [""])[0], {})).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)
            return
        body = self.body()
        if body is None:
            return
        if last == "stray":
            self.send_response(204)
            self.end_headers()
            self.wfile.flush()
            time.sleep(int(q.get("ms", ["1000"])[0]) / 1000)
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstray")
            self.wfile.flush()
            return
        if last == "garbage":
            self.wfile.write(b"HTTP/1.1 2OO Fine\r\nthis is not a header\r\n\r\n")
            self.close_connection = True
            return
        if last == "close":
            self.close_connection = True
            return
        if last == "slow":
            time.sleep(int(q.get("ms", ["1000"])[0]) / 1000)
        if last == "count":
            with lock:
                out = json.dumps({"connections": accepted}).encode()
        elif last == "big":
            out = b"x" * int(q.get("n", ["1000000"])[0])
        else:
            out = json.dumps({
                "method": self.command,
                "path": self.path,
                "headers": [[k, v] for k, v in self.headers.items()],
                "body": body.decode("latin-1"),
                "framing": self.framing,
                "chunks": self.chunks,
                "trailers": self.trailers,
            }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if last == "chunked":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            if self.command != "HEAD":
                for i in range(0, len(out), 7):
                    part = out[i:i + 7]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                self.wfile.write(b"0\r\n\r\n")
            return
        self.send_header("Content-Length", str(len(out)))
        self.send_header("X-Frame-Options", "SAMEORIGIN")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(out)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = handle_any


Server(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
