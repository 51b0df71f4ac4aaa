import ClerkEngine
import Synchronization

/// Holds the brain in service. Reading it is one lock-protected load; a reload replaces it as a whole, so a
/// turn always runs on one consistent brain.
public final class BrainStore: Sendable {
    private let current: Mutex<(brain: Brain, generation: Int)>

    public init(_ brain: Brain) {
        current = Mutex((brain, 0))
    }

    /// The brain to use for the next turn.
    public var brain: Brain { current.withLock { $0.brain } }

    /// How many times the brain has been replaced since the server started.
    public var generation: Int { current.withLock { $0.generation } }

    /// Swaps in a newly compiled brain.
    public func replace(with brain: Brain) {
        current.withLock { $0 = (brain, $0.generation + 1) }
    }
}
