import Yams

/// Maps an offset inside a YAML scalar's *value* back to a line and column of the file.
///
/// Yams gives only where a scalar starts (for block scalars, the `>` or `|` indicator; for
/// quoted ones, the quote). To point at the 34th character of a folded `when: >` block we
/// walk the value and the raw file side by side: non-space characters must match one to one,
/// and a space or newline in the value stands for any run of whitespace in the file (that is
/// what YAML line folding and indentation stripping produce). Plain, literal and folded
/// scalars always align; if a quoted scalar uses escapes (`\"`, `''`) the walk gives up and
/// every offset maps to the scalar's start — still the right line for a one-line value.
struct RuleScalarLocator {
    private let scalars: [Unicode.Scalar]
    private let lineStarts: [Int]

    init(text: String) {
        scalars = Array(text.unicodeScalars)
        var starts = [0]
        for (index, scalar) in scalars.enumerated() where scalar == "\n" { starts.append(index + 1) }
        lineStarts = starts
    }

    private func index(line: Int, column: Int) -> Int {
        let lineIndex = min(max(line - 1, 0), lineStarts.count - 1)
        return min(lineStarts[lineIndex] + max(column - 1, 0), scalars.count)
    }

    private func position(of index: Int) -> (line: Int, column: Int) {
        var low = 0
        var high = lineStarts.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if lineStarts[mid] <= index { low = mid } else { high = mid - 1 }
        }
        return (low + 1, index - lineStarts[low] + 1)
    }

    private static func isSpace(_ c: Unicode.Scalar) -> Bool { c == " " || c == "\t" || c == "\n" || c == "\r" }

    /// Line and column (1-based) of each scalar of `node`'s value, plus one entry for the end.
    func positions(of node: Node.Scalar) -> [(line: Int, column: Int)] {
        let value = Array(node.string.unicodeScalars)
        let markLine = node.mark?.line ?? 1
        let markColumn = node.mark?.column ?? 1
        let fallback: [(line: Int, column: Int)] = Array(repeating: (markLine, markColumn), count: value.count + 1)
        var cursor = index(line: markLine, column: markColumn)
        switch node.style {
        case .literal, .folded:
            // Content starts on the line after the `>`/`|` header.
            while cursor < scalars.count, scalars[cursor] != "\n" { cursor += 1 }
            cursor += 1
        case .singleQuoted, .doubleQuoted:
            cursor += 1
        case .any, .plain:
            break
        }
        var result: [(line: Int, column: Int)] = []
        result.reserveCapacity(value.count + 1)
        for (offset, character) in value.enumerated() {
            if Self.isSpace(character) {
                result.append(position(of: min(cursor, scalars.count)))
                let nextIsSpace = offset + 1 < value.count && Self.isSpace(value[offset + 1])
                if nextIsSpace {
                    if cursor < scalars.count, Self.isSpace(scalars[cursor]) { cursor += 1 }
                } else {
                    while cursor < scalars.count, Self.isSpace(scalars[cursor]) { cursor += 1 }
                }
                continue
            }
            while cursor < scalars.count, Self.isSpace(scalars[cursor]) { cursor += 1 }
            guard cursor < scalars.count, scalars[cursor] == character else { return fallback }
            result.append(position(of: cursor))
            cursor += 1
        }
        result.append(position(of: min(cursor, scalars.count)))
        return result
    }
}
