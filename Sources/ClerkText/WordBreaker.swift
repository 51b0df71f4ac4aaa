import CTextShim

/// ICU word segmentation and folding, reached through the C shim (Foundation's own ICU would clash with the
/// system one in a Swift target).
final class WordBreaker {
    private let handle: OpaquePointer

    init?(locale: String) {
        guard let handle = clerk_word_breaker_open(locale) else { return nil }
        self.handle = handle
    }

    deinit { clerk_word_breaker_close(handle) }

    /// Appends (start, end) byte offsets of each word in `text` to `spans`.
    func split(_ text: UnsafeBufferPointer<UInt8>, into spans: inout [Int32]) {
        spans.removeAll(keepingCapacity: true)
        let maxPairs = text.count + 1
        if spans.capacity < maxPairs * 2 { spans.reserveCapacity(maxPairs * 2) }
        let count = text.withMemoryRebound(to: CChar.self) { chars -> Int32 in
            withUnsafeTemporaryAllocation(of: Int32.self, capacity: maxPairs * 2) { out in
                let n = clerk_word_breaker_split(
                    handle, chars.baseAddress, Int32(chars.count), out.baseAddress,
                    Int32(maxPairs))
                if n > 0 { spans.append(contentsOf: out[0..<Int(n) * 2]) }
                return n
            }
        }
        if count < 0 { spans.removeAll() }
    }
}

/// Folds UTF-8 text for matching: NFKC, full case folding, accents removed. Appends the result to `output`.
/// On an ICU failure the text is appended unchanged, so nothing the citizen wrote is lost.
func fold(_ text: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]) {
    var capacity = text.count * 3 + 16
    while true {
        let result = text.withMemoryRebound(to: CChar.self) { chars -> Int32 in
            withUnsafeTemporaryAllocation(of: CChar.self, capacity: capacity) { out -> Int32 in
                let n = clerk_fold(chars.baseAddress, Int32(chars.count), out.baseAddress, Int32(capacity))
                if n >= 0 {
                    out.withMemoryRebound(to: UInt8.self) { output.append(contentsOf: $0[0..<Int(n)]) }
                }
                return n
            }
        }
        if result >= 0 { return }
        if result == -1 {
            output.append(contentsOf: text)
            return
        }
        capacity = Int(-result - 2) + 1
    }
}

/// Folds a whole string (for content at compile time and for tests).
public func foldText(_ text: String) -> String {
    var copy = text
    var output: [UInt8] = []
    copy.withUTF8 { fold($0, into: &output) }
    return String(decoding: output, as: UTF8.self)
}
