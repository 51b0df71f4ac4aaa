import Synchronization

/// Batches concurrent requests into one transaction: the first caller starts a flush; callers that arrive while
/// flushes run wait and go together into the next one. Each caller resumes only after its batch committed, so an
/// acknowledged ticket is on disk, and a disk flush is shared by the whole batch. A database that runs
/// transactions side by side (PostgreSQL) may have several flushes in flight, overlapping their round trips.
///
/// When a batch fails, its requests are retried one by one so that each caller gets its own outcome.
final class GroupCommit<Request: Sendable, Response: Sendable>: Sendable {
    typealias Flush = @Sendable ([Request]) async throws -> [Response]

    private struct Waiter {
        var request: Request
        var continuation: CheckedContinuation<Response, any Error>
    }

    private struct State {
        var pending: [Waiter] = []
        var flushes = 0
    }

    private let state = Mutex(State())
    private let maximumBatch: Int
    private let maximumFlushes: Int
    private let flush: Flush

    /// - Parameters:
    ///   - maximumBatch: the most requests in one transaction, to keep transactions short.
    ///   - maximumFlushes: how many transactions may be in flight at once.
    ///   - flush: writes the requests in one transaction and returns one response per request, in order.
    init(maximumBatch: Int = 512, maximumFlushes: Int = 1, flush: @escaping Flush) {
        self.maximumBatch = max(1, maximumBatch)
        self.maximumFlushes = max(1, maximumFlushes)
        self.flush = flush
    }

    /// Submits a request and waits until the transaction that holds it has committed.
    func submit(_ request: Request) async throws -> Response {
        try await withCheckedThrowingContinuation { continuation in
            let leads = state.withLock { state in
                state.pending.append(Waiter(request: request, continuation: continuation))
                guard state.flushes < maximumFlushes else { return false }
                state.flushes += 1
                return true
            }
            if leads {
                Task { await self.drain() }
            }
        }
    }

    /// Flushes batches until no request is waiting.
    private func drain() async {
        while true {
            let batch: [Waiter] = state.withLock { state in
                guard !state.pending.isEmpty else {
                    state.flushes -= 1
                    return []
                }
                let taken = Array(state.pending.prefix(maximumBatch))
                state.pending.removeFirst(taken.count)
                return taken
            }
            if batch.isEmpty { return }
            do {
                let responses = try await flush(batch.map(\.request))
                precondition(responses.count == batch.count, "a flush returns one response per request")
                for (waiter, response) in zip(batch, responses) { waiter.continuation.resume(returning: response) }
            } catch {
                guard batch.count > 1 else {
                    batch[0].continuation.resume(throwing: error)
                    continue
                }
                for waiter in batch {
                    do {
                        let response = try await flush([waiter.request])
                        waiter.continuation.resume(returning: response[0])
                    } catch {
                        waiter.continuation.resume(throwing: error)
                    }
                }
            }
        }
    }
}
