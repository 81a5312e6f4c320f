import ArgumentParser
import BottleneckCore
import BottleneckLoad

/// What each request is: the endpoint, the method, headers and body. Shared by `load` and the
/// commands that plan their own load (`diagnose`, `capacity`, `playbook run`).
struct RequestOptions: ParsableArguments {
    @Option(help: "The endpoint, e.g. http://127.0.0.1:8080/predict (IPv6: http://[::1]:8080/; TLS: https://…). gRPC over HTTP/2: grpc://HOST:8001/v2/models/NAME calls KServe v2 ModelInfer with inputs from its ModelMetadata; grpc://HOST:PORT/package.Service/Method sends each payload as the message; grpcs:// over TLS.", transform: OptionValue.target)
    var target: TargetURL?

    @Option(help: "https: trust the CA certificates in this PEM file instead of the system's.")
    var cacert: String?

    @Flag(help: "https: do not verify the server's certificate (measures a self-signed or mis-named front).")
    var insecure = false

    @Option(name: .customLong("server-name"), help: "https: the name to send as SNI and to match in the certificate (default: the URL's host).")
    var serverName: String?

    @Flag(help: "Speak HTTP/2: h2 by ALPN on https://, prior-knowledge h2c on http:// (the server must offer it; no fallback).")
    var http2 = false

    @Option(help: "HTTP/2: requests in flight at once on each connection (default 1; the server's SETTINGS_MAX_CONCURRENT_STREAMS caps it). --concurrency C opens ⌈C/streams⌉ connections.")
    var streams: Int?

    @Option(name: [.long, .customShort("X")], help: "HTTP method: GET, POST, PUT, PATCH or DELETE (default GET, or POST with --payload).",
            transform: OptionValue.method)
    var method: String?

    @Option(name: [.customShort("H"), .customLong("header")], help: "A request header, 'Name: value' (repeatable).", transform: OptionValue.header)
    var headers: [RequestHeader] = []

    @Option(name: .customLong("payload"), help: """
        A request body kind, repeatable, with optional weight=N: \
        image:w=64..4096,aspect=0.5..2,format=jpeg|png,dist=uniform|lognormal; text:tokens=16..2048; \
        audio:seconds=1..30,rate=16000; tensor:shape=1x3x224x224,dtype=float32,encoding=json|binary; dir:PATH; \
        kserve-v2:batch=1..8,dim=16 (the default for a /v2/models/NAME/infer target: inputs from the model's metadata).
        """)
    var payloads: [String] = []

    @Option(help: "How the payload is sent: raw, multipart:FIELD or json-base64:FIELD (default raw).", transform: OptionValue.body)
    var body: BodyWrapping?

    /// Sets the fields these flags gave; a payload spec's error names the spec.
    func apply(to options: inout LoadOptions) throws {
        options.target = target ?? options.target
        options.method = method ?? options.method
        options.headers = headers.isEmpty ? options.headers : headers
        options.payloads = payloads.isEmpty ? options.payloads : try payloads.map(PayloadSpec.parse)
        options.body = body ?? options.body
        if http2 { options.http2 = true }
        options.streams = streams ?? options.streams
        if cacert != nil || insecure || serverName != nil {
            var tls = options.tls ?? TLSClientSettings()
            if let cacert { tls.caCertificatePath = cacert }
            if insecure { tls.verify = false }
            if let serverName { tls.serverName = serverName }
            options.tls = tls
        }
    }
}
