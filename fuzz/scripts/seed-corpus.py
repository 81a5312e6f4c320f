#!/usr/bin/env python3
"""Seeds fuzz/corpus/<target>/ from the repo's fixtures (run once; the corpus is committed).
Each file is kept small (heads of large fixtures), so a target's corpus stays well under 1 MB."""
import hashlib, pathlib, re, struct

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
CORPUS = ROOT / "fuzz" / "corpus"
LIMIT = 8 * 1024
FIX = ROOT / "Tests" / "BottleneckTests" / "Fixtures"


def put(target, data, name=None):
    if isinstance(data, str):
        data = data.encode()
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / (name or hashlib.sha1(data).hexdigest()[:16])).write_bytes(data)


def head(path, limit=LIMIT):
    data = path.read_bytes()
    if len(data) <= limit:
        return data
    cut = data.rfind(b"\n", 0, limit)
    return data[:cut + 1 if cut > 0 else limit]


def pcap_to_pcapng(data):
    """The packets of a classic pcap as pcapng (SHB, IDB, one EPB each)."""
    magic, = struct.unpack("<I", data[:4])
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    linktype = struct.unpack(endian + "I", data[20:24])[0] & 0xFFFF
    def block(kind, body):
        body += b"\0" * (-len(body) % 4)
        return struct.pack("<II", kind, len(body) + 12) + body + struct.pack("<I", len(body) + 12)
    out = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    out += block(1, struct.pack("<HHI", linktype, 0, 262144))
    offset = 24
    while offset + 16 <= len(data):
        sec, frac, caplen, length = struct.unpack(endian + "IIII", data[offset:offset + 16])
        packet = data[offset + 16:offset + 16 + caplen]
        offset += 16 + caplen
        ts = sec * 1_000_000 + frac
        out += block(6, struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(packet), length) + packet)
    return out


# http-response: the first byte is the read size - 1; the rest is what the server sent.
responses = [
    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nServer-Timing: db;dur=53.2, app;dur=47.2;desc=\"model\"\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nwiki\r\n0\r\nTrailer: x\r\n\r\n",
    "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close",
    "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n",
    "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    "HTTP/1.1 200 OK\nContent-Length: 3\n\nabc",
]
for i, r in enumerate(responses):
    put("http-response", bytes([i * 7 % 256]) + r.encode())

for v in ["db;dur=53.2, app;dur=47.2", "cache;desc=\"Cache Read\";dur=23.2", "miss, db;dur=53, app;dur=47.2;desc=\"a,b\\\"c\"",
          "total;dur=123.4;desc=model", "a;dur=1e309, b;dur=-0, c;desc=", "db=53.2|app=47.2"]:
    put("server-timing", v)

for path in sorted((ROOT / "Tests" / "BottleneckCaptureTests" / "Fixtures").glob("*.pcap")):
    data = path.read_bytes()
    if len(data) <= 16 * 1024:
        put("pcap", data, path.stem + ".pcap")
        put("pcap", pcap_to_pcapng(data), path.stem + ".pcapng")

# proc: the first byte picks the parser (ProcParse+Fuzzing.swift); multi-file parsers get NUL-separated files.
PROC = {"cgroup": 0, "cpu.max": 2, "stat": 15, "status": 16, "schedstat": 17, "limits": 18, "children": 19,
        "meminfo": 8, "vmstat": 9, "tcp": 11, "tcp6": 12, "ip_local_port_range": 14, "cpu": 7, "io": 7, "memory": 7,
        "cpu.stat": 21, "memory.events": 21}
for path in sorted(FIX.glob("proc/**/*")) + sorted(FIX.glob("cgroup/**/*")):
    if not path.is_file():
        continue
    name = path.name
    selector = PROC.get(name)
    if name == "stat" and path.parent.name in ("linux-6.18-hybrid",):
        selector = 6
    if name.endswith(".cgroup"):
        selector = 0
    if selector is None:
        selector = {"snmp": 10, "netstat": 10, "cpuacct.usage": 3, "cpu.cfs_quota_us": 3, "memory.usage_in_bytes": 5}.get(name, 21)
    put("proc", bytes([selector]) + head(path, 4096))
host = FIX / "proc" / "linux-6.18-hybrid"
put("proc", bytes([10]) + head(host / "8322/net/snmp", 4096) + b"\0" + head(host / "8322/net/netstat", 4096))
put("proc", bytes([4]) + b"123456\0max\0low 0\nhigh 0\nmax 2\noom 1\noom_kill 1\n")
put("proc", bytes([1]) + b"usage_usec 100\nuser_usec 60\nsystem_usec 40\nnr_periods 10\nnr_throttled 2\nthrottled_usec 5\n\0200000 100000\n")
put("proc", bytes([20]) + b"0-3,8,10-11\n")
put("proc", bytes([13]) + b"TCP6: inuse 3\nUDP6: inuse 1\n")

for path in sorted((ROOT / "playbooks" / "rules").glob("*.yaml")):
    text = path.read_text()
    for chunk in re.split(r"\n(?=- id:)", text):
        if "- id:" in chunk:
            put("rules", chunk.strip() + "\n")
            for when in re.findall(r"^\s*when:\s*(.+)$", chunk, re.M):
                put("rule-expression", when.strip())

for path in sorted((ROOT / "probes").glob("*.yaml")):
    put("probe-spec", head(path), path.name)

token = "Authorization: Bearer fuzz-token-0123456789abcdef\r\n"
for request in ["GET /health HTTP/1.1\r\nHost: a\r\n\r\n",
                "GET /v1/samples?after=0&limit=10 HTTP/1.1\r\nHost: a\r\n" + token + "\r\n",
                "GET /v1/samples?after=%31&limit=x HTTP/1.1\r\n" + token + "\r\n",
                "GET /v1/status HTTP/1.1\r\n" + token + "\r\n",
                "GET /metrics HTTP/1.1\r\n" + token + "\r\n",
                "POST /v1/step HTTP/1.1\r\nContent-Length: 26\r\n" + token + "\r\n{\"index\": 1, \"name\": \"s\"}\n",
                "POST /v1/step HTTP/1.1\r\nTransfer-Encoding: chunked\r\n" + token + "\r\n3\r\n{}\n\r\n0\r\n\r\n",
                "DELETE /v1/samples HTTP/1.1\r\n" + token + "\r\n",
                "GET /v1/status HTTP/1.1\r\nAuthorization: Bearer wrong\r\n\r\n",
                "GET /nowhere HTTP/1.0\r\n\r\n"]:
    put("agent-http", request)

for run in sorted((FIX / "runs").iterdir()):
    if (run / "samples.jsonl").exists():
        put("samples", head(run / "samples.jsonl"), run.name + ".jsonl")
        put("samples", head(run / "samples.jsonl", 2048), run.name + "-short.jsonl")
    if (run / "latency.hlog").exists():
        put("hlog", head(run / "latency.hlog"), run.name + ".hlog")
