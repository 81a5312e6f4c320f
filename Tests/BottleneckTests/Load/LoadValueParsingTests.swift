import Testing
@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport

@Suite("Target URLs and option values")
struct LoadValueParsingTests {
    @Test(arguments: [
        ("http://127.0.0.1:8080/predict", "127.0.0.1", 8080, "/predict", "127.0.0.1:8080"),
        ("http://localhost/", "localhost", 80, "/", "localhost"),
        ("http://[::1]:9000/v1/models/x:predict?debug=1", "::1", 9000, "/v1/models/x:predict?debug=1", "[::1]:9000"),
        ("http://model-server.internal:8000", "model-server.internal", 8000, "/", "model-server.internal:8000"),
        ("HTTP://example.test?q=1", "example.test", 80, "/?q=1", "example.test"),
        // https: port 443 unless named, and left out of the Host header only when it is 443.
        ("https://secure.test/predict", "secure.test", 443, "/predict", "secure.test"),
        ("https://10.0.0.2:8443/v2/models/m/infer", "10.0.0.2", 8443, "/v2/models/m/infer", "10.0.0.2:8443"),
        ("https://secure.test:80/", "secure.test", 80, "/", "secure.test:80"),
    ])
    func validTargets(text: String, host: String, port: Int, path: String, hostHeader: String) throws {
        let url = try TargetURL(parsing: text)
        #expect(url.host == host && url.port == port && url.pathAndQuery == path && url.hostHeader == hostHeader)
    }

    @Test(arguments: [
        ("ftp://x/", "scheme"), ("127.0.0.1:8080", "scheme"), ("http://", "host is missing"),
        ("http://host:0/", "port"), ("http://host:99999/", "port"), ("http://[::1/", "closing ]"),
        ("https://bad host/", "not a host name"), ("http://bad host/", "not a host name"),
        ("http://u:p@host/", "user info"),
    ])
    func invalidTargets(text: String, mentions: String) {
        do {
            _ = try TargetURL(parsing: text)
            Issue.record("\(text) should not parse")
        } catch {
            #expect(!error.message.contains("--"), "the command line names the flag: \(error.message)")
            #expect(error.message.contains(mentions), "\(error.message)")
            #expect(!error.message.contains("\n"))
        }
    }

    @Test(arguments: [("10s", 10_000_000_000), ("250ms", 250_000_000), ("1.5m", 90_000_000_000), ("2", 2_000_000_000),
                      ("500us", 500_000), ("1h", 3_600_000_000_000)] as [(String, UInt64)])
    func durations(text: String, nanoseconds: UInt64) throws {
        #expect(try LoadValueParsing.duration(text) == nanoseconds)
    }

    // "1e30s" and the fuzzer's 110-digit timeout are finite, but their nanoseconds overflow
    // UInt64: they trapped before they were refused (fuzz/corpus/probe-spec/huge-timeout.yaml).
    @Test(arguments: ["", "ten", "-1s", "5 parsecs", "1e400s", "1e30s", "9000h", String(repeating: "6", count: 110) + "10s"])
    func badDurations(text: String) {
        #expect(throws: LoadError.self) { try LoadValueParsing.duration(text) }
    }

    @Test func ramps() throws {
        #expect(try LoadValueParsing.ramp("50..400/8") == [50, 100, 150, 200, 250, 300, 350, 400])
        #expect(try LoadValueParsing.ramp("10..10/1") == [10])
        for bad in ["50-400/8", "400..50/3", "0..10/2", "1..2/0", "a..b/c"] {
            #expect(throws: LoadError.self) { try LoadValueParsing.ramp(bad) }
        }
    }

    @Test func ratesRejectZeroAndGarbage() throws {
        #expect(try LoadValueParsing.rateList("50,100.5,200") == [50, 100.5, 200])
        for bad in ["0", "-5", "abc", "50,,100", "inf"] {
            #expect(throws: LoadError.self) { try LoadValueParsing.rateList(bad) }
        }
    }

    @Test func headers() throws {
        let header = try RequestHeader(parsing: "Authorization: Bearer abc:def")
        #expect(header.name == "Authorization" && header.value == "Bearer abc:def")
        for bad in ["NoColon", "Bad Name: x", "Host: other", "Content-Length: 5", "X-Request-Id: mine"] {
            #expect(throws: LoadError.self) { try RequestHeader(parsing: bad) }
        }
    }

    @Test func theBuilderExpandsTheStepsAndChecksWhatOnlyTheWholeCanTell() throws {
        var options = LoadOptions()
        options.target = try TargetURL(parsing: "http://127.0.0.1:1/")
        options.steps = .rates(try LoadValueParsing.ramp("100..300/3"))
        options.duration = 2_000_000_000
        let plan = try LoadPlanBuilder.build(options, runTag: "t").plan
        #expect(plan.steps.map(\.shape) == [100, 200, 300].map { LoadShape.open(rate: $0, arrivals: .uniform) })
        #expect(plan.steps.allSatisfy { $0.duration == 2_000_000_000 })
        #expect(plan.method == "GET")
        options.duration = 50_000_000
        let short = #expect(throws: LoadError.self) { try LoadPlanBuilder.build(options, runTag: "t") }
        #expect(short?.message.contains("at least 100ms") == true)
        options.duration = nil
        options.body = .multipart(field: "file")
        let unwrapped = #expect(throws: LoadError.self) { try LoadPlanBuilder.build(options, runTag: "t") }
        #expect(unwrapped?.message.contains("needs a payload") == true)
        #expect(throws: LoadError.self) { try LoadPlanBuilder.build(LoadOptions(), runTag: "t") }
    }

    @Test func theMethodDefaultsToPostWithAPayloadAndIsChecked() throws {
        var options = LoadOptions()
        options.target = try TargetURL(parsing: "http://127.0.0.1:1/")
        #expect(try LoadPlanBuilder.build(options, runTag: "t").plan.method == "GET")
        options.payloads = [try PayloadSpec.parse("text:tokens=8..16")]
        #expect(try LoadPlanBuilder.build(options, runTag: "t").plan.method == "POST")
        options.method = try LoadValueParsing.method("put")
        #expect(try LoadPlanBuilder.build(options, runTag: "t").plan.method == "PUT")
        // A probe's own steps take the method the same way.
        let step = LoadStep(name: "baseline", shape: .closed(concurrency: 1), duration: 1_000_000_000)
        #expect(try LoadPlanBuilder.build(options, steps: [step], runTag: "t").plan.method == "PUT")
        let error = #expect(throws: LoadError.self) { try LoadValueParsing.method("BREW") }
        #expect(error?.message == "use one of GET, POST, PUT, PATCH, DELETE")
    }
}
