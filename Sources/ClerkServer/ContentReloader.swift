import ClerkContent
import ClerkEngine
import Foundation
import Logging

/// Rebuilds the brain when content changes: on request (`POST /v1/admin/reload`, SIGHUP) or when a file under
/// `intents/`, `knowledge/` or `config/` changes. A new brain is compiled off the request path; with errors the old
/// brain keeps serving and every error is logged with file:line; without, it replaces the old one atomically.
/// Conversations keep their state: it refers to intents and services by id, and ids that disappeared are
/// forgotten quietly.
public actor ContentReloader {
    let root: URL
    let brains: BrainStore
    let logger: Logger
    private var signature: [String: Date] = [:]
    /// Intent files parsed at the last reload: an edit to one file re-reads only that one.
    private let parsed = ContentLoader.ParseCache()

    public init(root: URL, brains: BrainStore, logger: Logger) {
        self.root = root
        self.brains = brains
        self.logger = logger
        signature = Self.signature(of: root)
    }

    /// Compiles the content and swaps the brain in when it has no errors.
    public func reload() async -> ReloadReport {
        let start = ContinuousClock.now
        let root = self.root
        signature = Self.signature(of: root)
        let parsed = self.parsed
        let (brain, problems) = await Task.detached { ContentLoader(root: root, cache: parsed).compile() }.value
        let elapsed = ContinuousClock.now - start
        let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        let errors = problems.filter { $0.severity == .error }
        for problem in problems {
            if problem.severity == .error {
                logger.error("\(problem.description)")
            } else {
                logger.warning("\(problem.description)")
            }
        }
        guard errors.isEmpty, let brain else {
            logger.error("content has \(errors.count) error(s); the previous content keeps serving")
            let current = brains.brain
            return ReloadReport(
                reloaded: false, problems: problems.map(\.description), intents: current.statistics.intents,
                services: current.serviceIDs.count, milliseconds: milliseconds)
        }
        let previous = brains.replace(with: brain)
        // Turns in flight may still hold the old brain; the last reference frees it, and not on this path.
        Task.detached(priority: .background) { withExtendedLifetime(previous) {} }
        logger.info(
            "content reloaded",
            metadata: [
                "intents": "\(brain.statistics.intents)", "services": "\(brain.serviceIDs.count)",
                "ms": "\(Int(milliseconds))",
            ])
        return ReloadReport(
            reloaded: true, problems: problems.map(\.description), intents: brain.statistics.intents,
            services: brain.serviceIDs.count, milliseconds: milliseconds)
    }

    /// Checks the content folders every `interval` and reloads when a file was added, removed or changed.
    public func watch(every interval: Duration = .milliseconds(150)) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            let now = Self.signature(of: root)
            guard now != signature else { continue }
            // Let an editor finish writing (several files saved at once) before compiling.
            try? await Task.sleep(for: .milliseconds(50))
            _ = await reload()
        }
    }

    /// Modification times of every file in the content folders.
    static func signature(of root: URL) -> [String: Date] {
        var result: [String: Date] = [:]
        let manager = FileManager.default
        for folder in ["intents", "knowledge", "config"] {
            let url = root.appendingPathComponent(folder)
            guard let names = try? manager.contentsOfDirectory(atPath: url.path) else { continue }
            for name in names where !name.hasPrefix(".") {
                let path = url.appendingPathComponent(name).path
                if let attributes = try? manager.attributesOfItem(atPath: path),
                    let date = attributes[.modificationDate] as? Date
                {
                    let size = (attributes[.size] as? NSNumber)?.doubleValue ?? 0
                    // Size too: two saves within one timestamp tick still differ.
                    result["\(folder)/\(name)"] = date.addingTimeInterval(size / 1e12)
                }
            }
        }
        return result
    }
}
