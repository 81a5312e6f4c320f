import Logging
import Testing
@testable import BottleneckCore
@testable import BottleneckLoad

/// The load engine over https against a real TLS server on loopback: the certificate is
/// verified against the CA the user names, every new connection's handshake is timed, and a
/// certificate it cannot trust or a plain-HTTP port is a one-line error before any load.
@Suite("Load engine over HTTPS on real loopback sockets", .serialized)
struct HTTPSLoadTests {
    func plan(_ url: String, keepAlive: Bool = true, tls: TLSClientSettings) throws -> LoadPlan {
        var plan = LoadPlan(target: try TargetURL(parsing: url),
                            steps: [LoadStep(name: "c2", shape: .closed(concurrency: 2), duration: 1_000_000_000)], runTag: "abcdef02")
        plan.threads = 1
        plan.keepAlive = keepAlive
        plan.tls = tls
        return plan
    }

    func run(_ plan: LoadPlan) async throws -> StepResult {
        let engine = try await LoadEngine.prepare(plan: plan, sink: CollectingSink(), logger: Logger(label: "test"))
        let observer = CollectingObserver()
        let results = try await engine.run(observer: observer)
        await engine.shutdown()
        return try #require(results.first)
    }

    @Test func keepAliveHandshakesOncePerConnectionAndVerifiesAgainstTheCA() async throws {
        let certificates = try TestCertificates.make()
        defer { certificates.remove() }
        let server = try await TestHTTPServer(behaviour: .respond(body: "ok"), tls: try certificates.serverContext())
        defer { Task { await server.stop() } }
        let step = try await run(plan("https://127.0.0.1:\(server.port)/predict", tls: TLSClientSettings(caCertificatePath: certificates.caPath)))
        #expect(step.completed > 20, "completed \(step.completed)")
        #expect(step.errors.isEmpty, "\(step.errors)")
        // Two connections, two handshakes, however many requests they carried.
        #expect(step.tlsHandshakes == step.connectionsOpened && step.connectionsOpened == 2, "\(String(describing: step.tlsHandshakes)) handshakes, \(step.connectionsOpened) connections")
        #expect((step.tlsHandshake?.p50 ?? 0) > 0)
        // By name too: the certificate names localhost, which is sent as SNI.
        let named = try await run(plan("https://localhost:\(server.port)/predict", tls: TLSClientSettings(caCertificatePath: certificates.caPath)))
        #expect(named.completed > 20 && named.errors.isEmpty)
    }

    @Test func withoutKeepAliveEveryRequestPaysAHandshake() async throws {
        let certificates = try TestCertificates.make()
        defer { certificates.remove() }
        let server = try await TestHTTPServer(behaviour: .respond(body: "ok"), tls: try certificates.serverContext())
        defer { Task { await server.stop() } }
        let step = try await run(plan("https://127.0.0.1:\(server.port)/predict", keepAlive: false, tls: TLSClientSettings(verify: false)))
        #expect(step.completed > 10)
        let handshakes = Double(step.tlsHandshakes ?? 0)
        #expect(handshakes >= 0.9 * Double(step.completed), "\(handshakes) handshakes for \(step.completed) requests")
    }

    @Test func anUntrustedCertificateOrAPlainPortIsOneLineWithTheFix() async throws {
        let certificates = try TestCertificates.make()
        defer { certificates.remove() }
        let server = try await TestHTTPServer(behaviour: .respond(body: "ok"), tls: try certificates.serverContext())
        defer { Task { await server.stop() } }
        // The system's roots do not include the test CA.
        let untrusted = await #expect(throws: LoadError.self) {
            _ = try await run(plan("https://127.0.0.1:\(server.port)/predict", tls: TLSClientSettings()))
        }
        #expect(untrusted?.message.contains("certificate for 127.0.0.1 not trusted: pass --cacert FILE") == true, "\(String(describing: untrusted?.message))")
        #expect(untrusted?.code == .unreachable)
        // A certificate issued for a name only, dialled by address: --server-name names it.
        let named = try TestCertificates.make(forAddress: false)
        defer { named.remove() }
        let namedServer = try await TestHTTPServer(behaviour: .respond(body: "ok"), tls: try named.serverContext())
        defer { Task { await namedServer.stop() } }
        let misnamed = await #expect(throws: LoadError.self) {
            _ = try await run(plan("https://127.0.0.1:\(namedServer.port)/predict", tls: TLSClientSettings(caCertificatePath: named.caPath)))
        }
        #expect(misnamed?.message.contains("does not name 127.0.0.1: pass --server-name NAME") == true, "\(String(describing: misnamed?.message))")
        let byName = try await run(plan("https://127.0.0.1:\(namedServer.port)/predict",
                                        tls: TLSClientSettings(caCertificatePath: named.caPath, serverName: "localhost")))
        #expect(byName.completed > 20 && byName.errors.isEmpty)
        // --insecure measures it anyway.
        let insecure = try await run(plan("https://127.0.0.1:\(server.port)/predict", tls: TLSClientSettings(verify: false)))
        #expect(insecure.completed > 20)
        // https:// to a plain-HTTP port.
        let plain = try await TestHTTPServer(behaviour: .respond(body: "ok"))
        defer { Task { await plain.stop() } }
        let wrong = await #expect(throws: LoadError.self) {
            _ = try await run(plan("https://127.0.0.1:\(plain.port)/predict", tls: TLSClientSettings(verify: false)))
        }
        #expect(wrong?.message.contains("does not speak TLS") == true, "\(String(describing: wrong?.message))")
        // A --cacert that is not a certificate file.
        let bad = await #expect(throws: LoadError.self) {
            _ = try await run(plan("https://127.0.0.1:\(server.port)/predict", tls: TLSClientSettings(caCertificatePath: certificates.keyPath + ".missing")))
        }
        #expect(bad?.message.hasPrefix("--cacert") == true && bad?.code == .badInput)
    }
}
