#!/usr/bin/env python3
"""Servers and clients used by record-fixtures.sh to produce real traffic on loopback.

Usage: fixture_servers.py MODE [args]
  chunked-server PORT       HTTP/1.1 keep-alive server replying chunked, chunks in separate writes
  chunked-onewrite PORT     same, but the whole chunked body in one write (one segment)
  reset-server PORT         answers the first request, resets (SO_LINGER 0) on the second
  client HOST PORT SPEC...  keep-alive client; SPEC = METHOD:PATH[:BODYLEN], each with X-Request-Id
  pipeline HOST PORT N      sends N GETs in one write, reads all responses
  split-server PORT         answers the split client, each response written in pieces
  split-client HOST PORT    keep-alive client writing each request in pieces (see SPLIT_EXCHANGES)
  bulk-server PORT SIZE     keep-alive server answering every request with a SIZE-byte body, one write
  close-server PORT         answers without Content-Length (body in two writes), then closes
  slow-reader HOST PORT RCVBUF PAUSE
                            GET with a RCVBUF-byte receive buffer, reading only after PAUSE seconds
                            (the receiver's window fills: zero windows, persist probes)
  pieces-client HOST PORT N...
                            POST whose body is written as pieces of N bytes, 20 ms apart

Split mode: every piece is one write with TCP_NODELAY and a 5 ms pause before the next, so each
piece travels in a segment of its own. The cuts fall inside a header name, inside a header value,
between the CR and LF of the blank line, inside a chunk-size line and inside chunk data.
"""
import socket, struct, sys, time

def read_request(conn, buf):
    while b"\r\n\r\n" not in buf:
        data = conn.recv(65536)
        if not data:
            return None, buf
        buf += data
    head, _, rest = buf.partition(b"\r\n\r\n")
    length = 0
    rid = b"-"
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v.strip())
        if k.strip().lower() == b"x-request-id":
            rid = v.strip()
    while len(rest) < length:
        rest += conn.recv(65536)
    return (head, rid), rest[length:]

def serve(port, handler, family=socket.AF_INET, host="127.0.0.1"):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.listen(16)
    while True:
        conn, _ = s.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            handler(conn)
        except (ConnectionError, OSError):
            pass
        finally:
            try: conn.close()
            except OSError: pass

def chunked(conn, onewrite):
    buf = b""
    while True:
        req, buf = read_request(conn, buf)
        if req is None:
            return
        _, rid = req
        head = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n"
                b"X-Request-Id: " + rid + b"\r\nServer-Timing: preprocess;dur=1.5, model;dur=3.2\r\n\r\n")
        chunks = [b"a" * 1000, b"b" * 700, b"c" * 10]
        if onewrite:
            body = b"".join(b"%x\r\n" % len(c) + c + b"\r\n" for c in chunks) + b"0\r\n\r\n"
            conn.sendall(head + body)
            continue
        conn.sendall(head)
        for c in chunks:
            time.sleep(0.01)
            conn.sendall(b"%x\r\n" % len(c) + c + b"\r\n")
        time.sleep(0.01)
        conn.sendall(b"0\r\n\r\n")

def reset(conn):
    buf = b""
    req, buf = read_request(conn, buf)
    if req is None:
        return
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX-Request-Id: " + req[1] + b"\r\n\r\nok\n")
    req, buf = read_request(conn, buf)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()

def client(host, port, specs):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    hosthdr = f"[{host}]" if ":" in host else host
    c = socket.socket(fam, socket.SOCK_STREAM)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    c.connect((host, port))
    f = c.makefile("rb")
    for i, spec in enumerate(specs):
        parts = spec.split(":")
        method, path = parts[0], parts[1]
        n = int(parts[2]) if len(parts) > 2 else 0
        body = b"x" * n
        req = (f"{method} {path} HTTP/1.1\r\nHost: {hosthdr}\r\nX-Request-Id: req-{i+1}\r\n"
               + (f"Content-Length: {n}\r\n" if n else "") + "\r\n").encode() + body
        c.sendall(req)
        # read the response: status line, headers, body (Content-Length or chunked)
        line = f.readline()
        if not line:
            break
        length, is_chunked = None, False
        while True:
            h = f.readline()
            if h in (b"\r\n", b""):
                break
            k, _, v = h.partition(b":")
            if k.lower() == b"content-length": length = int(v)
            if k.lower() == b"transfer-encoding" and b"chunked" in v.lower(): is_chunked = True
        if is_chunked:
            while True:
                size = int(f.readline().strip(), 16)
                f.read(size + 2)
                if size == 0:
                    break
        elif length:
            f.read(length)
        time.sleep(0.02)
    c.close()

def pipeline(host, port, n):
    c = socket.create_connection((host, port))
    reqs = b"".join(b"GET /small HTTP/1.1\r\nHost: x\r\nX-Request-Id: pipe-%d\r\n\r\n" % (i + 1) for i in range(n))
    c.sendall(reqs)
    time.sleep(0.3)
    c.sendall(b"GET /small HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Request-Id: pipe-last\r\n\r\n")
    while c.recv(65536):
        pass
    c.close()

# (request id, request pieces, response pieces). The analyzer must give t1 = first request
# piece, t2 = last request piece, t3 = first response piece, t4 = last response piece.
SPLIT_EXCHANGES = [
    ("split-1",
     [b"POST /split HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Req",
      b"uest-Id: split-1\r\nContent-Length: 300\r\n\r",
      b"\n" + b"a" * 100,
      b"a" * 200],
     [b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Request-Id: spl",
      b"it-1\r\nServer-Timing: app;dur=5.0\r\nContent-Length: 2000\r\n\r\n" + b"b" * 500,
      b"b" * 1000,
      b"b" * 500]),
    ("split-2",
     [b"POST /split-chunked HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-Id: split-2\r\nTransfer-Encoding: chunked\r\n\r\n",
      b"6",
      b"4\r\n" + b"c" * 100 + b"\r\n",
      b"0\r\n\r",
      b"\n"],
     [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Request-Id: split-2\r\n\r\n",
      b"3e8\r\n" + b"d" * 600,
      b"d" * 400 + b"\r\n0\r",
      b"\n\r\n"]),
    ("split-3",
     [b"GET /split-empty HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-Id: split-3\r\n",
      b"\r\n"],
     [b"HTTP/1.1 204 No Content\r\nX-Request-Id: split-3\r\n",
      b"\r\n"]),
]

def send_pieces(sock, pieces):
    for k, piece in enumerate(pieces):
        if k:
            time.sleep(0.005)
        sock.sendall(piece)

def read_split_request(conn, buf):
    """Reads one request (Content-Length or chunked body); returns (request id, rest of buf)."""
    while b"\r\n\r\n" not in buf:
        data = conn.recv(65536)
        if not data:
            return None, buf
        buf += data
    head, _, buf = buf.partition(b"\r\n\r\n")
    fields = {k.strip().lower(): v.strip() for k, _, v in (l.partition(b":") for l in head.split(b"\r\n")[1:])}
    if fields.get(b"transfer-encoding") == b"chunked":
        while not buf.endswith(b"0\r\n\r\n"):
            buf += conn.recv(65536)
        buf = b""
    else:
        length = int(fields.get(b"content-length", b"0"))
        while len(buf) < length:
            buf += conn.recv(65536)
        buf = buf[length:]
    return fields.get(b"x-request-id"), buf

def split_server(conn):
    responses = {rid.encode(): rsp for rid, _, rsp in SPLIT_EXCHANGES}
    buf = b""
    while True:
        rid, buf = read_split_request(conn, buf)
        if rid is None:
            return
        send_pieces(conn, responses[rid])

def split_client(host, port):
    c = socket.create_connection((host, port))
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for rid, request, response in SPLIT_EXCHANGES:
        send_pieces(c, request)
        want, got = len(b"".join(response)), b""
        while len(got) < want:
            data = c.recv(65536)
            if not data:
                raise SystemExit(f"{rid}: connection closed after {len(got)} of {want} bytes")
            got += data
        time.sleep(0.02)
    c.close()

def bulk(conn, size):
    buf = b""
    while True:
        req, buf = read_request(conn, buf)
        if req is None:
            return
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nX-Request-Id: " % size + req[1]
                     + b"\r\n\r\n" + b"z" * size)

def close_delimited(conn):
    req, _ = read_request(conn, b"")
    if req is None:
        return
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\nX-Request-Id: " + req[1] + b"\r\n\r\n" + b"e" * 700)
    time.sleep(0.005)
    conn.sendall(b"f" * 300)

def slow_reader(host, port, rcvbuf, pause):
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)   # before connect: sets the window scale
    c.connect((host, port))
    c.sendall(b"GET /bulk HTTP/1.1\r\nHost: x\r\nX-Request-Id: zw-1\r\n\r\n")
    time.sleep(pause)
    f = c.makefile("rb")
    length = None
    while True:
        h = f.readline()
        if h in (b"\r\n", b""):
            break
        k, _, v = h.partition(b":")
        if k.lower() == b"content-length":
            length = int(v)
    while length:
        length -= len(f.read(min(length, 4096)))
        time.sleep(0.001)
    c.close()

def pieces_client(host, port, sizes):
    c = socket.create_connection((host, port))
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    c.sendall(b"POST /pieces HTTP/1.1\r\nHost: x\r\nX-Request-Id: pieces-1\r\nContent-Length: %d\r\n\r\n" % sum(sizes))
    for n in sizes:
        time.sleep(0.02)
        c.sendall(b"p" * n)
    f = c.makefile("rb")
    length = 0
    while True:
        h = f.readline()
        if h in (b"\r\n", b""):
            break
        k, _, v = h.partition(b":")
        if k.lower() == b"content-length":
            length = int(v)
    f.read(length)
    time.sleep(0.02)
    c.close()

mode = sys.argv[1]
if mode == "chunked-server": serve(int(sys.argv[2]), lambda c: chunked(c, False))
elif mode == "chunked-onewrite": serve(int(sys.argv[2]), lambda c: chunked(c, True))
elif mode == "reset-server": serve(int(sys.argv[2]), reset)
elif mode == "client":
    try:
        client(sys.argv[2], int(sys.argv[3]), sys.argv[4:])
    except ConnectionResetError:
        print("connection reset by peer (expected for reset-server)", file=sys.stderr)
elif mode == "pipeline": pipeline(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
elif mode == "split-server": serve(int(sys.argv[2]), split_server)
elif mode == "split-client": split_client(sys.argv[2], int(sys.argv[3]))
elif mode == "bulk-server": serve(int(sys.argv[2]), lambda c: bulk(c, int(sys.argv[3])))
elif mode == "close-server": serve(int(sys.argv[2]), close_delimited)
elif mode == "slow-reader": slow_reader(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]))
elif mode == "pieces-client": pieces_client(sys.argv[2], int(sys.argv[3]), [int(n) for n in sys.argv[4:]])
