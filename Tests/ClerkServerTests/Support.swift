import ClerkContent
import ClerkEngine
import ClerkServer
import ClerkStore
import Foundation
import Logging
import Synchronization
import Testing

/// The package root: this file is `<root>/Tests/ClerkServerTests/Support.swift`.
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// The brain compiled from the shipped content (intents/, knowledge/, config/), once per test run.
let shippedBrain: Brain? = {
    let (brain, problems) = ContentLoader(root: packageRoot).compile()
    return problems.contains { $0.severity == .error } ? nil : brain
}()

/// A logger that stays quiet: the store failures some tests cause on purpose are not news.
let quietLogger: Logger = {
    var logger = Logger(label: "clerk.tests")
    logger.logLevel = .critical
    return logger
}()

/// Settings for tests: agent actions are picked up quickly.
func fastSettings() -> HandoffSettings {
    var settings = HandoffSettings()
    settings.pollInterval = .milliseconds(20)
    settings.flushInterval = .milliseconds(100)
    return settings
}

/// A SQLite ticket store in a fresh temporary folder, and `Conversations` over it with the shipped brain.
struct ServerHarness: Sendable {
    let folder: URL
    let path: String
    let store: any TicketStore
    let conversations: Conversations

    /// Opens a fresh store. `store` replaces the SQLite store (e.g. with ``UnavailableStore``).
    static func open(
        settings: HandoffSettings = fastSettings(), store replacement: (any TicketStore)? = nil
    ) async throws -> ServerHarness {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("clerk-server-\(UUID())")
        let path = folder.appendingPathComponent("clerk.sqlite").path
        let store: any TicketStore
        if let replacement {
            store = replacement
        } else {
            store = try await openStore(.sqlite(path: path))
        }
        return try ServerHarness(folder: folder, path: path, store: store, settings: settings)
    }

    private init(folder: URL, path: String, store: any TicketStore, settings: HandoffSettings) throws {
        self.folder = folder
        self.path = path
        self.store = store
        let brain = try #require(shippedBrain, "the shipped content does not compile")
        conversations = Conversations(
            brains: BrainStore(brain), store: store, officeHours: nil, settings: settings, logger: quietLogger)
    }

    /// A second `Conversations` over the same store file, as after a restart of the server.
    func restarted(settings: HandoffSettings = fastSettings()) async throws -> ServerHarness {
        let store = try await openStore(.sqlite(path: path))
        return try ServerHarness(folder: folder, path: path, store: store, settings: settings)
    }

    /// Runs `conversations.run()` (agent actions, flushing) until the returned task is cancelled.
    func runInBackground() -> Task<Void, Never> {
        let conversations = self.conversations
        return Task { await conversations.run() }
    }

    /// Closes the store and removes the folder.
    func close() async {
        await store.shutdown()
        try? FileManager.default.removeItem(at: folder)
    }

    /// The conversation's messages, one reply after another.
    func say(_ messages: [String], in id: String) async throws -> [BotReply] {
        var replies: [BotReply] = []
        for message in messages { replies.append(try await conversations.send(message, to: id).0) }
        return replies
    }
}

/// Opens a harness, runs `body`, and closes the harness even when `body` throws.
func withHarness(
    settings: HandoffSettings = fastSettings(), store: (any TicketStore)? = nil,
    _ body: (ServerHarness) async throws -> Void
) async throws {
    let harness = try await ServerHarness.open(settings: settings, store: store)
    do {
        try await body(harness)
    } catch {
        await harness.close()
        throw error
    }
    await harness.close()
}

extension BotReply {
    /// All messages as one text, for `contains` checks.
    var text: String { messages.joined(separator: "\n") }
}

/// The first reference `T-…` in `text`.
func reference(in text: String) -> TicketReference? {
    guard let range = text.range(of: #"T-\d+"#, options: .regularExpression) else { return nil }
    return TicketReference(String(text[range]))
}

/// Records a conversation's events in the background, so a test can wait for one with a deadline.
final class EventRecorder: Sendable {
    private final class Box: Sendable {
        let events = Mutex<[ConversationEvent]>([])
    }

    private let box = Box()
    private let task: Task<Void, Never>

    init(_ stream: AsyncStream<ConversationEvent>) {
        let box = self.box
        task = Task {
            for await event in stream { box.events.withLock { $0.append(event) } }
        }
    }

    /// Every event so far.
    var events: [ConversationEvent] { box.events.withLock { $0 } }

    /// The first event that `matches`, waiting up to `timeout` for it; nil when none came.
    func first(
        within timeout: Duration = .seconds(5), where matches: (ConversationEvent) -> Bool
    ) async -> ConversationEvent? {
        await waitUntil(within: timeout) { $0.contains(where: matches) }
        return events.first(where: matches)
    }

    /// Waits up to `timeout` until the events so far satisfy `condition`; whether they did.
    @discardableResult
    func waitUntil(
        within timeout: Duration = .seconds(5), _ condition: ([ConversationEvent]) -> Bool
    ) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !condition(events) {
            guard ContinuousClock.now < deadline else { return false }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return true
    }

    func stop() { task.cancel() }
}
