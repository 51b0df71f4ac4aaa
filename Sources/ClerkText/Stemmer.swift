import CStemmer
import Synchronization

/// A Snowball stemmer that several threads may share.
///
/// libstemmer's `sb_stemmer` keeps state between calls, so every call takes a lock; the work inside is
/// a fraction of a microsecond and the lock is uncontended on the hot path of one conversation.
public final class Stemmer: Sendable {
    /// The libstemmer handle. It is only ever used while `lock` is held, which is what makes
    /// sharing it between threads safe.
    private struct Handle: @unchecked Sendable {
        let pointer: OpaquePointer
    }

    private let handle: Handle
    private let lock = Mutex(())
    /// The Snowball algorithm in use.
    public let algorithm: String

    /// Opens the Snowball stemmer for `algorithm` (`english`, `german`…); nil when libstemmer lacks it.
    public init?(algorithm: String) {
        guard let stemmer = sb_stemmer_new(algorithm, "UTF_8") else { return nil }
        self.algorithm = algorithm
        handle = Handle(pointer: stemmer)
    }

    deinit {
        sb_stemmer_delete(handle.pointer)
    }

    /// Appends the stem of a lower-cased UTF-8 word to `output`.
    public func stem(_ word: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]) {
        guard let base = word.baseAddress, !word.isEmpty else { return }
        // Hold the lock across the call and the copy of libstemmer's internal result buffer.
        lock.withLock { _ in
            if let result = sb_stemmer_stem(handle.pointer, base, Int32(word.count)) {
                let length = Int(sb_stemmer_length(handle.pointer))
                output.append(contentsOf: UnsafeBufferPointer(start: result, count: length))
            } else {
                output.append(contentsOf: word)
            }
        }
    }

    /// The stem of a lower-cased word.
    public func stem(_ word: String) -> String {
        var output: [UInt8] = []
        var copy = word
        copy.withUTF8 { stem($0, into: &output) }
        return String(decoding: output, as: UTF8.self)
    }
}
