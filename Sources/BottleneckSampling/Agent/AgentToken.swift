#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The shared secret between an agent and the runs that pull from it, read from a file
/// (`--token-file` on the agent, `--agent-token-file` on `bottleneck load`).
///
/// The file must be a regular file, hold at least 16 bytes of token (surrounding
/// whitespace is trimmed) and be readable by its owner only (mode 0600 or 0400): a token
/// others can read authenticates nothing, so a wider mode is refused, as ssh refuses a
/// private key, rather than warned about.
public struct AgentToken: Sendable, Equatable {
    /// The token bytes, as sent after `Bearer `.
    public let value: String

    /// Shortest token accepted: 16 bytes, e.g. `openssl rand -hex 32 > token`.
    public static let minimumLength = 16

    public init(value: String) throws(AgentError) {
        let trimmed = Self.trim(value)
        guard trimmed.utf8.count >= Self.minimumLength else {
            throw AgentError(.badToken, "the agent token must be at least \(Self.minimumLength) characters; create one with `openssl rand -hex 32 > token && chmod 600 token`")
        }
        guard trimmed.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
            throw AgentError(.badToken, "the agent token must be printable ASCII without spaces; create one with `openssl rand -hex 32 > token`")
        }
        self.value = trimmed
    }

    /// Reads and checks a token file; `option` names the flag in messages.
    public static func load(path: String, option: String = "--token-file") throws(AgentError) -> AgentToken {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw AgentError(.badToken, "\(option) \(path): \(String(cString: strerror(errno))); create it with `openssl rand -hex 32 > \(path) && chmod 600 \(path)`")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw AgentError(.badToken, "\(option) \(path): not a regular file")
        }
        guard info.st_mode & 0o077 == 0 else {
            throw AgentError(.badToken, "\(option) \(path): readable by other users (mode \(String(info.st_mode & 0o777, radix: 8))); run `chmod 600 \(path)`")
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw AgentError(.badToken, "\(option) \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count < 65536 {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        do {
            return try AgentToken(value: String(decoding: bytes, as: UTF8.self))
        } catch {
            throw AgentError(.badToken, "\(option) \(path): \(error.message)")
        }
    }

    /// Whether an `Authorization` header value carries this token. Constant time in the
    /// presented value's content: every byte is compared whatever the first mismatch, so
    /// response timing does not reveal how much of a guess was right.
    public func accepts(authorization: String?) -> Bool {
        guard let authorization else { return false }
        let prefix = "Bearer "
        guard authorization.count > prefix.count,
              authorization.prefix(prefix.count).lowercased() == prefix.lowercased() else { return false }
        return Self.constantTimeEqual(Array(Self.trim(String(authorization.dropFirst(prefix.count))).utf8), Array(value.utf8))
    }

    /// Compares two byte strings touching every byte of the longer one, with no early exit.
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt64(a.count ^ b.count)
        let length = max(a.count, b.count)
        for i in 0..<length {
            let x = i < a.count ? a[i] : 0
            let y = i < b.count ? b[i] : 0
            difference |= UInt64(x ^ y)
        }
        return difference == 0
    }

    private static func trim(_ s: String) -> String {
        String(s.drop(while: { $0.isWhitespace }).reversed().drop(while: { $0.isWhitespace }).reversed())
    }
}
