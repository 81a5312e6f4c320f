import Foundation

/// The playbooks of `playbooks/`, compiled into the binary (`scripts/embed-rules.sh`),
/// or read from a folder given with `--playbooks DIR`.
public struct PlaybookLibrary: Sendable {
    public var playbooks: [Playbook]
    /// File name → text of the Markdown twins and examples.
    public var documents: [String: String]

    /// The embedded playbooks, checked against these rule ids.
    public static func embedded(ruleIDs: Set<String>?) throws -> PlaybookLibrary {
        try make(files: DefaultPlaybooks.embedded, folder: "playbooks", ruleIDs: ruleIDs)
    }

    /// The playbooks of a folder (`*.yaml` plus their `*.md` twins).
    public static func load(directory: String, ruleIDs: Set<String>?) throws -> PlaybookLibrary {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
            throw PlaybookError("playbooks \(directory): not a readable folder; give a folder of playbook YAML files such as playbooks/")
        }
        let files = names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".md") || $0.hasSuffix(".txt") }.sorted().compactMap { name in
            (try? String(contentsOfFile: directory + "/" + name, encoding: .utf8)).map { (name, $0) }
        }
        return try make(files: files, folder: directory, ruleIDs: ruleIDs)
    }

    static func make(files: [(String, String)], folder: String, ruleIDs: Set<String>?) throws -> PlaybookLibrary {
        var playbooks: [Playbook] = []
        var documents: [String: String] = [:]
        for (name, text) in files {
            if name.hasSuffix(".yaml") {
                playbooks.append(try PlaybookFile.parse(text, source: folder + "/" + name, ruleIDs: ruleIDs))
            } else {
                documents[name] = text
            }
        }
        for playbook in playbooks where documents[playbook.guide] == nil {
            throw PlaybookError("playbook \(folder)/\(playbook.name).yaml: its guide \(playbook.guide) is missing from \(folder)")
        }
        return PlaybookLibrary(playbooks: playbooks.sorted { $0.name < $1.name }, documents: documents)
    }

    /// The playbook of this name, or an error listing the names there are.
    public func playbook(named name: String) throws -> Playbook {
        if let found = playbooks.first(where: { $0.name == name }) { return found }
        let names = playbooks.map(\.name).joined(separator: ", ")
        throw PlaybookError("no playbook named \"\(name)\"; there are: \(names) (`bottleneck playbook list`)")
    }
}

/// The embedded playbook files.
public enum DefaultPlaybooks: Sendable {
    public static var fileNames: [String] { embedded.map(\.0) }
    public static func text(of name: String) -> String? { embedded.first { $0.0 == name }?.1 }
}
