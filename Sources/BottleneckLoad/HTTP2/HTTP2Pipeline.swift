import NIOCore
import NIOHTTP2
import NIOSSL

/// The channel pipeline every HTTP/2 connection of the tool uses: TLS (with ALPN h2) when the
/// target is https, then NIO's HTTP/2 connection handler with no stream multiplexer: the tool's
/// own handler reads and writes frames, so a request costs no child channel.
enum HTTP2Pipeline {
    /// The window each stream starts with for what the server sends (SETTINGS_INITIAL_WINDOW_SIZE):
    /// 16 MiB, so a response below 8 MiB never waits for a stream WINDOW_UPDATE (h2load's
    /// default is 1 GiB; a response the size of the window is rare for a prediction).
    static let streamWindow = 1 << 24
    /// The connection's window for what the server sends, raised once from the protocol's
    /// 65,535 at the start and topped up when half is used.
    static let connectionWindow = 1 << 30

    /// Adds the HTTP/2 handlers and `handler` (which reads frames) to a new channel's pipeline.
    static func configure(_ channel: any Channel, tls: NIOSSLContext?, serverHostname: String?,
                          handler: some ChannelHandler) throws {
        let pipeline = channel.pipeline.syncOperations
        if let tls {
            try pipeline.addHandler(NIOSSLClientHandler(context: tls, serverHostname: serverHostname))
        }
        var connection = NIOHTTP2Handler.ConnectionConfiguration()
        connection.initialSettings = [
            HTTP2Setting(parameter: .enablePush, value: 0),
            HTTP2Setting(parameter: .initialWindowSize, value: streamWindow),
            HTTP2Setting(parameter: .maxHeaderListSize, value: 1 << 16),
        ]
        // The tool writes its own well-formed headers; checking each block again costs CPU per request.
        connection.headerBlockValidation = .disabled
        connection.contentLengthValidation = .disabled
        // NIO's defences against a hostile peer (200 resets, stream errors or "glitches" per 30 s,
        // then GOAWAY ENHANCE_YOUR_CALM) would cut a load test's connection whenever the server
        // resets streams it answered early (nginx does, for a body it does not read) or refuses
        // them at a limit: what the test is there to count. The peer here is the user's server.
        connection.maximumConnectionGlitches = Int.max / 2
        var stream = NIOHTTP2Handler.StreamConfiguration()
        stream.streamResetFrameRateLimit.maximumCount = Int.max / 2
        stream.streamErrorRateLimit.maximumCount = Int.max / 2
        try pipeline.addHandler(NIOHTTP2Handler(mode: .client, connectionConfiguration: connection, streamConfiguration: stream))
        try pipeline.addHandler(handler)
    }
}
