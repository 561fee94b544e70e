"""An mTLS target in Python's standard library (http.server + ssl), a third implementation next
to the rustls echo server and nginx. It speaks HTTP/1.0 as BaseHTTPRequestHandler does by
default: one request per connection and response bodies delimited by the connection's close
(no Content-Length), which a forwarding client must read to the end.

Usage: python_target.py CERT KEY CLIENT_CA; prints the port it listens on (127.0.0.1), then
serves until killed. Paths starting /truncated announce a Content-Length longer than the body
they send. Each answer is JSON: method, path, the client certificate's subject
commonName, the request body and its Authorization header.
"""
import http.server
import json
import ssl
import sys

cert, key, client_ca = sys.argv[1:4]


class Handler(http.server.BaseHTTPRequestHandler):
    def answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        subject = dict(pair[0] for pair in self.connection.getpeercert().get("subject", ()))
        report = {"method": self.command, "path": self.path, "clientCn": subject.get("commonName"),
                  "body": body, "authorization": self.headers.get("Authorization")}
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if self.path.startswith("/truncated"):
            # Promises more than it sends, then closes: a truncated body.
            self.send_header("Content-Length", "100000")
        self.end_headers()  # otherwise no Content-Length: the body ends when the connection closes
        self.wfile.write(json.dumps(report).encode())

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = answer

    def log_message(self, *args):
        pass


context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
context.load_verify_locations(client_ca)
context.verify_mode = ssl.CERT_REQUIRED
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.socket = context.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
