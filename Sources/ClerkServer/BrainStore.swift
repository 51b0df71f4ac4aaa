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

    /// Swaps in a newly compiled brain and returns the one it replaced, so that freeing it (a large brain is
    /// many arrays) happens outside the lock turns read the brain through, at a time of the caller's choosing.
    @discardableResult
    public func replace(with brain: Brain) -> Brain {
        current.withLock { current in
            let previous = current.brain
            current = (brain, current.generation + 1)
            return previous
        }
    }
}
