/// Recursive-descent parser and type checker for the rule expression language.
///
/// The grammar, loosest binding first, is in docs/rules.md ("Expressions"). Comparisons do not
/// chain (`a < b < c` is an error), `and`/`or`/`not` take conditions, arithmetic and comparisons
/// take numbers; mismatches are reported at parse time.
struct RuleExpressionParser {
    typealias Failure = RuleExpressionLexer.Failure
    typealias Token = RuleExpressionLexer.Token

    private let scalars: [Unicode.Scalar]
    private let tokens: [Token]
    private var position = 0

    private static let keywords: Set<String> = ["and", "or", "not"]

    /// Parses `text`, which must yield `expected` (a condition for `when:`, a number for
    /// `severity.on` and explain placeholders). Offsets in failures are scalar offsets into `text`.
    static func parse(_ text: String, expecting expected: RuleExpression.ValueType) throws(Failure) -> RuleExpression {
        let scalars = Array(text.unicodeScalars)
        var parser = RuleExpressionParser(scalars: scalars, tokens: try RuleExpressionLexer.tokenize(scalars))
        if case .end = parser.current.kind {
            throw Failure(offset: 0, message: "empty expression")
        }
        let expression = try parser.parseOr()
        guard case .end = parser.current.kind else {
            throw Failure(offset: parser.current.start, message: "unexpected \(parser.current.display) after a complete expression; missing \"and\" or \"or\"?")
        }
        try parser.require(expression, is: expected, role: expected == .condition ? "the condition" : "the value")
        return expression
    }

    private init(scalars: [Unicode.Scalar], tokens: [Token]) {
        self.scalars = scalars
        self.tokens = tokens
    }

    private var current: Token { tokens[position] }

    private mutating func advance() -> Token {
        let token = tokens[position]
        if position < tokens.count - 1 { position += 1 }
        return token
    }

    private func isName(_ word: String) -> Bool {
        if case .name(word) = current.kind { return true }
        return false
    }

    private func isSymbol(_ symbol: String) -> Bool {
        if case .symbol(symbol) = current.kind { return true }
        return false
    }

    private func node(_ kind: RuleExpression.Kind, _ type: RuleExpression.ValueType, from start: Int, to end: Int) -> RuleExpression {
        var text = ""
        var lastWasSpace = false
        for scalar in scalars[start..<end] {
            let isSpace = scalar == " " || scalar == "\n" || scalar == "\t" || scalar == "\r"
            if isSpace {
                if !lastWasSpace { text.unicodeScalars.append(" ") }
            } else {
                text.unicodeScalars.append(scalar)
            }
            lastWasSpace = isSpace
        }
        return RuleExpression(kind: kind, type: type, start: start, end: end, text: text)
    }

    private func require(_ expression: RuleExpression, is type: RuleExpression.ValueType, role: String) throws(Failure) {
        guard expression.type != type else { return }
        let hint = type == .condition ? "; compare it, e.g. \"\(expression.text) > 0\"" : ""
        throw Failure(offset: expression.start, message: "\(role) must be \(type.noun), but \"\(expression.text)\" is \(expression.type.noun)\(hint)")
    }

    private mutating func parseOr() throws(Failure) -> RuleExpression {
        var left = try parseAnd()
        while isName("or") {
            _ = advance()
            let right = try parseAnd()
            try require(left, is: .condition, role: "each side of \"or\"")
            try require(right, is: .condition, role: "each side of \"or\"")
            left = node(.or(left, right), .condition, from: left.start, to: right.end)
        }
        return left
    }

    private mutating func parseAnd() throws(Failure) -> RuleExpression {
        var left = try parseNot()
        while isName("and") {
            _ = advance()
            let right = try parseNot()
            try require(left, is: .condition, role: "each side of \"and\"")
            try require(right, is: .condition, role: "each side of \"and\"")
            left = node(.and(left, right), .condition, from: left.start, to: right.end)
        }
        return left
    }

    private mutating func parseNot() throws(Failure) -> RuleExpression {
        guard isName("not") else { return try parseComparison() }
        let keyword = advance()
        let operand = try parseNot()
        try require(operand, is: .condition, role: "the operand of \"not\"")
        return node(.not(operand), .condition, from: keyword.start, to: operand.end)
    }

    private mutating func comparisonOperator() -> RuleExpression.ComparisonOperator? {
        guard case let .symbol(symbol) = current.kind else { return nil }
        return RuleExpression.ComparisonOperator(rawValue: symbol)
    }

    private mutating func parseComparison() throws(Failure) -> RuleExpression {
        let left = try parseAdditive()
        guard let op = comparisonOperator() else { return left }
        let opToken = advance()
        let right = try parseAdditive()
        try require(left, is: .number, role: "the left side of \"\(op.rawValue)\"")
        try require(right, is: .number, role: "the right side of \"\(op.rawValue)\"")
        if comparisonOperator() != nil {
            throw Failure(offset: current.start, message: "comparisons do not chain; write \"a < b and b < c\"")
        }
        _ = opToken
        return node(.comparison(op, left, right), .condition, from: left.start, to: right.end)
    }

    private mutating func parseAdditive() throws(Failure) -> RuleExpression {
        try parseArithmetic([("+", .add), ("-", .subtract)]) { (parser: inout Self) throws(Failure) in try parser.parseTerm() }
    }

    private mutating func parseTerm() throws(Failure) -> RuleExpression {
        try parseArithmetic([("*", .multiply), ("/", .divide)]) { (parser: inout Self) throws(Failure) in try parser.parseUnary() }
    }

    /// One left-associative level of arithmetic: operands from `operand`, joined by `operators`.
    private mutating func parseArithmetic(_ operators: [(symbol: String, op: RuleExpression.ArithmeticOperator)],
                                          operand: (inout Self) throws(Failure) -> RuleExpression) throws(Failure) -> RuleExpression {
        var left = try operand(&self)
        while let op = operators.first(where: { isSymbol($0.symbol) })?.op {
            _ = advance()
            let right = try operand(&self)
            try require(left, is: .number, role: "the left side of \"\(op.rawValue)\"")
            try require(right, is: .number, role: "the right side of \"\(op.rawValue)\"")
            left = node(.arithmetic(op, left, right), .number, from: left.start, to: right.end)
        }
        return left
    }

    private mutating func parseUnary() throws(Failure) -> RuleExpression {
        guard isSymbol("-") else { return try parsePrimary() }
        let minus = advance()
        let operand = try parseUnary()
        try require(operand, is: .number, role: "the operand of \"-\"")
        return node(.negate(operand), .number, from: minus.start, to: operand.end)
    }

    private mutating func parsePrimary() throws(Failure) -> RuleExpression {
        let token = current
        switch token.kind {
        case let .number(value):
            _ = advance()
            return node(.number(value), .number, from: token.start, to: token.end)
        case .symbol("("):
            _ = advance()
            let inner = try parseOr()
            guard isSymbol(")") else {
                throw Failure(offset: current.start, message: "expected \")\" to close the \"(\" at offset \(token.start + 1), found \(current.display)")
            }
            let close = advance()
            var grouped = inner
            grouped.start = token.start
            grouped.end = close.end
            grouped.text = node(.number(0), .number, from: token.start, to: close.end).text
            return grouped
        case let .name(word):
            if Self.keywords.contains(word) {
                throw Failure(offset: token.start, message: "expected a value before \"\(word)\"")
            }
            _ = advance()
            if isSymbol("(") {
                return try parseCall(word, at: token)
            }
            return try parseMetric(word, at: token)
        case .end:
            throw Failure(offset: token.start, message: "expression ends too early; expected a number, a metric or \"(\"")
        case let .symbol(symbol):
            throw Failure(offset: token.start, message: "expected a number, a metric or \"(\", found \"\(symbol)\"")
        }
    }

    private mutating func parseCall(_ name: String, at nameToken: Token) throws(Failure) -> RuleExpression {
        guard let function = RuleExpression.RuleFunction(rawValue: name) else {
            let suggestion = RuleSuggestion.closest(to: name, in: RuleExpression.RuleFunction.allCases.map(\.rawValue))
            throw Failure(offset: nameToken.start, message: "unknown function \"\(name)\"\(RuleSuggestion.hint(suggestion))")
        }
        _ = advance()  // "("
        var arguments: [RuleExpression] = []
        if !isSymbol(")") {
            while true {
                arguments.append(try parseOr())
                if isSymbol(",") {
                    _ = advance()
                    continue
                }
                break
            }
        }
        guard isSymbol(")") else {
            throw Failure(offset: current.start, message: "expected \",\" or \")\" in the arguments of \(name)(), found \(current.display)")
        }
        let close = advance()
        let signature = function.signature
        if let arity = signature.arity, arguments.count != arity {
            throw Failure(offset: nameToken.start, message: "\(name)() takes \(arity) argument\(arity == 1 ? "" : "s"), got \(arguments.count)")
        }
        if arguments.isEmpty {
            throw Failure(offset: nameToken.start, message: "\(name)() needs at least one argument")
        }
        for argument in arguments {
            try require(argument, is: signature.argument, role: "the argument of \(name)()")
        }
        return node(.call(function, arguments), signature.result, from: nameToken.start, to: close.end)
    }

    private mutating func parseMetric(_ name: String, at nameToken: Token) throws(Failure) -> RuleExpression {
        guard isSymbol("@") else {
            return node(.metric(name, .current), .number, from: nameToken.start, to: nameToken.end)
        }
        _ = advance()
        let selectorToken = advance()
        guard case let .name(selector) = selectorToken.kind else {
            throw Failure(offset: selectorToken.start, message: "expected a step selector after \"@\" (knee, first, last, run or step(N)), found \(selectorToken.display)")
        }
        let reference: RuleExpression.MetricReference
        var end = selectorToken.end
        switch selector {
        case "knee": reference = .knee
        case "first": reference = .first
        case "last": reference = .last
        case "run": reference = .run
        case "step":
            guard isSymbol("(") else {
                throw Failure(offset: current.start, message: "expected \"(\" after @step, as in @step(2)")
            }
            _ = advance()
            let indexToken = advance()
            guard case let .number(value) = indexToken.kind, value >= 0, value == value.rounded(), value < 1_000_000 else {
                throw Failure(offset: indexToken.start, message: "@step(N) takes a step index: an integer ≥ 0 (0 is the first step)")
            }
            guard isSymbol(")") else {
                throw Failure(offset: current.start, message: "expected \")\" after the step index")
            }
            end = advance().end
            reference = .step(Int(value))
        default:
            let suggestion = RuleSuggestion.closest(to: selector, in: ["knee", "first", "last", "run", "step"])
            throw Failure(offset: selectorToken.start, message: "unknown step selector \"@\(selector)\"\(RuleSuggestion.hint(suggestion, prefix: "@")); use @knee, @first, @last, @run or @step(N)")
        }
        return node(.metric(name, reference), .number, from: nameToken.start, to: end)
    }
}
