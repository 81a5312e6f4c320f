import Foundation

extension Culprit {
    /// Parses `--fail-on model,proxy` into culprits; names the accepted values on error.
    public static func parseList(_ text: String) throws -> [Culprit] {
        try text.split(separator: ",").map { part in
            let name = part.trimmingCharacters(in: .whitespaces).lowercased()
            guard let culprit = Culprit(rawValue: name) else {
                throw AnalysisError("--fail-on \"\(text)\": unknown culprit \"\(name)\"; use \(Culprit.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return culprit
        }
    }
}
