import ClerkEngine
import Synchronization

/// Holds the brain in service. Reading it is one lock-protected load; a reload replaces it as a whole, so a
/// turn always runs on one consistent brain.
public final class BrainStore: Sendable {
    /// The brain in service and its generation, in a box: a turn borrows the brain through one reference instead
    /// of copying the `Brain` value, each of whose many fields is a reference to retain and release.
    public final class Served: Sendable {
        public let brain: Brain
        public let generation: Int

        init(_ brain: Brain, generation: Int) {
            self.brain = brain
            self.generation = generation
        }
    }

    private let current: Mutex<Served>

    public init(_ brain: Brain) {
        current = Mutex(Served(brain, generation: 0))
    }

    /// The brain for the next turn, with its generation; use `served.brain` for the turn.
    public var served: Served { current.withLock { $0 } }

    /// The brain to use for the next turn (a copy of the value; ``served`` avoids it).
    public var brain: Brain { served.brain }

    /// How many times the brain has been replaced since the server started.
    public var generation: Int { served.generation }

    /// Swaps in a newly compiled brain and returns the one it replaced, so that freeing it (a large brain is
    /// many arrays) happens outside the lock turns read the brain through, at a time of the caller's choosing.
    @discardableResult
    public func replace(with brain: Brain) -> Brain {
        let previous = current.withLock { current in
            let previous = current
            current = Served(brain, generation: previous.generation + 1)
            return previous
        }
        return previous.brain
    }
}
