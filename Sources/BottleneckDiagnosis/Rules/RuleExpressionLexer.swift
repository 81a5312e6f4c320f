/// Splits an expression into tokens, remembering where each starts.
struct RuleExpressionLexer {
    enum TokenKind: Sendable, Equatable {
        case number(Double)
        /// A dotted name: metric, function, keyword or selector word.
        case name(String)
        case symbol(String)
        case end
    }

    struct Token: Sendable, Equatable {
        var kind: TokenKind
        var start: Int
        var end: Int

        /// How errors quote the token.
        var display: String {
            switch kind {
            case .end: "end of expression"
            case let .name(name): "\"\(name)\""
            case let .symbol(symbol): "\"\(symbol)\""
            case .number: "a number"
            }
        }
    }

    /// An error at a scalar offset of the expression text.
    struct Failure: Error, Sendable, Equatable {
        var offset: Int
        var message: String
    }

    static func tokenize(_ scalars: [Unicode.Scalar]) throws(Failure) -> [Token] {
        var tokens: [Token] = []
        var index = 0
        func isNameStart(_ c: Unicode.Scalar) -> Bool {
            c == "_" || ("a"..."z").contains(c) || ("A"..."Z").contains(c)
        }
        func isNamePart(_ c: Unicode.Scalar) -> Bool { isNameStart(c) || ("0"..."9").contains(c) }
        func isDigit(_ c: Unicode.Scalar) -> Bool { ("0"..."9").contains(c) }

        while index < scalars.count {
            let c = scalars[index]
            if c == " " || c == "\t" || c == "\n" || c == "\r" {
                index += 1
                continue
            }
            let start = index
            if isDigit(c) || (c == "." && index + 1 < scalars.count && isDigit(scalars[index + 1])) {
                while index < scalars.count, isDigit(scalars[index]) || scalars[index] == "." { index += 1 }
                if index < scalars.count, scalars[index] == "e" || scalars[index] == "E" {
                    var lookahead = index + 1
                    if lookahead < scalars.count, scalars[lookahead] == "+" || scalars[lookahead] == "-" { lookahead += 1 }
                    if lookahead < scalars.count, isDigit(scalars[lookahead]) {
                        index = lookahead
                        while index < scalars.count, isDigit(scalars[index]) { index += 1 }
                    }
                }
                let text = String(String.UnicodeScalarView(scalars[start..<index]))
                if index < scalars.count, isNameStart(scalars[index]) {
                    var unitEnd = index
                    while unitEnd < scalars.count, isNamePart(scalars[unitEnd]) { unitEnd += 1 }
                    let unit = String(String.UnicodeScalarView(scalars[index..<unitEnd]))
                    throw Failure(offset: index, message: "numbers take no unit suffix (\"\(unit)\"); write the value in the metric's unit, e.g. \(text)")
                }
                guard let value = Double(text), value.isFinite else {
                    throw Failure(offset: start, message: "malformed number \"\(text)\"")
                }
                tokens.append(Token(kind: .number(value), start: start, end: index))
                continue
            }
            if isNameStart(c) {
                while index < scalars.count {
                    if isNamePart(scalars[index]) {
                        index += 1
                    } else if scalars[index] == ".", index + 1 < scalars.count, isNamePart(scalars[index + 1]) {
                        index += 1
                    } else {
                        break
                    }
                }
                if index < scalars.count, scalars[index] == "." {
                    throw Failure(offset: index, message: "a metric name cannot end with \".\"")
                }
                let text = String(String.UnicodeScalarView(scalars[start..<index]))
                tokens.append(Token(kind: .name(text), start: start, end: index))
                continue
            }
            let next: Unicode.Scalar? = index + 1 < scalars.count ? scalars[index + 1] : nil
            let symbol: String
            switch (c, next) {
            case ("<", "="), (">", "="), ("=", "="), ("!", "="): symbol = "\(c)="
            case ("&", "&"): throw Failure(offset: start, message: "use \"and\" instead of \"&&\"")
            case ("|", "|"): throw Failure(offset: start, message: "use \"or\" instead of \"||\"")
            case ("=", _): throw Failure(offset: start, message: "use \"==\" to compare (\"=\" is not an operator)")
            case ("!", _): throw Failure(offset: start, message: "use \"not\" instead of \"!\"")
            case ("<", _), (">", _), ("+", _), ("-", _), ("*", _), ("/", _), ("(", _), (")", _), (",", _), ("@", _):
                symbol = "\(c)"
            default:
                throw Failure(offset: start, message: "unexpected character \"\(c)\"")
            }
            index += symbol.unicodeScalars.count
            tokens.append(Token(kind: .symbol(symbol), start: start, end: index))
        }
        tokens.append(Token(kind: .end, start: scalars.count, end: scalars.count))
        return tokens
    }
}
