import ClerkText
import Testing

// MARK: - Spelling correction bounded by the vocabulary

private let vocabulary = SpellingIndex(
    words: ["fee", "tax", "id", "renew", "license", "passport", "appointment", "opening"],
    frequencies: [1, 1, 1, 1, 1, 1, 1, 1])

@Test(arguments: ["fex", "tix", "fe", "ix", "tas"])
func threeLetterWordsAreNeverCorrected(_ typo: String) {
    #expect(vocabulary.correct(typo) == nil)
}

@Test(
    arguments: ["car", "the", "crd"])
func threeLetterTypedWordIsNotCorrectedToALongerWord(_ typed: String) {
    let index = SpellingIndex(words: ["card", "then"], frequencies: [1, 1])
    #expect(index.correct(typed) == nil)
}

@Test func nothingIsCloseToAThreeLetterVocabularyWord() {
    let index = SpellingIndex(words: ["fee"], frequencies: [1])
    #expect(index.correct("feee") == nil)
    #expect(index.correct("fees") == nil)
}

struct Typo: Sendable, CustomTestStringConvertible {
    var typed: String
    var corrected: String?
    var distance: Int?
    var testDescription: String { "\"\(typed)\" → \(corrected ?? "nil")" }
}

@Test(
    arguments: [
        // Up to 7 letters: one edit.
        Typo(typed: "renw", corrected: "renew", distance: 1),
        Typo(typed: "reneww", corrected: "renew", distance: 1),
        Typo(typed: "rebew", corrected: "renew", distance: 1),
        Typo(typed: "rnw", corrected: nil, distance: nil),
        Typo(typed: "lisense", corrected: "license", distance: 1),
        Typo(typed: "lisens", corrected: nil, distance: nil),
        Typo(typed: "openinng", corrected: "opening", distance: 1),
        Typo(typed: "opnin", corrected: nil, distance: nil),
        // From 8 letters: two edits.
        Typo(typed: "pasport", corrected: "passport", distance: 1),
        Typo(typed: "pasprot", corrected: "passport", distance: 2),
        Typo(typed: "pazzport", corrected: "passport", distance: 2),
        Typo(typed: "pazzpurt", corrected: nil, distance: nil),
        Typo(typed: "apointmnt", corrected: "appointment", distance: 2),
        Typo(typed: "apintmnt", corrected: nil, distance: nil),
    ])
func typoIsCorrectedWithinEditsScaledByLength(_ typo: Typo) {
    let correction = vocabulary.correct(typo.typed)
    #expect(correction?.word == typo.corrected)
    #expect(correction?.distance == typo.distance)
}

@Test func allowedDistanceGrowsWithWordLength() {
    #expect((1...12).map(SpellingIndex.allowedDistance(forLength:)) == [0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 2])
}

@Test func swappedNeighbouringLettersCountAsOneEdit() {
    #expect(vocabulary.correct("rneew")?.word == "renew")
    #expect(vocabulary.correct("rneew")?.distance == 1)
    #expect(vocabulary.correct("paspsort")?.distance == 1)
}

@Test func aWordAlreadyInTheVocabularyIsNotCorrected() {
    #expect(vocabulary.correct("passport") == nil)
    #expect(vocabulary.correct("renew") == nil)
}

@Test func equallyCloseCandidatesAreDecidedByFrequency() {
    let cardMoreFrequent = SpellingIndex(words: ["cart", "card"], frequencies: [1, 5])
    #expect(cardMoreFrequent.correct("carx")?.word == "card")
    let cartMoreFrequent = SpellingIndex(words: ["cart", "card"], frequencies: [5, 1])
    #expect(cartMoreFrequent.correct("carx")?.word == "cart")
    let equal = SpellingIndex(words: ["cart", "card"], frequencies: [2, 2])
    #expect(equal.correct("carx")?.word == "cart")
}

@Test func closerCandidateBeatsMoreFrequentOne() {
    let index = SpellingIndex(words: ["passports", "passport"], frequencies: [100, 1])
    #expect(index.correct("pasport")?.word == "passport")
    #expect(index.correct("pasport")?.distance == 1)
}

@Test func emptyVocabularyCorrectsNothing() {
    let index = SpellingIndex(words: [], frequencies: [])
    #expect(index.correct("passport") == nil)
}

@Test func veryLongWordsAreLeftAlone() {
    let long = String(repeating: "abcdefgh", count: 4)
    let index = SpellingIndex(words: [long], frequencies: [1])
    #expect(index.correct(String(long.dropLast())) == nil)
}

// MARK: - Edit distance

@Test(
    arguments: [
        ("", "", 0), ("", "abc", 3), ("abc", "", 3), ("abc", "abc", 0), ("ab", "ba", 1), ("abcd", "acbd", 1),
        ("kitten", "sitting", 3), ("passport", "pasport", 1), ("passport", "paspsort", 1),
        // Optimal string alignment: a transposed pair is not edited again (true Damerau–Levenshtein gives 2).
        ("ca", "abc", 3),
    ])
func optimalStringAlignmentDistance(_ a: String, _ b: String, _ distance: Int) {
    #expect(EditDistance.osa(a, b) == distance)
    #expect(EditDistance.osa(b, a) == distance)
}

@Test func editDistanceStopsAtTheLimit() {
    #expect(EditDistance.osa("kitten", "sitting", limit: 1) == 2)
    #expect(EditDistance.osa("a", "abcdef", limit: 2) == 3)
    #expect(EditDistance.osa("kitten", "sitting", limit: 3) == 3)
}

// MARK: - Stems

private let english = Stemmer(algorithm: "english")!

@Test(
    arguments: [
        ("renewing", "renew"), ("renewed", "renew"), ("renewal", "renew"), ("passports", "passport"),
        ("costs", "cost"), ("opening", "open"), ("stolen", "stolen"), ("hours", "hour"),
    ])
func snowballStemsGroupWordForms(_ word: String, _ stem: String) {
    #expect(english.stem(word) == stem)
}

@Test func otherSnowballLanguagesAreAvailable() {
    #expect(Stemmer(algorithm: "german")?.stem("pässe") == "pass")
    #expect(Stemmer(algorithm: "klingon") == nil)
}

@Test func stemmerCanBeSharedBetweenThreads() async {
    let stems = await withTaskGroup(of: String.self) { group in
        for _ in 0..<16 { group.addTask { english.stem("renewing") } }
        var all: [String] = []
        for await stem in group { all.append(stem) }
        return all
    }
    #expect(stems == Array(repeating: "renew", count: 16))
}

// MARK: - Byte tables

@Test func byteTableFindsEveryInsertedWord() {
    var builder = ByteTable.Builder()
    let words = (0..<500).map { "word\($0)" }
    for (index, word) in words.enumerated() {
        #expect(builder.insert(word) == Int32(index))
    }
    #expect(builder.insert("word7") == 7)
    let table = builder.build()
    #expect(table.count == 500)
    for (index, word) in words.enumerated() {
        #expect(table[word] == Int32(index))
        #expect(table.key(Int32(index)) == word)
    }
    #expect(table["word500"] == nil)
    #expect(table[""] == nil)
}

@Test func byteTableTellsWordsThatShareTheirFirstBytesOrDifferOnlyAtTheEnd() {
    // Words of every length around the 8 and 11 bytes a slot holds, with look-alikes that share a prefix.
    var words: [String] = [""]
    for length in 1...24 {
        let base = String(repeating: "a", count: length - 1)
        words.append(base + "b")
        words.append(base + "c")
        words.append(String(repeating: "z", count: length))
    }
    words.append("identification")
    words.append("identificatioN")
    words.append("pásspört")
    var builder = ByteTable.Builder()
    for word in words { builder.insert(word) }
    let table = builder.build()
    for (index, word) in words.enumerated() {
        #expect(table[word] == Int32(index), "\(word)")
    }
    for missing in [
        "a", "aaaaaaaad", "aaaaaaaaaba", "aaaaaaaaaaaaaaaaaaaaaaab" + "a", "identificatio", "identifications",
    ] {
        #expect(table[missing] == nil, "\(missing)")
    }
}

@Test func pairTableKeepsTheFirstValueOfARepeatedKey() {
    let table = PairTable([(PairTable.key(1, 2), 10), (PairTable.key(2, 1), 20), (PairTable.key(1, 2), 30)])
    #expect(table.count == 2)
    #expect(table[PairTable.key(1, 2)] == 10)
    #expect(table[PairTable.key(2, 1)] == 20)
    #expect(table[PairTable.key(3, 3)] == -1)
}

// MARK: - Words a misspelt word may stand for

private func candidates(_ index: SpellingIndex, _ typed: String, limit: Int = 8) -> [String] {
    var words: [Int32] = []
    var copy = typed
    copy.withUTF8 { index.candidates($0, limit: limit, into: &words) }
    let names = ["lost", "loss", "list", "cake", "case", "cast", "passport", "card"]
    return words.map { names[Int($0)] }
}

private let nearWords = SpellingIndex(
    words: ["lost", "loss", "list", "cake", "case", "cast", "passport", "card"], frequencies: [5, 2, 1, 3, 4, 1, 1, 1])

@Test func threeLetterWordWithALetterMissingHasTheFourLetterWordsAsCandidates() {
    #expect(candidates(nearWords, "los") == ["lost", "loss"])
    #expect(candidates(nearWords, "cae") == ["case", "cake"])
    // "car" is one letter short of "card": whether that reading is allowed is the lexicon's call.
    #expect(candidates(nearWords, "car") == ["card"])
}

@Test func candidatesAreOneEditAwayMostFrequentFirstAndBounded() {
    #expect(candidates(nearWords, "lisr") == ["list"])
    #expect(candidates(nearWords, "cast") == ["case"])
    #expect(candidates(nearWords, "lost", limit: 1) == ["loss"])
    #expect(candidates(nearWords, "pasport") == ["passport"])
    #expect(candidates(nearWords, "pssprt").isEmpty, "two edits away: only correction on its own reaches that far")
    #expect(candidates(nearWords, "xy").isEmpty)
}
