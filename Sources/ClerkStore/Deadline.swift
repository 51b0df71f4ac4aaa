import Synchronization

/// Runs `body`, but gives up after `timeout` with `expired`, even when `body` does not respond to cancellation
/// (a connection pool waiting for a server that is gone). `body` is cancelled and left to finish on its own.
///
/// A database call that outlives its deadline may still complete later; callers are told it failed, which is the
/// safe side for a citizen (they are told a person cannot be reached right now, never given a reference that might
/// not exist).
func withDeadline<T: Sendable>(
    _ timeout: Duration, expired: @autoclosure @escaping @Sendable () -> any Error,
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    let race = DeadlineRace<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            race.start(continuation)
            let work = Task {
                do {
                    race.finish(.success(try await body()))
                } catch {
                    race.finish(.failure(error))
                }
            }
            race.setWork(work)
            Task {
                try? await Task.sleep(for: timeout)
                if race.finish(.failure(expired())) { work.cancel() }
            }
        }
    } onCancel: {
        race.cancelWork()
    }
}

/// The continuation of one ``withDeadline(_:expired:_:)`` call: resumed once, by the work or by the timer.
private final class DeadlineRace<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var work: Task<Void, Never>?
    }

    private let state = Mutex(State())

    func start(_ continuation: CheckedContinuation<T, any Error>) {
        state.withLock { $0.continuation = continuation }
    }

    func setWork(_ work: Task<Void, Never>) {
        state.withLock { $0.work = work }
    }

    func cancelWork() {
        state.withLock { $0.work }?.cancel()
    }

    /// Resumes the caller with `result` unless that already happened; returns whether it did.
    @discardableResult
    func finish(_ result: Result<T, any Error>) -> Bool {
        guard
            let continuation = state.withLock({ state in
                defer { state.continuation = nil }
                return state.continuation
            })
        else { return false }
        continuation.resume(with: result)
        return true
    }
}
