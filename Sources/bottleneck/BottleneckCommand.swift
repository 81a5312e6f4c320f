import ArgumentParser
import BottleneckCore
import Foundation

/// The `bottleneck` command line: parses arguments and wires library calls together.
/// Every decision lives in the library targets (docs/architecture.md).
@main
struct BottleneckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bottleneck",
        abstract: "Load-test an ML prediction service and find out where its time goes.",
        discussion: """
            Exit codes: 0 ok; 1 a finding that --fail-on asked for; 2 bad usage or input; \
            3 the run is invalid (the load generator could not keep up), so its numbers must not be trusted.
            """,
        version: BottleneckVersion.current,
        subcommands: [LoadCommand.self, DiagnoseCommand.self, CapacityCommand.self, PlaybookCommand.self, ProbeCommand.self, ReportCommand.self, CaptureCommand.self, RulesCommand.self, AgentCommand.self]
    )

    /// Parses and runs like ArgumentParser's default, but maps usage errors and the
    /// library's user-facing errors to one line on stderr and exit code 2.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as any UserFacingError {
            FileHandle.standardError.write("bottleneck: \(error.message)\n".data(using: .utf8)!)
            Foundation.exit(error.exitCode)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                exit(withError: error)  // --help, --version
            }
            if code == .validationFailure {
                // One line, like the library's errors: the problem and the fix, without the usage block.
                let message = CommandLineMessage.oneLine(message(for: error))
                FileHandle.standardError.write("bottleneck: \(message) (--help shows the usage)\n".data(using: .utf8)!)
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}


/// ArgumentParser's usage errors as one line in the form of the library's errors.
enum CommandLineMessage {
    /// Joins the lines, and puts a bad value's error as `--flag "VALUE": REASON` (ArgumentParser
    /// writes "The value 'VALUE' is invalid for '--flag <name>': REASON").
    static func oneLine(_ message: String) -> String {
        let line = message.split(whereSeparator: \.isNewline).joined(separator: " ")
        let pattern = /^The value '(?<value>.*)' is invalid for '(?<flag>-[^ ']+)(?: <[^>]*>)?': (?<reason>.*)$/
        guard let match = line.wholeMatch(of: pattern) else { return line }
        return "\(match.flag) \"\(match.value)\": \(match.reason)"
    }
}
