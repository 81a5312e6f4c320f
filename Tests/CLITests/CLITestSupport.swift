import Foundation

/// Runs the built `bottleneck` binary like a user would, capturing its output.
enum CLI {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The debug binary `swift build` put next to the tests.
    static var binary: URL {
        let candidates = [".build/debug/bottleneck", ".build/x86_64-unknown-linux-gnu/debug/bottleneck", ".build/aarch64-unknown-linux-gnu/debug/bottleneck"]
        for candidate in candidates {
            let url = packageRoot.appendingPathComponent(candidate)
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return packageRoot.appendingPathComponent(candidates[0])
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `bottleneck ARGS` in `directory`; `interruptAfter` sends SIGINT after that many seconds.
    static func run(_ arguments: [String], in directory: URL? = nil, interruptAfter: Double? = nil) throws -> Result {
        try Subprocess.run(binary.path, arguments, in: directory, interruptAfter: interruptAfter)
    }

    /// A fresh directory under this test process's own scratch root, which is removed when the
    /// process exits: run directories and fixture copies do not pile up in /tmp.
    static func temporaryDirectory() throws -> URL {
        let url = scratchRoot.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static let scratchRoot: URL = {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("bottleneck-cli-\(getpid())")
        try? FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        atexit {
            try? FileManager.default.removeItem(at: FileManager.default.temporaryDirectory.appendingPathComponent("bottleneck-cli-\(getpid())"))
        }
        return root
    }()
}

/// A throwaway nginx on loopback, started with the project's own script.
final class LocalNginx {
    let directory: URL
    let port: Int

    static var available: Bool {
        ["/usr/sbin/nginx", "/usr/bin/nginx"].contains { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// `tlsPort` adds an https listener (h2 and http/1.1 by ALPN; CA in `caPath`), `h2cPort` a
    /// cleartext HTTP/2 one; `environment` sets the script's LOCAL_NGINX_* limits.
    init(port: Int, tlsPort: Int? = nil, h2cPort: Int? = nil, environment: [String: String] = [:]) throws {
        self.port = port
        directory = try CLI.temporaryDirectory()
        var arguments = [directory.path, String(port)]
        if tlsPort != nil || h2cPort != nil { arguments += ["", tlsPort.map(String.init) ?? ""] }
        if let h2cPort { arguments.append(String(h2cPort)) }
        let script = CLI.packageRoot.appendingPathComponent("scripts/local-nginx.sh").path
        let result = environment.isEmpty
            ? try Subprocess.run(script, arguments)
            : try Subprocess.run("/usr/bin/env", environment.map { "\($0.key)=\($0.value)" } + [script] + arguments)
        guard result.status == 0 else {
            throw NSError(domain: "LocalNginx", code: Int(result.status),
                          userInfo: [NSLocalizedDescriptionKey: "nginx did not start: \(result.stderr)"])
        }
    }

    /// The CA that signed the https listener's certificate (with `tlsPort`).
    var caPath: String { directory.appendingPathComponent("tls/ca.pem").path }

    func stop() {
        if let pid = try? String(contentsOf: directory.appendingPathComponent("nginx.pid"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines), let value = Int32(pid) {
            kill(value, SIGTERM)
        }
    }
}
