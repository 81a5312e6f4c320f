import Foundation
import Testing

/// `bottleneck load --http2` against a real nginx: prior-knowledge h2c and h2 by ALPN over TLS,
/// many streams on each connection, the server's own limits (SETTINGS_MAX_CONCURRENT_STREAMS,
/// GOAWAY after keepalive_requests), flow control holding a large body, and one-line errors.
@Suite("bottleneck load over HTTP/2 against nginx", .serialized)
struct HTTP2LoadTests {
    static let enabled = LocalNginx.available || TestRequirements.enforced

    /// `load … --json`: the first step of the summary, after checking the exit code (3 is a run
    /// whose generator used its cores: a closed loop against nginx on loopback can, beside a busy
    /// test run, and these tests judge the protocol, not the speed).
    func step(_ arguments: [String]) throws -> [String: Any] {
        let directory = try CLI.temporaryDirectory()
        let result = try CLI.run(["load"] + arguments + ["--json", "--out", directory.appendingPathComponent("run").path], in: directory)
        #expect(result.status == 0 || result.status == 3, "\(result.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        return try #require((summary["steps"] as? [[String: Any]])?.first)
    }

    func figures(_ step: [String: Any]) -> [String: Any] { step["http2"] as? [String: Any] ?? [:] }

    @Test(.enabled(if: enabled, "needs nginx (make setup installs it)"))
    func manyStreamsShareEachConnectionInCleartextAndOverTLS() throws {
        let nginx = try LocalNginx(port: 18_661, tlsPort: 18_662, h2cPort: 18_663)
        defer { nginx.stop() }
        // 8 requests in flight, 4 streams per connection: 2 connections, 4 streams on each at once.
        let clear = try step(["--target", "http://127.0.0.1:18663/small.txt", "--http2", "--streams", "4",
                              "--concurrency", "8", "--duration", "1s"])
        #expect((clear["completed"] as? Int ?? 0) > 100, "\(clear)")
        #expect((clear["errors"] as? [String: Any])?.isEmpty == true, "\(clear["errors"] ?? "")")
        #expect(clear["connectionsOpened"] as? Int == 2)
        #expect(figures(clear)["streamsInFlightMax"] as? Int == 4, "\(figures(clear))")
        let tls = try step(["--target", "https://127.0.0.1:18662/small.txt", "--cacert", nginx.caPath, "--http2", "--streams", "4",
                            "--concurrency", "8", "--duration", "1s"])
        #expect((tls["completed"] as? Int ?? 0) > 100 && (tls["errors"] as? [String: Any])?.isEmpty == true, "\(tls)")
        #expect(tls["connectionsOpened"] as? Int == 2 && tls["tlsHandshakes"] as? Int == 2, "\(tls)")
        // The same https port without --http2 still speaks HTTP/1.1: one request per connection at a time.
        let http1 = try step(["--target", "https://127.0.0.1:18662/small.txt", "--cacert", nginx.caPath, "--concurrency", "8", "--duration", "1s"])
        #expect(http1["http2"] == nil && http1["connectionsOpened"] as? Int == 8, "\(http1)")
    }

    @Test(.enabled(if: enabled, "needs nginx (make setup installs it)"))
    func theServersStreamLimitAndGoawayAreObeyedWithoutErrors() throws {
        // nginx allows 2 streams at once and closes a connection (GOAWAY) after 20 requests.
        let nginx = try LocalNginx(port: 18_664, h2cPort: 18_665,
                                   environment: ["LOCAL_NGINX_HTTP2_STREAMS": "2", "LOCAL_NGINX_KEEPALIVE_REQUESTS": "20"])
        defer { nginx.stop() }
        let s = try step(["--target", "http://127.0.0.1:18665/small.txt", "--http2", "--streams", "8",
                          "--concurrency", "8", "--duration", "1s"])
        let completed = s["completed"] as? Int ?? 0
        #expect(completed > 100, "\(s)")
        #expect((s["errors"] as? [String: Any])?.isEmpty == true, "\(s["errors"] ?? "")")
        // Never more streams than the server allows on one connection ...
        #expect((figures(s)["streamsInFlightMax"] as? Int ?? 0) <= 2, "\(figures(s))")
        // ... and a new connection after every 20 requests (streams it refused went out again).
        #expect((s["connectionsOpened"] as? Int ?? 0) >= completed / 20, "\(s["connectionsOpened"] ?? 0) connections for \(completed)")
    }

    @Test(.enabled(if: enabled, "needs nginx (make setup installs it)"))
    func aBodyLargerThanTheServersWindowWaitsForItsWindowUpdate() throws {
        let nginx = try LocalNginx(port: 18_666, h2cPort: 18_667)
        defer { nginx.stop() }
        // 300 KB bodies; nginx grants a new stream 64 KB (http2_body_preread_size) before it reads.
        let s = try step(["--target", "http://127.0.0.1:18667/upload", "--http2", "--streams", "2", "--concurrency", "2",
                          "--duration", "1s", "--payload", "tensor:shape=1x300x256,dtype=float32,encoding=binary"])
        let completed = s["completed"] as? Int ?? 0
        #expect(completed > 10 && (s["statusClasses"] as? [String: Int])?["2xx"] == completed, "\(s)")
        let stalls = figures(s)["flowControlStalls"] as? Int ?? 0
        #expect(stalls >= completed - 2, "\(stalls) stalls for \(completed) requests: \(figures(s))")
        // Small bodies fit the window: no stall.
        let small = try step(["--target", "http://127.0.0.1:18667/upload", "--http2", "--concurrency", "2", "--duration", "1s",
                              "--payload", "tensor:shape=1x16,dtype=float32,encoding=binary"])
        #expect(figures(small)["flowControlStalls"] as? Int == 0, "\(figures(small))")
    }

    @Test(.enabled(if: enabled, "needs nginx (make setup installs it)"))
    func aServerWithoutHTTP2OrAMisusedFlagIsOneLineAndExit2() throws {
        let nginx = try LocalNginx(port: 18_668)
        defer { nginx.stop() }
        let plain = try CLI.run(["load", "--target", "http://127.0.0.1:18668/small.txt", "--http2", "--concurrency", "1", "--duration", "1s"])
        #expect(plain.status == 2)
        #expect(plain.stderr.contains("does not speak HTTP/2 without TLS"), "\(plain.stderr)")
        #expect(plain.stderr.split(separator: "\n").count == 1, "\(plain.stderr)")
        let streams = try CLI.run(["load", "--target", "http://127.0.0.1:18668/small.txt", "--streams", "4", "--concurrency", "1", "--duration", "1s"])
        #expect(streams.status == 2 && streams.stderr.contains("--streams 4 needs --http2"), "\(streams.stderr)")
        let closing = try CLI.run(["load", "--target", "http://127.0.0.1:18668/small.txt", "--http2", "--no-keepalive", "--concurrency", "1", "--duration", "1s"])
        #expect(closing.status == 2 && closing.stderr.contains("--no-keepalive with --http2"), "\(closing.stderr)")
    }
}
