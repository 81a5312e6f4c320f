import Foundation

extension Culprit {
    /// Parses a list like `model,proxy` into culprits; names the accepted values on error.
    public static func parseList(_ text: String) throws(AnalysisError) -> [Culprit] {
        try text.split(separator: ",").map { part throws(AnalysisError) in
            let name = part.trimmingCharacters(in: .whitespaces).lowercased()
            guard let culprit = Culprit(rawValue: name) else {
                throw AnalysisError("unknown culprit \"\(name)\"; use \(Culprit.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return culprit
        }
    }
}
