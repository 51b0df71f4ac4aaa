import ClerkText
import Testing

private let tokenizer = Tokenizer(language: .english)

/// Tokenises `text` and returns the buffer, to look at kinds and the path taken.
private func tokenize(_ text: String) -> TokenBuffer {
    let buffer = TokenBuffer()
    tokenizer.tokenize(text, into: buffer)
    return buffer
}

// MARK: - Folding: case, accents, width, punctuation

struct NormalisedMessage: Sendable, CustomTestStringConvertible {
    var text: String
    var tokens: [String]
    var testDescription: String { "\"\(text)\" → \(tokens)" }
}

@Test(
    arguments: [
        NormalisedMessage(text: "How much is a PASSPORT", tokens: ["how", "much", "is", "a", "passport"]),
        NormalisedMessage(text: "pásspört", tokens: ["passport"]),
        NormalisedMessage(text: "How much is a PÁSSPÖRT?", tokens: ["how", "much", "is", "a", "passport"]),
        NormalisedMessage(text: "Ångström Zoë", tokens: ["angstrom", "zoe"]),
        NormalisedMessage(text: "ＩＤ", tokens: ["id"]),
        NormalisedMessage(text: "my ＩＤ card", tokens: ["my", "id", "card"]),
        NormalisedMessage(text: "Straße", tokens: ["strasse"]),
        NormalisedMessage(text: "passport??", tokens: ["passport"]),
        NormalisedMessage(text: "passport?!...", tokens: ["passport"]),
        NormalisedMessage(text: "ID-card", tokens: ["id", "card"]),
        NormalisedMessage(text: "(passport),id/card;", tokens: ["passport", "id", "card"]),
        NormalisedMessage(text: "  lots   of\tspace\n", tokens: ["lots", "of", "space"]),
        NormalisedMessage(text: "don't", tokens: ["don't"]),
        NormalisedMessage(text: "don’t", tokens: ["don't"]),
        NormalisedMessage(text: "I DON'T know", tokens: ["i", "don't", "know"]),
        NormalisedMessage(text: "'quoted'", tokens: ["quoted"]),
        NormalisedMessage(text: "citizens' rights", tokens: ["citizens", "rights"]),
        NormalisedMessage(text: "", tokens: []),
        NormalisedMessage(text: "?!  ...", tokens: []),
    ])
func messageIsFoldedIntoTheWordsAPersonMeant(_ example: NormalisedMessage) {
    #expect(tokenizer.tokens(example.text) == example.tokens)
}

@Test func foldTextRemovesCaseAccentsAndWidth() {
    #expect(foldText("PÁSSPÖRT") == "passport")
    #expect(foldText("ＩＤ") == "id")
    #expect(foldText("Œuvre") == "oeuvre")
}

// MARK: - Number words

@Test(
    arguments: [
        ("twenty one", ["21"]),
        ("two hundred and five", ["205"]),
        ("i need three copies", ["i", "need", "3", "copies"]),
        ("one thousand two hundred", ["1200"]),
        ("Twenty-One", ["21"]),
        ("zero", ["0"]),
        ("bread and butter", ["bread", "and", "butter"]),
        ("five and six", ["5", "and", "6"]),
    ])
func numberWordsBecomeDigits(_ text: String, _ expected: [String]) {
    let buffer = tokenize(text)
    #expect(buffer.texts == expected)
    for (index, token) in expected.enumerated() where token.allSatisfy(\.isNumber) {
        #expect(buffer.tokens[index].kind == .number)
    }
}

@Test func numberWordConversionIsRecordedForTheExplanation() {
    let buffer = tokenize("I need two hundred and five forms")
    #expect(buffer.numberConversions.count == 1)
    #expect(buffer.numberConversions.first?.tokenIndex == 2)
    #expect(buffer.numberConversions.first?.words == "two hundred and five")
}

@Test func numberWordsKeepTheOriginalSpanOfAllTheirWords() {
    let text = "need twenty one forms"
    let buffer = tokenize(text)
    let span = buffer.tokens[1]
    let original = String(decoding: Array(text.utf8)[Int(span.originalStart)..<Int(span.originalEnd)], as: UTF8.self)
    #expect(original == "twenty one")
}

// MARK: - Protected tokens

struct ProtectedExample: Sendable, CustomTestStringConvertible {
    var text: String
    var tokens: [String]
    /// Kind of the token at `index`.
    var index: Int
    var kind: TokenKind
    var testDescription: String { "\"\(text)\" keeps \(tokens[index]) as \(kind)" }
}

@Test(
    arguments: [
        ProtectedExample(text: "status of T-1042", tokens: ["status", "of", "t-1042"], index: 2, kind: .reference),
        ProtectedExample(
            text: "ticket AB-77, please", tokens: ["ticket", "ab-77", "please"], index: 1, kind: .reference),
        ProtectedExample(
            text: "mail Anna.Berg@example.city now", tokens: ["mail", "anna.berg@example.city", "now"], index: 1,
            kind: .email),
        ProtectedExample(
            text: "see https://example.city/passport?lang=en.",
            tokens: ["see", "https://example.city/passport?lang=en"], index: 1, kind: .url),
        ProtectedExample(text: "www.example.city", tokens: ["www.example.city"], index: 0, kind: .url),
        ProtectedExample(text: "on 2026-11-28 please", tokens: ["on", "2026-11-28", "please"], index: 1, kind: .date),
        ProtectedExample(text: "on 28.11.2026", tokens: ["on", "28.11.2026"], index: 1, kind: .date),
        ProtectedExample(text: "on 28/11/26", tokens: ["on", "28/11/26"], index: 1, kind: .date),
        ProtectedExample(text: "costs 1,000 euro", tokens: ["costs", "1000", "euro"], index: 1, kind: .number),
        ProtectedExample(text: "costs 3.5 euro", tokens: ["costs", "3.5", "euro"], index: 1, kind: .number),
        ProtectedExample(text: "room 1042", tokens: ["room", "1042"], index: 1, kind: .number),
    ])
func protectedTokensAreKeptWhole(_ example: ProtectedExample) {
    let buffer = tokenize(example.text)
    #expect(buffer.texts == example.tokens)
    if buffer.tokens.indices.contains(example.index) {
        #expect(buffer.tokens[example.index].kind == example.kind)
        #expect(buffer.tokens[example.index].kind.isProtected)
    }
}

@Test(arguments: [("the fee is €35", ["the", "fee", "is", "35"]), ("costs 3.50 €", ["costs", "3.50"])])
func amountNextToASeparateCurrencySignIsANumber(_ text: String, _ expected: [String]) {
    let buffer = tokenize(text)
    #expect(buffer.texts == expected)
    #expect(buffer.tokens.last?.kind == .number)
}

@Test(
    arguments: [("pay €1,000", "1000"), ("pay 1,000€", "1000"), ("pay €3.50", "3.50"), ("pay £1,250", "1250")])
func amountTouchingACurrencySignIsOneNumber(_ text: String, _ number: String) {
    let buffer = tokenize(text)
    #expect(buffer.texts == ["pay", number])
    #expect(buffer.tokens.last?.kind == .number)
}

@Test(
    arguments: [
        ("“T-1042”", "t-1042", TokenKind.reference), ("«T-1042»", "t-1042", .reference),
        ("‘T-1042’", "t-1042", .reference), ("“2026-11-28”", "2026-11-28", .date),
        ("„28.11.2026“", "28.11.2026", .date), ("“anna@example.city”", "anna@example.city", .email),
    ])
func protectedTokenInTypographicQuotesIsKeptWhole(_ text: String, _ token: String, _ kind: TokenKind) {
    let buffer = tokenize("ticket " + text)
    #expect(buffer.texts == ["ticket", token])
    #expect(buffer.tokens.last?.kind == kind)
}

@Test(
    arguments: [
        ("2,3", ["2", "3"]),
        ("3rd floor", ["3rd", "floor"]),
        ("ID-card", ["id", "card"]),
        ("e-mail", ["e", "mail"]),
    ])
func lookalikesOfProtectedTokensAreOrdinaryWords(_ text: String, _ expected: [String]) {
    let buffer = tokenize(text)
    #expect(buffer.texts == expected)
    #expect(!buffer.tokens.contains { $0.kind == .reference || $0.kind == .date })
}

@Test func ordinaryWordsAreNotProtected() {
    let buffer = tokenize("renew my passport")
    #expect(buffer.tokens.allSatisfy { $0.kind == .word && !$0.kind.isProtected })
}

// MARK: - ASCII fast path and ICU path

@Test(
    arguments: [
        "How much is a passport?",
        "I DON'T know what to do, really!",
        "my ID-card got stolen... help",
        "renew/extend (passport) now",
        "twenty one forms",
        "Opening hours on Saturday",
    ])
func asciiTextGivesTheSameTokensOnTheFastPathAndThroughICU(_ text: String) {
    let fast = tokenize(text)
    #expect(!fast.usedUnicodePath)

    // One non-ASCII word appended: the ASCII words keep their tokens.
    let withExtraWord = tokenize(text + " é")
    #expect(withExtraWord.usedUnicodePath)
    #expect(withExtraWord.texts == fast.texts + ["e"])

    // Every vowel given a combining accent: each word goes through ICU segmentation and folding.
    let accented = text.unicodeScalars.map { "aeiouAEIOU".unicodeScalars.contains($0) ? "\($0)\u{0301}" : "\($0)" }
    let throughICU = tokenize(accented.joined())
    #expect(throughICU.usedUnicodePath)
    #expect(throughICU.texts == fast.texts)

    // No-break spaces separate words like spaces do.
    #expect(tokenize(String(text.map { $0 == " " ? "\u{00A0}" : $0 })).texts == fast.texts)
}

@Test func chineseTextIsSegmentedIntoWordsByICU() {
    let text = "我想更新我的护照"
    let buffer = tokenize(text)
    #expect(buffer.usedUnicodePath)
    #expect(buffer.texts.count > 1)
    #expect(buffer.texts.joined() == text)
    #expect(buffer.texts.contains("护照"))
}

@Test func japaneseTextIsSegmentedIntoWords() {
    let text = "パスポートを更新したい"
    let buffer = tokenize(text)
    #expect(buffer.texts.count > 1)
    // Folding drops combining marks, kana voicing marks included (パ → ハ), for content and messages alike.
    #expect(buffer.texts.joined() == foldText(text))
}

@Test func originalSpansPointAtWhatWasTyped() {
    let text = "Zoë's PÁSSPORT"
    let buffer = tokenize(text)
    let bytes = Array(text.utf8)
    let originals = buffer.tokens.map {
        String(decoding: bytes[Int($0.originalStart)..<Int($0.originalEnd)], as: UTF8.self)
    }
    #expect(originals == ["Zoë's", "PÁSSPORT"])
    #expect(buffer.texts == ["zoe's", "passport"])
}

@Test func reusedBufferForgetsThePreviousMessage() {
    let buffer = TokenBuffer()
    tokenizer.tokenize("Pásspört twenty one", into: buffer)
    tokenizer.tokenize("hello", into: buffer)
    #expect(buffer.texts == ["hello"])
    #expect(!buffer.usedUnicodePath)
    #expect(buffer.numberConversions.isEmpty)
}

@Test func languageWithoutNumberWordsKeepsThemAsWords() {
    let dutch = Tokenizer(language: Language.named("dutch")!)
    #expect(dutch.tokens("twenty one") == ["twenty", "one"])
    #expect(Language.named("klingon") == nil)
}
