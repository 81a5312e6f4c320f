import Foundation
import BottleneckCore
import BottleneckLoad
import Yams

/// A playbook file that does not parse: one line with the file, line and column.
public struct PlaybookError: UserFacingError {
    public let message: String
    public init(_ message: String) { self.message = message }
}

/// Reads `playbooks/*.yaml`. Unknown keys, step kinds, needs and rule ids are errors with
/// their position, so a typo never silently drops a step or a rule.
public enum PlaybookFile: Sendable {
    static let topKeys = ["name", "title", "summary", "kind", "guide", "example", "needs", "steps", "rules", "outcomes"]
    static let stepKeys = ["id", "kind", "duration", "concurrency", "rates", "arrivals"]
    static let stepKinds = ["baseline", "closed", "open", "ramp", "size-sweep"]

    /// Parses one playbook. `ruleIDs` are the rules it may name (nil: not checked).
    public static func parse(_ text: String, source: String, ruleIDs: Set<String>?) throws -> Playbook {
        func fail(_ mark: Mark?, _ message: String) -> PlaybookError {
            PlaybookError("playbook \(source)\(mark.map { ":\($0.line):\($0.column)" } ?? ""): \(message)")
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            let first = String(describing: error).split(separator: "\n").first.map(String.init) ?? "syntax error"
            throw PlaybookError("playbook \(source): not valid YAML (\(first))")
        }
        guard let mapping = root?.mapping else { throw fail(root?.mark, "a playbook is a mapping with name, title, steps, rules, outcomes") }
        var fields: [String: Node] = [:]
        for (key, value) in mapping {
            guard let name = key.string, topKeys.contains(name) else {
                throw fail(key.mark, "unknown key \"\(key.string ?? "?")\"\(suggestion(key.string ?? "", topKeys))")
            }
            fields[name] = value
        }
        func textField(_ key: String, required: Bool = true) throws -> String? {
            guard let node = fields[key] else {
                if required { throw fail(root?.mark, "missing \(key)") }
                return nil
            }
            guard let value = node.scalar?.string, !value.isEmpty else { throw fail(node.mark, "\(key) must be a non-empty text") }
            return value
        }
        func list(_ key: String) throws -> [(String, Mark?)] {
            guard let node = fields[key] else { return [] }
            if let value = node.scalar?.string { return [(value, node.mark)] }
            guard let items = node.sequence else { throw fail(node.mark, "\(key) must be a list") }
            return try items.map {
                guard let value = $0.scalar?.string else { throw fail($0.mark, "each \(key) entry is one word") }
                return (value, $0.mark)
            }
        }

        let name = try textField("name")!
        let kindText = try textField("kind", required: false) ?? Playbook.Kind.diagnose.rawValue
        guard let kind = Playbook.Kind(rawValue: kindText) else {
            throw fail(fields["kind"]?.mark, "kind \"\(kindText)\" is not one of \(Playbook.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let needs = try list("needs").map { value, mark in
            guard let need = Playbook.Need(rawValue: value) else {
                throw fail(mark, "unknown need \"\(value)\"; use \(Playbook.Need.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return need
        }
        let rules = try list("rules").map { value, mark in
            if let ruleIDs, !ruleIDs.contains(value) {
                throw fail(mark, "unknown rule \"\(value)\"\(suggestion(value, Array(ruleIDs))); list them with `bottleneck rules explain`")
            }
            return value
        }
        var outcomes: [String: String] = [:]
        if let node = fields["outcomes"] {
            guard let entries = node.mapping else { throw fail(node.mark, "outcomes maps a rule id (or pass) to its text") }
            for (key, value) in entries {
                guard let id = key.string, id == Playbook.passOutcome || rules.contains(id) else {
                    throw fail(key.mark, "outcome \"\(key.string ?? "?")\" names no rule of this playbook; use one of rules or pass")
                }
                guard let line = value.scalar?.string else { throw fail(value.mark, "outcome \(id) must be a text") }
                outcomes[id] = line
            }
        }
        guard outcomes[Playbook.passOutcome] != nil || kind == .capacity else {
            throw fail(fields["outcomes"]?.mark ?? root?.mark, "outcomes needs a pass text (what it means when no rule fires)")
        }
        let steps = try parseSteps(fields["steps"], kind: kind, fail: fail)
        return Playbook(name: name, title: try textField("title")!, summary: try textField("summary")!, kind: kind,
                        guide: try textField("guide")!, example: try textField("example", required: false),
                        needs: needs, steps: steps, rules: rules, outcomes: outcomes)
    }

    private static func parseSteps(_ node: Node?, kind: Playbook.Kind, fail: (Mark?, String) -> PlaybookError) throws -> [Playbook.Step] {
        guard let node else {
            if kind == .capacity { return [] }
            throw fail(nil, "missing steps")
        }
        guard let items = node.sequence, !items.isEmpty else { throw fail(node.mark, "steps must be a non-empty list") }
        var steps: [Playbook.Step] = []
        for item in items {
            guard let entries = item.mapping else { throw fail(item.mark, "each step is a mapping like {id: baseline, kind: baseline, duration: 5s}") }
            var values: [String: Node] = [:]
            for (key, value) in entries {
                guard let name = key.string, stepKeys.contains(name) else {
                    throw fail(key.mark, "unknown step key \"\(key.string ?? "?")\"\(suggestion(key.string ?? "", stepKeys))")
                }
                values[name] = value
            }
            guard let id = values["id"]?.scalar?.string else { throw fail(item.mark, "each step needs an id") }
            guard let kindNode = values["kind"], let stepKind = kindNode.scalar?.string, stepKinds.contains(stepKind) else {
                throw fail(values["kind"]?.mark ?? item.mark, "step \(id): kind must be one of \(stepKinds.joined(separator: ", "))")
            }
            func seconds() throws -> Double {
                guard let durationNode = values["duration"], let text = durationNode.scalar?.string else {
                    throw fail(item.mark, "step \(id): needs a duration such as 10s")
                }
                do {
                    return Double(try LoadValueParsing.duration(text)) / 1e9
                } catch {
                    throw fail(durationNode.mark, "step \(id): duration \"\(text)\": \(error.message)")
                }
            }
            func listText(_ key: String) throws -> (String, Mark?) {
                guard let node = values[key] else { throw fail(item.mark, "step \(id): kind \(stepKind) needs \(key)") }
                if let scalar = node.scalar?.string { return (scalar, node.mark) }
                guard let sequence = node.sequence else { throw fail(node.mark, "step \(id): \(key) is a value or a list") }
                return (sequence.compactMap { $0.scalar?.string }.joined(separator: ","), node.mark)
            }
            if let adaptive = steps.first(where: \.isAdaptive) {
                throw fail(item.mark, "step \(id) comes after \(adaptive.id); ramp and size-sweep are adaptive and must be the last step")
            }
            switch stepKind {
            case "baseline":
                steps.append(.baseline(id: id, seconds: try seconds()))
            case "closed":
                let (text, mark) = try listText("concurrency")
                do {
                    steps.append(.closed(id: id, concurrency: try LoadValueParsing.concurrencyList(text), seconds: try seconds()))
                } catch let error as LoadError {
                    throw fail(mark, "step \(id): concurrency \"\(text)\": \(error.message)")
                }
            case "open":
                let (text, mark) = try listText("rates")
                let arrivalsText = values["arrivals"]?.scalar?.string ?? ArrivalProcess.poisson.rawValue
                guard let arrivals = ArrivalProcess(rawValue: arrivalsText) else {
                    throw fail(values["arrivals"]?.mark, "step \(id): arrivals must be uniform or poisson")
                }
                do {
                    steps.append(.open(id: id, rates: try LoadValueParsing.rateList(text), arrivals: arrivals, seconds: try seconds()))
                } catch let error as LoadError {
                    throw fail(mark, "step \(id): rates \"\(text)\": \(error.message)")
                }
            case "size-sweep":
                steps.append(.sizeSweep(id: id, seconds: try seconds()))
            default:
                steps.append(.ramp(id: id))
            }
        }
        return steps
    }

    private static func suggestion(_ word: String, _ candidates: [String]) -> String {
        guard let best = candidates.min(by: { ProbeSpec.editDistance($0, word) < ProbeSpec.editDistance($1, word) }),
              ProbeSpec.editDistance(best, word) <= max(2, word.count / 3) else { return "" }
        return "; did you mean \"\(best)\"?"
    }
}
