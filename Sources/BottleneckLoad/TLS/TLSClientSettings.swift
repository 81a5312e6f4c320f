import BottleneckCore
import NIOCore
import NIOSSL

/// How the load engine speaks TLS to an https target: verification on by default, the CA
/// file to trust instead of the system's, and the name to send as SNI and to match.
public struct TLSClientSettings: Sendable, Equatable {
    /// Verify the server's chain and name (`--insecure` turns it off).
    public var verify = true
    /// A PEM file of CA certificates to trust instead of the system's (`--cacert FILE`).
    public var caCertificatePath: String?
    /// The name sent as SNI and matched against the certificate (`--server-name`); default:
    /// the URL's host when it is a name. An address literal sends no SNI and is matched
    /// against the certificate's IP addresses.
    public var serverName: String?

    public init(verify: Bool = true, caCertificatePath: String? = nil, serverName: String? = nil) {
        self.verify = verify
        self.caCertificatePath = caCertificatePath
        self.serverName = serverName
    }

    /// The name for SNI and verification of `target`, or nil for an address literal.
    public func serverHostname(for target: TargetURL) -> String? {
        if let serverName, !serverName.isEmpty { return serverName }
        return target.isAddressLiteral ? nil : target.host
    }

    /// One context for every connection of the run (BoringSSL's SSL_CTX: certificates parsed
    /// once). ALPN offers HTTP/1.1, or only h2 with `http2` (`--http2`: the run measures HTTP/2
    /// or nothing, never a silent fallback).
    public func makeContext(http2: Bool = false) throws(LoadError) -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = verify ? .fullVerification : .none
        configuration.applicationProtocols = http2 ? ["h2"] : ["http/1.1"]
        if let path = caCertificatePath {
            let certificates: [NIOSSLCertificate]
            do {
                certificates = try NIOSSLCertificate.fromPEMFile(path)
            } catch {
                throw LoadError(.badInput, "--cacert \(path): not a readable PEM file of certificates (\(error)); pass the CA certificate that signed the server's, in PEM")
            }
            guard !certificates.isEmpty else {
                throw LoadError(.badInput, "--cacert \(path): no certificate in it; pass the CA certificate that signed the server's, in PEM")
            }
            configuration.trustRoots = .certificates(certificates)
        }
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw LoadError(.badInput, "cannot set up TLS (\(error)); check --cacert")
        }
    }

    /// The one-line explanation of a failed handshake with `target`, naming the fix.
    public func explain(handshakeError error: any Error, target: TargetURL) -> String {
        let name = serverHostname(for: target) ?? target.host
        let text = String(describing: error)
        if text.contains("failedToValidateHostname") {
            return "certificate of \(target.hostHeader) does not name \(name): pass --server-name NAME (the name it was issued for), or --insecure"
        }
        if text.contains("CERTIFICATE_VERIFY_FAILED") || text.contains("certificate verify failed") {
            return "certificate for \(name) not trusted: pass --cacert FILE (the CA that signed it) or --insecure"
        }
        if text.contains("WRONG_VERSION_NUMBER") || text.contains("wrong version number") || text.contains("HTTP_REQUEST") {
            return "\(target.hostHeader) does not speak TLS on port \(target.port): use http:// or the TLS port"
        }
        if text.contains("NO_APPLICATION_PROTOCOL") || text.contains("no application protocol") {
            return "\(target.hostHeader) offers no protocol the generator asked for over TLS (ALPN): without --http2 it asks for http/1.1, with it h2"
        }
        return "TLS handshake with \(target.hostHeader) failed (\(text)); check the port, --cacert and --server-name"
    }
}
