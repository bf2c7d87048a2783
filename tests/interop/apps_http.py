#!/usr/bin/env python3
"""The kernel's side of the HTTP tests of real programs (issue 15 item 4).

apps_http.py DIR ADDR PORT: an HTTP/1.1 server (threads, keep-alive) on the
kernel's TCP that serves the files of DIR on GET and HEAD, and answers a PUT
or POST with the sha256 and the length of the body it received
("sha256 LENGTH\\n"), so that a client's upload is checked without storing
it.  It prints "ready" when it listens.  Used by the tests only inside the
network namespace they create.
"""
import functools
import hashlib
import http.server
import sys


class Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def do_PUT(self):
        length = int(self.headers.get("Content-Length", "0"))
        h = hashlib.sha256()
        left = length
        while left > 0:
            chunk = self.rfile.read(min(left, 1 << 16))
            if not chunk:
                break
            h.update(chunk)
            left -= len(chunk)
        body = ("%s %d\n" % (h.hexdigest(), length - left)).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_PUT


def main():
    directory, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    handler = functools.partial(Handler, directory=directory)
    srv = http.server.ThreadingHTTPServer((addr, port), handler)
    print("ready", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
