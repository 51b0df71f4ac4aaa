import ClerkText
import Synchronization

/// Reusable working memory for one turn: token buffers, search state and score accumulators. Taken from a
/// ``ScratchPool`` for the length of a turn, so the hot path allocates almost nothing once warm.
///
/// `@unchecked Sendable`: a scratch is only ever used by the single caller that took it from the pool, and
/// it is handed back before that caller returns; no two threads touch one scratch at the same time.
final class Scratch: @unchecked Sendable {
    let tokens = TokenBuffer()
    let utterance = Utterance()
    /// The message as the scorer sees it when it names services.
    let collapsed = Utterance()
    var preSurfaces: [Int32] = []
    var preTerms: [Int32] = []
    var preGuessed: [Bool] = []
    var stemScratch: [UInt8] = []
    /// Words outside the vocabulary read recently (see ``ReadingMemo``).
    let readings = ReadingMemo()
    let visited = VisitedSet()
    /// The pattern search's stack of open captures: raw storage, so pushing and popping touch no
    /// reference counts. Grown by ``reserveCaptures(_:)`` before a search.
    private(set) var captureStack = UnsafeMutablePointer<Range<Int>>.allocate(capacity: 64)
    /// The captures of the best match found so far, with room for as many as ``captureStack``.
    private(set) var bestCaptures = UnsafeMutablePointer<Range<Int>>.allocate(capacity: 64)
    private(set) var captureCapacity = 64
    /// Words read through their alternatives along the search's path, and along the best match's (as many as
    /// ``captureStack``): (position, term).
    private(set) var correctionStack = UnsafeMutablePointer<(Int32, Int32)>.allocate(capacity: 64)
    private(set) var bestCorrections = UnsafeMutablePointer<(Int32, Int32)>.allocate(capacity: 64)
    /// The alternative readings of the message's words (see ``Alternatives``) and the vocabulary words found.
    var alternativeStarts: [Int32] = []
    var alternativeTerms: [Int32] = []
    var candidateWords: [Int32] = []
    /// What the last search with alternatives found: the readings its match took, and whether matches of
    /// several intents made it give up.
    var chosenAlternatives: [(Int32, Int32)] = []
    var alternativesAmbiguous = false
    let shared = SparseAccumulator()
    var topDocuments: [(Int32, Float)] = []
    var candidates: [Scorer.Candidate] = []
    var queryTerms: [Int32] = []
    var queryTermsByWeight: [Int32] = []
    var queryMass: Float = 0

    deinit {
        captureStack.deallocate()
        bestCaptures.deallocate()
        correctionStack.deallocate()
        bestCorrections.deallocate()
    }

    /// Makes room for `count` open captures (and as many corrections).
    func reserveCaptures(_ count: Int) {
        guard count > captureCapacity else { return }
        captureStack.deallocate()
        bestCaptures.deallocate()
        correctionStack.deallocate()
        bestCorrections.deallocate()
        captureCapacity = max(count, captureCapacity * 2)
        captureStack = .allocate(capacity: captureCapacity)
        bestCaptures = .allocate(capacity: captureCapacity)
        correctionStack = .allocate(capacity: captureCapacity)
        bestCorrections = .allocate(capacity: captureCapacity)
    }

    init() {
        preSurfaces.reserveCapacity(32)
        preTerms.reserveCapacity(32)
        stemScratch.reserveCapacity(32)
        topDocuments.reserveCapacity(16)
        candidates.reserveCapacity(16)
        queryTerms.reserveCapacity(32)
        queryTermsByWeight.reserveCapacity(32)
    }
}

/// A small stack of scratches shared by all turns on a brain.
final class ScratchPool: Sendable {
    private let free = Mutex<[Scratch]>([])

    func withScratch<R>(_ body: (Scratch) -> R) -> R {
        let scratch = free.withLock { $0.popLast() } ?? Scratch()
        defer {
            free.withLock { stack in
                if stack.count < 64 { stack.append(scratch) }
            }
        }
        return body(scratch)
    }
}
