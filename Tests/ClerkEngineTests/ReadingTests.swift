import ClerkContent
import ClerkEngine
import Testing

private let passportIntents = """
    - id: passport.fee
      patterns: ["how much is a [new] passport"]
      reply: "A passport costs 35 euro."
    - id: passport.renew
      patterns: ["i do not have a passport", "renew my passport"]
      reply: "Renew online."
    - id: ticket.status
      patterns: ["status of ticket t-1043", "status of [ticket] {t:ticket}"]
      reply: "Your ticket is being handled."
    - id: room
      patterns: ["room 1043"]
      reply: "Room 1043 is upstairs."
    - id: address
      patterns: ["change my home address"]
      reply: "Change it online."
    - id: receipt
      patterns: ["i lost my receipt"]
      reply: "We can print another one."
    """

private let contractions = """
    "don't": do not
    idcard: id card
    """

private let readingBrain = Result { try brain(intents: passportIntents, substitutions: contractions) }

// MARK: - Typos

@Test func typoInServiceNameStillFindsPassport() throws {
    let brain = try readingBrain.get()
    let (turn, explanation) = brain.explain("How much is a new pasport??")
    #expect(turn.intent == "passport.fee")
    let reading = try #require(explanation.reading(of: "pasport"))
    #expect(reading.status == "corrected")
    #expect(reading.detail == "passport (1 edit)")
    #expect(explanation.normalized.contains("passport"))
}

@Test func twoTyposInALongWordAreCorrectedAndBothEditsAreShown() throws {
    let brain = try readingBrain.get()
    let (turn, explanation) = brain.explain("how much is a new pazzport")
    #expect(turn.intent == "passport.fee")
    #expect(explanation.reading(of: "pazzport")?.detail == "passport (2 edits)")
}

@Test func accentsAndCapitalsStillFindPassport() throws {
    let brain = try readingBrain.get()
    let (turn, explanation) = brain.explain("HÓW much is a PÁSSPÖRT?")
    #expect(turn.intent == "passport.fee")
    #expect(explanation.reading(of: "PÁSSPÖRT")?.folded == "passport")
    #expect(explanation.reading(of: "PÁSSPÖRT")?.status == "known")
    #expect(explanation.notes.contains("non-ASCII text segmented and folded with ICU"))
}

@Test func wordOutsideTheVocabularyIsNotCorrectedToAnEnglishWord() throws {
    let brain = try readingBrain.get()
    // "recieve" is a common misspelling, but the brain does not know "receive": nothing to correct it to.
    let (_, explanation) = brain.explain("i lost my recieve")
    #expect(explanation.reading(of: "recieve")?.status == "unknown")
    #expect(explanation.normalized.last == "?recieve")
}

@Test func typoIsCorrectedOnlyToAWordTheBrainKnows() throws {
    let brain = try readingBrain.get()
    let (turn, explanation) = brain.explain("i lost my reciept")
    #expect(turn.intent == "receipt")
    #expect(explanation.reading(of: "reciept")?.detail == "receipt (1 edit)")
}

@Test func inflectedWordIsReadThroughItsStem() throws {
    let brain = try readingBrain.get()
    let (_, explanation) = brain.explain("renewing passports")
    #expect(explanation.reading(of: "renewing")?.status == "stem")
    #expect(explanation.reading(of: "renewing")?.detail == "renew")
    #expect(explanation.reading(of: "passports")?.status == "stem")
    #expect(explanation.normalized == ["renew", "passport"])
}

@Test func renewingMyPassportMatchesThePatternForRenew() throws {
    let brain = try readingBrain.get()
    #expect(brain.reply(to: "Renewing my passports", in: ConversationState()).intent == "passport.renew")
}

// MARK: - Protected terms

@Test func referenceIsNeverCorrectedToAnotherReference() throws {
    let brain = try readingBrain.get()
    let (turn, explanation) = brain.explain("status of ticket T-1042")
    #expect(explanation.reading(of: "T-1042")?.status == "protected")
    #expect(explanation.reading(of: "T-1042")?.detail == "reference")
    // Not read as the pattern's "t-1043": the typed capture takes it instead.
    #expect(turn.intent == "ticket.status")
    #expect(turn.captures == ["t": "T-1042"])
    #expect(explanation.patternMatches.map(\.pattern) == ["status of [ticket] {t:ticket}"])
}

@Test
func referenceInSmartQuotesIsStillATicket() throws {
    let brain = try readingBrain.get()
    let turn = brain.reply(to: "status of “T-1042”", in: ConversationState())
    #expect(turn.intent == "ticket.status")
    #expect(turn.captures == ["t": "T-1042"])
}

@Test func numberIsNeverCorrectedToAnotherNumber() throws {
    let brain = try readingBrain.get()
    let (turn, explanation) = brain.explain("room 1042")
    #expect(explanation.reading(of: "1042")?.status == "protected")
    #expect(explanation.reading(of: "1042")?.detail == "number")
    #expect(turn.evidence != .pattern)
    #expect(brain.reply(to: "room 1043", in: ConversationState()).intent == "room")
}

@Test
func carIsNotReadAsCard() throws {
    let brain = try brain(
        intents: """
            - id: lost.card
              patterns: ["i lost my card"]
              reply: "Block your card."
            """)
    let (turn, explanation) = brain.explain("I lost my car")
    #expect(explanation.reading(of: "car")?.status == "unknown")
    #expect(turn.evidence != .pattern)
}

@Test func wordWithDigitsIsNeverCorrected() throws {
    let brain = try readingBrain.get()
    let (_, explanation) = brain.explain("change my home2 address")
    #expect(explanation.reading(of: "home2")?.status == "unknown")
}

@Test func protectedWordIsNeverCorrected() throws {
    var settings = PolicySettings()
    settings.protectedWords = ["Rome"]
    let guarded = try brain(intents: passportIntents, settings: settings)
    let (turn, explanation) = guarded.explain("change my Rome address")
    #expect(explanation.reading(of: "Rome")?.status == "unknown")
    #expect(turn.evidence != .pattern)
}

@Test func unprotectedPlaceNameCloseToAWordIsCorrected() throws {
    let open = try readingBrain.get()
    let (turn, explanation) = open.explain("change my Rome address")
    #expect(explanation.reading(of: "Rome")?.status == "corrected")
    #expect(explanation.reading(of: "Rome")?.detail == "home (1 edit)")
    #expect(turn.intent == "address")
}

// MARK: - Substitutions

@Test(arguments: ["I don't have a passport", "I don’t have a passport", "i DON'T have a passport"])
func contractionIsExpandedBeforeMatching(_ message: String) throws {
    let brain = try readingBrain.get()
    let (turn, explanation) = brain.explain(message)
    #expect(turn.intent == "passport.renew")
    #expect(explanation.notes.contains("substitution 'don't' → 'do not'"))
    #expect(explanation.normalized == ["i", "do", "not", "have", "a", "passport"])
}

@Test func substitutionAppliesToContentAsWellAsMessages() throws {
    let brain = try brain(
        intents: """
            - id: lost.id
              patterns: ["lost my idcard"]
              reply: "Report it."
            """,
        substitutions: contractions)
    #expect(brain.reply(to: "lost my id card", in: ConversationState()).intent == "lost.id")
    #expect(brain.reply(to: "lost my idcard", in: ConversationState()).intent == "lost.id")
}

@Test func numberWordsAreNotedInTheExplanation() throws {
    let brain = try readingBrain.get()
    let (_, explanation) = brain.explain("room one thousand and forty three")
    #expect(explanation.notes.contains("number words 'one thousand and forty three' read as 1043"))
}

@Test func roomNumberInWordsMatchesThePatternWrittenInDigits() throws {
    let brain = try readingBrain.get()
    #expect(brain.reply(to: "room one thousand and forty three", in: ConversationState()).intent == "room")
}

// MARK: - Misspelt words read by the words around them

private let contextIntents = """
    - id: card.lost
      patterns: ["report a lost [my] id card"]
      reply: "Report it online."
    - id: licence.driving
      patterns: ["renew my driving licence"]
      reply: "Renew it at the service desk."
    - id: licence.living
      patterns: ["living abroad", "living abroad *", "i am living abroad"]
      reply: "Services for citizens abroad."
    - id: cake.order
      patterns: ["order a cake"]
      reply: "The bakery takes orders."
    - id: case.order
      patterns: ["order a case"]
      reply: "Case files can be ordered."
    - id: task.list
      patterns: ["where is my task list"]
      reply: "Your task list is in your account."
    """

private let contextBrain = Result {
    var settings = PolicySettings()
    settings.protectedWords = ["Kask"]
    return try brain(intents: contextIntents, settings: settings)
}

@Test func shortWordWithALetterMissingIsReadAsTheWordThePatternNeeds() throws {
    let brain = try contextBrain.get()
    let (turn, explanation) = brain.explain("report a los my id card")
    #expect(turn.intent == "card.lost")
    #expect(turn.evidence == .pattern)
    #expect(explanation.notes.contains { $0.hasPrefix("'los' read as 'lost', so that pattern") })
    // The word alone is still left as it is: only the words around it make the reading sure.
    #expect(explanation.reading(of: "los")?.status == "unknown")
    #expect(brain.reply(to: "los", in: ConversationState()).intent == nil)
}

@Test func misspeltWordCorrectedToTheWrongWordIsReadAgainByItsPattern() throws {
    let brain = try contextBrain.get()
    // On its own "diving" is corrected to the more frequent "living"; the pattern's words show it is "driving".
    let (turn, explanation) = brain.explain("renew my diving licence")
    #expect(turn.intent == "licence.driving")
    #expect(explanation.notes.contains { $0.hasPrefix("'diving' read as 'driving'") })
}

@Test func misspeltWordThatFitsPatternsOfTwoIntentsGetsNoPatternAnswer() throws {
    let brain = try contextBrain.get()
    // "cae" is one letter short of both "cake" and "case".
    let (turn, explanation) = brain.explain("order a cae")
    #expect(turn.evidence != .pattern)
    #expect(turn.intent == nil)
    #expect(explanation.notes.contains { $0.contains("more than one intent") })
}

@Test func protectedNameIsNeverReadAsAnotherWord() throws {
    let brain = try contextBrain.get()
    let turn = brain.reply(to: "where is my kask list", in: ConversationState())
    #expect(turn.evidence != .pattern)
    #expect(brain.reply(to: "where is my tsk list", in: ConversationState()).intent == "task.list")
}
