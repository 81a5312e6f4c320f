import Foundation

/// A parsed `explain:` text: literal runs and `{…}` placeholders.
///
/// A placeholder is any numeric expression of the rule language, optionally followed by a
/// format: `{client.process.cpu_cores}`, `{server.p99_ms@knee}`, `{a / b:.1%}`, `{x:.2f}`,
/// `{x:d}`. `{step}` is the verdict's step index (0-based) and `{{` / `}}` are literal braces.
/// Placeholders are parsed when the rules load, so an unknown metric or a bad format is a
/// `rules check` error, not a broken sentence in a report. A missing value renders as `n/a`.
struct ExplainTemplate: Sendable, Equatable {
    enum Format: Sendable, Equatable {
        /// Integers without decimals, other values with up to 3 significant decimals.
        case automatic
        case fixed(Int)
        case percent(Int)
        case integer
    }

    enum Segment: Sendable, Equatable {
        case literal(String)
        /// `offset` is where the expression text starts in the template (for error positions).
        case value(RuleExpression, Format, offset: Int)
        case step
    }

    var segments: [Segment]

    /// A failure at a scalar offset into the template text.
    typealias Failure = RuleExpressionLexer.Failure

    static func parse(_ text: String) throws(Failure) -> ExplainTemplate {
        let scalars = Array(text.unicodeScalars)
        var segments: [Segment] = []
        var literal = String.UnicodeScalarView()
        var index = 0
        func flush() {
            if !literal.isEmpty { segments.append(.literal(String(literal))) }
            literal = String.UnicodeScalarView()
        }
        while index < scalars.count {
            let c = scalars[index]
            let next: Unicode.Scalar? = index + 1 < scalars.count ? scalars[index + 1] : nil
            if c == "{" && next == "{" || c == "}" && next == "}" {
                literal.append(c)
                index += 2
                continue
            }
            if c == "}" {
                throw Failure(offset: index, message: "unmatched \"}\" in explain; write \"}}\" for a literal brace")
            }
            guard c == "{" else {
                literal.append(c)
                index += 1
                continue
            }
            guard let close = scalars[index...].firstIndex(of: "}") else {
                throw Failure(offset: index, message: "unclosed \"{\" in explain; write \"{{\" for a literal brace")
            }
            flush()
            let bodyStart = index + 1
            let body = Array(scalars[bodyStart..<close])
            let colon = body.firstIndex(of: ":")
            let expressionText = String(String.UnicodeScalarView(body[..<(colon ?? body.count)]))
            let format: Format
            if let colon {
                let spec = String(String.UnicodeScalarView(body[(colon + 1)...]))
                guard let parsed = parseFormat(spec) else {
                    throw Failure(offset: bodyStart + colon + 1, message: "unknown format \"\(spec)\"; use .Nf, .N%, % or d")
                }
                format = parsed
            } else {
                format = .automatic
            }
            if expressionText.trimmingCharacters(in: .whitespaces) == "step" {
                segments.append(.step)
            } else {
                do {
                    let expression = try RuleExpressionParser.parse(expressionText, expecting: .number)
                    segments.append(.value(expression, format, offset: bodyStart))
                } catch {
                    throw Failure(offset: bodyStart + error.offset, message: error.message)
                }
            }
            index = close + 1
        }
        flush()
        return ExplainTemplate(segments: segments)
    }

    private static func parseFormat(_ spec: String) -> Format? {
        if spec == "d" { return .integer }
        if spec == "%" { return .percent(0) }
        guard spec.hasPrefix("."), spec.count >= 3, let kind = spec.last, kind == "f" || kind == "%" else { return nil }
        guard let digits = Int(spec.dropFirst().dropLast()), (0...9).contains(digits) else { return nil }
        return kind == "f" ? .fixed(digits) : .percent(digits)
    }

    /// Expressions inside placeholders, with the offset of each in the template text
    /// (the expression's own spans are relative to the placeholder).
    var placeholderExpressions: [(expression: RuleExpression, offset: Int)] {
        segments.compactMap { if case let .value(expression, _, offset) = $0 { (expression, offset) } else { nil } }
    }

    static func format(_ value: Double?, _ format: Format) -> String {
        guard let value else { return "n/a" }
        switch format {
        case let .fixed(digits): return String(format: "%.\(digits)f", value)
        case let .percent(digits): return String(format: "%.\(digits)f%%", value * 100)
        case .integer: return String(format: "%.0f", value.rounded())
        case .automatic:
            if value == value.rounded(), Swift.abs(value) < 1e15 { return String(format: "%.0f", value) }
            let magnitude = Swift.abs(value)
            let decimals = magnitude >= 100 ? 1 : magnitude >= 1 ? 2 : 3
            var text = String(format: "%.\(decimals)f", value)
            if magnitude < 0.001 { text = String(format: "%.2g", value) }
            while text.contains("."), text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
            return text
        }
    }

    func render<Source: EvidenceSource>(with evaluator: RuleEvaluator<Source>, step: Int?, into trace: inout RuleTrace) -> String {
        var output = ""
        for segment in segments {
            switch segment {
            case let .literal(text): output += text
            case .step: output += step.map(String.init) ?? "n/a"
            case let .value(expression, format, _):
                output += Self.format(evaluator.number(expression, into: &trace), format)
            }
        }
        return output
    }
}
