import Foundation
import NIOSSL

/// A private CA and a server certificate it signed for 127.0.0.1 and localhost (or localhost
/// alone, `forAddress: false`), made with the
/// openssl command (installed by `make setup`) in a temporary directory: what a TLS front of
/// one's own presents, and the CA file a user passes with --cacert.
struct TestCertificates: Sendable {
    let directory: String
    var caPath: String { directory + "/ca.pem" }
    var certificatePath: String { directory + "/server.pem" }
    var keyPath: String { directory + "/server.key" }

    static func make(forAddress: Bool = true) throws -> TestCertificates {
        let directory = NSTemporaryDirectory() + "bnk-tls-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let certificates = TestCertificates(directory: directory)
        try "subjectAltName=\(forAddress ? "IP:127.0.0.1," : "")DNS:localhost\nbasicConstraints=CA:FALSE\n"
            .write(toFile: directory + "/san.ext", atomically: true, encoding: .utf8)
        let openssl = ["/usr/bin/openssl", "/usr/local/bin/openssl"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "openssl"
        for arguments in [
            ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", directory + "/ca.key",
             "-out", certificates.caPath, "-days", "2", "-subj", "/CN=bottleneck test CA"],
            ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", certificates.keyPath,
             "-out", directory + "/server.csr", "-subj", "/CN=localhost"],
            ["x509", "-req", "-in", directory + "/server.csr", "-CA", certificates.caPath, "-CAkey", directory + "/ca.key",
             "-CAcreateserial", "-out", certificates.certificatePath, "-days", "2", "-extfile", directory + "/san.ext"],
        ] {
            let (status, output) = try TestChildProcess.run(openssl, arguments)
            guard status == 0 else { throw NSError(domain: "openssl", code: Int(status), userInfo: [NSLocalizedDescriptionKey: "openssl \(arguments[0]) failed: \(output)"]) }
        }
        return certificates
    }

    /// The server side: the certificate and its key.
    func serverContext() throws -> NIOSSLContext {
        let configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(certificatePath).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: keyPath, format: .pem)))
        return try NIOSSLContext(configuration: configuration)
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }
}
