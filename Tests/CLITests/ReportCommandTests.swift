import Foundation
import Testing

/// `bottleneck report` on the recorded fixtures, run as a user would.
@Suite("bottleneck report, run as a user would", .serialized)
struct ReportCommandTests {
    static let fixture = CLI.packageRoot.appendingPathComponent("Tests/BottleneckTests/Fixtures/runs/slow-model").path
    /// `report` is wired into the executable by `BottleneckCommand`'s subcommand list.
    /// (`bottleneck report --help` exits 0 either way, so look for it in the list of subcommands.)
    static let registered = (try? CLI.run(["--help"]))?.stdout.split(separator: "\n")
        .contains { $0.trimmingCharacters(in: .whitespaces).hasPrefix("report ") } ?? false

    /// A scratch copy of the fixture, so the default `report.html` does not land in the source tree.
    static func scratchRun() throws -> URL {
        let directory = try CLI.temporaryDirectory().appendingPathComponent("run")
        try FileManager.default.copyItem(atPath: fixture, toPath: directory.path)
        return directory
    }

    @Test(.enabled(if: registered, "ReportCommand is not in BottleneckCommand's subcommands yet"),
          arguments: [("text", "Steps (latency"), ("markdown", "| # | step |"), ("json", "\"bottleneck.report/v1\"")])
    func formatsGoToStandardOutput(format: String, mentions: String) throws {
        let run = try Self.scratchRun()
        let result = try CLI.run(["report", run.path, "--format", format])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains(mentions))
        #expect(!FileManager.default.fileExists(atPath: run.appendingPathComponent("report.html").path))
    }

    @Test(.enabled(if: registered, "ReportCommand is not in BottleneckCommand's subcommands yet"))
    func htmlDefaultsToReportHTMLInTheRunDirectory() throws {
        let run = try Self.scratchRun()
        let result = try CLI.run(["report", run.path, "--slo", "p99=50ms"])
        #expect(result.status == 0, "\(result.stderr)")
        let html = try String(contentsOf: run.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.hasPrefix("<!doctype html>"))
        #expect(html.contains("SLO p99 50 ms"))
        #expect(result.stdout.contains("report.html"))
    }

    @Test(.enabled(if: registered, "ReportCommand is not in BottleneckCommand's subcommands yet"))
    func outWritesTheFileGiven() throws {
        let run = try Self.scratchRun()
        let out = run.deletingLastPathComponent().appendingPathComponent("summary.md")
        let result = try CLI.run(["report", run.path, "--format", "markdown", "--out", out.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try String(contentsOf: out, encoding: .utf8).hasPrefix("# bottleneck report"))
    }

    @Test(.enabled(if: registered, "ReportCommand is not in BottleneckCommand's subcommands yet"), arguments: [
        (["report", "/nonexistent/run"], "/nonexistent/run"),
        (["report", fixture, "--format", "pdf"], "--format"),
        (["report", fixture, "--slo", "p95=1s"], "--slo"),
    ] as [([String], String)])
    func badInputIsOneLineAndExitCode2(arguments: [String], mentions: String) throws {
        let result = try CLI.run(arguments)
        #expect(result.status == 2, "exit \(result.status): \(result.stderr)")
        #expect(result.stderr.contains(mentions), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1 && result.stderr.hasPrefix("bottleneck: "), "\(result.stderr)")
    }
}
