"""A stand-in prediction service for the agent tests: HTTP/1.1 with keep-alive on
127.0.0.1, on a port the kernel picks, spending about 5 ms of CPU on every request so
that its CPU follows the load. Prints the port on stdout and `listening on PORT` on
stderr; ends itself after the seconds given as the first argument (default 60)."""
import http.server
import signal
import sys
import time


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        end = time.thread_time() + 0.005
        while time.thread_time() < end:
            pass
        body = b"ok\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


signal.alarm(int(sys.argv[1]) if len(sys.argv) > 1 else 60)
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
port = server.server_address[1]
print(port, flush=True)
print(f"listening on {port}", file=sys.stderr, flush=True)
server.serve_forever()
