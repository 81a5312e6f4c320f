import Foundation

/// `bottleneck rules check FILE…`: every problem in every file, not just the first.
public enum RulesCheck: Sendable {
    /// Files are checked one by one; a directory stands for its `*.yaml`/`*.yml` files.
    /// Rule ids must be unique across everything checked together, as they will be loaded together.
    /// An empty result means the files are good.
    public static func check(paths: [String], catalog: MetricCatalog) -> [RuleDiagnostic] {
        diagnose(paths: paths, catalog: catalog).1
    }

    static func diagnose(paths: [String], catalog: MetricCatalog) -> ([Rule], [RuleDiagnostic]) {
        var rules: [Rule] = []
        var diagnostics: [RuleDiagnostic] = []
        var seen: [String: RuleSourceLocation] = [:]
        for file in expand(paths) {
            do {
                let (fileRules, fileDiagnostics) = try RuleFile.diagnose(path: file, catalog: catalog)
                diagnostics += fileDiagnostics
                for rule in fileRules {
                    if let first = seen[rule.id] {
                        diagnostics.append(RuleDiagnostic(location: rule.location, message: "duplicate rule id \"\(rule.id)\" (first defined at \(first))"))
                        continue
                    }
                    seen[rule.id] = rule.location
                    rules.append(rule)
                }
            } catch {
                diagnostics.append(RuleDiagnostic(location: RuleSourceLocation(file: file, line: 1, column: 1),
                                                  message: error.message.replacingOccurrences(of: "\(file): ", with: "")))
            }
        }
        return (rules, diagnostics)
    }

    private static func expand(_ paths: [String]) -> [String] {
        var files: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
                files += names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
                    .map { (path as NSString).appendingPathComponent($0) }
            } else {
                files.append(path)
            }
        }
        return files
    }
}
