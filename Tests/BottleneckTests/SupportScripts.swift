import Foundation

/// The stand-in servers of `Tests/Support`, by file name.
enum SupportScripts {
    static func path(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Support").appendingPathComponent(name).path
    }
}
