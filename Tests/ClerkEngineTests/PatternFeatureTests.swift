import ClerkContent
import ClerkEngine
import Foundation
import Testing

/// One intent per pattern feature; each reply shows what was captured.
private let featureIntents = """
    - id: hours
      patterns: ["opening hours"]
      reply: "We are open 9 to 5."
    - id: name
      patterns: ["my name is *"]
      reply: "Hello {1}!"
    - id: fee
      patterns: ["how much is [a] passport"]
      reply: "A passport costs 35 euro."
    - id: renew
      patterns: ["(renew|extend) my passport"]
      reply: "Renew online."
    - id: book
      patterns: ["book [an|the] appointment"]
      reply: "Book online."
    - id: licence
      patterns: ["(driving license|id card) renewal"]
      reply: "Renew at the desk."
    - id: lost
      patterns: ["i lost my ~document"]
      reply: "Report your lost {document}."
    - id: copies
      patterns: ["i need {n:number} copies"]
      reply: "{n} copies coming."
    - id: appointment
      patterns: ["appointment on {d:date}"]
      reply: "See you on {d}."
    - id: status
      patterns: ["status of {t:ticket}"]
      reply: "Ticket {t} is open."
    - id: office
      patterns: ["offices near {p:postcode}"]
      reply: "Offices near {p}."
    - id: between
      patterns: ["from * to *"]
      reply: "From {1} to {2}."
    """

private let featureConcepts = """
    document: [passport, id card, residence permit]
    """

private let featureBrain = Result { try brain(intents: featureIntents, concepts: featureConcepts) }

struct PatternCase: Sendable, CustomTestStringConvertible {
    var message: String
    var intent: String
    var reply: String
    var captures: [String: String] = [:]
    var testDescription: String { "\"\(message)\" → \(intent)" }
}

@Test(
    arguments: [
        // Plain words, matched whatever the case, accents and punctuation.
        PatternCase(message: "opening hours", intent: "hours", reply: "We are open 9 to 5."),
        PatternCase(message: "Opening HOURS?!", intent: "hours", reply: "We are open 9 to 5."),
        PatternCase(message: "Ópening hóurs", intent: "hours", reply: "We are open 9 to 5."),
        // `*` keeps what the citizen wrote, accents and case included.
        PatternCase(
            message: "My name is Zoë Ångström", intent: "name", reply: "Hello Zoë Ångström!",
            captures: ["1": "Zoë Ångström"]),
        PatternCase(message: "my name is BOB", intent: "name", reply: "Hello BOB!", captures: ["1": "BOB"]),
        PatternCase(
            message: "from Main Street to the Town Hall", intent: "between",
            reply: "From Main Street to the Town Hall.",
            captures: ["1": "Main Street", "2": "the Town Hall"]),
        // `[optional]`.
        PatternCase(message: "how much is a passport", intent: "fee", reply: "A passport costs 35 euro."),
        PatternCase(message: "how much is passport", intent: "fee", reply: "A passport costs 35 euro."),
        // `(a|b)`.
        PatternCase(message: "renew my passport", intent: "renew", reply: "Renew online."),
        PatternCase(message: "extend my passport", intent: "renew", reply: "Renew online."),
        // `[a|b]`.
        PatternCase(message: "book appointment", intent: "book", reply: "Book online."),
        PatternCase(message: "book an appointment", intent: "book", reply: "Book online."),
        PatternCase(message: "book the appointment", intent: "book", reply: "Book online."),
        // Alternatives of several words.
        PatternCase(message: "driving license renewal", intent: "licence", reply: "Renew at the desk."),
        PatternCase(message: "ID card renewal", intent: "licence", reply: "Renew at the desk."),
        // `~concept`, with one-word and multi-word members, captured as written.
        PatternCase(
            message: "I lost my passport", intent: "lost", reply: "Report your lost passport.",
            captures: ["document": "passport"]),
        PatternCase(
            message: "I lost my ID card", intent: "lost", reply: "Report your lost ID card.",
            captures: ["document": "ID card"]),
        PatternCase(
            message: "i lost my Residence Permit!", intent: "lost", reply: "Report your lost Residence Permit.",
            captures: ["document": "Residence Permit"]),
        // `{n:number}`, in digits or words.
        PatternCase(message: "I need 3 copies", intent: "copies", reply: "3 copies coming.", captures: ["n": "3"]),
        PatternCase(
            message: "I need three copies", intent: "copies", reply: "three copies coming.", captures: ["n": "three"]),
        PatternCase(
            message: "i need twenty one copies", intent: "copies", reply: "twenty one copies coming.",
            captures: ["n": "twenty one"]),
        // `{d:date}`: ISO, dotted, spoken, relative.
        PatternCase(
            message: "appointment on 2026-11-28", intent: "appointment", reply: "See you on 2026-11-28.",
            captures: ["d": "2026-11-28"]),
        PatternCase(
            message: "appointment on 28.11.2026", intent: "appointment", reply: "See you on 28.11.2026.",
            captures: ["d": "28.11.2026"]),
        PatternCase(
            message: "appointment on 28 November 2026", intent: "appointment", reply: "See you on 28 November 2026.",
            captures: ["d": "28 November 2026"]),
        PatternCase(
            message: "appointment on 28 november", intent: "appointment", reply: "See you on 28 november.",
            captures: ["d": "28 november"]),
        PatternCase(
            message: "appointment on November 28", intent: "appointment", reply: "See you on November 28.",
            captures: ["d": "November 28"]),
        PatternCase(
            message: "appointment on tomorrow", intent: "appointment", reply: "See you on tomorrow.",
            captures: ["d": "tomorrow"]),
        PatternCase(
            message: "Appointment on Friday", intent: "appointment", reply: "See you on Friday.",
            captures: ["d": "Friday"]),
        // `{t:ticket}`.
        PatternCase(
            message: "status of T-1042", intent: "status", reply: "Ticket T-1042 is open.", captures: ["t": "T-1042"]),
        // `{p:postcode}`.
        PatternCase(
            message: "offices near 12345", intent: "office", reply: "Offices near 12345.", captures: ["p": "12345"]),
    ])
func patternFeatureMatchesTheWholeMessage(_ example: PatternCase) throws {
    let brain = try featureBrain.get()
    let turn = brain.reply(to: example.message, in: ConversationState())
    #expect(turn.outcome == .answer(intent: example.intent, confidence: 1, via: .pattern))
    #expect(turn.messages == [example.reply])
    #expect(turn.captures == example.captures)
}

@Test(
    arguments: [
        "opening",  // a pattern must cover the whole message
        "opening hours today",
        "my name is",  // `*` needs at least one word
        "how much is the a passport",
        "replace my passport",  // not among the alternatives
        "book a an appointment",
        "i lost my wallet",  // not in the concept
        "i need some copies",  // not a number
        "appointment on someday",  // not a date
        "appointment on 2026-13",
        "status of 1042",  // not a reference
        "offices near 1234",  // four digits are no postcode
        "offices near 123456",
    ])
func messageThatNoPatternCoversIsNotAnsweredByAPattern(_ message: String) throws {
    let brain = try featureBrain.get()
    let turn = brain.reply(to: message, in: ConversationState())
    #expect(turn.evidence != .pattern)
}

@Test func replyVariantNeedingAValueTheMessageDidNotGiveIsSkipped() throws {
    let brain = try brain(
        intents: """
            - id: appointment.book
              patterns: ["book an appointment for {when:date}", "book an appointment"]
              examples: ["i would like to book an appointment at the service centre please"]
              reply:
                - "Booked for {when}."
                - "Book at the desk."
            - id: other
              examples: ["opening hours of the library"]
              reply: "Nine to five."
            """)
    let dated = brain.reply(to: "book an appointment for tomorrow", in: ConversationState())
    #expect(dated.messages == ["Booked for tomorrow."])
    let undated = brain.reply(to: "book an appointment", in: ConversationState())
    #expect(undated.intent == "appointment.book")
    #expect(undated.messages == ["Book at the desk."])
    let fromExamples = brain.reply(
        to: "i would like to book an appointment at the service centre", in: ConversationState())
    #expect(fromExamples.evidence == .examples)
    #expect(fromExamples.messages == ["Book at the desk."])
}

@Test func patternAnswerIsExplainedWithTheWinningPatternAndItsLocation() throws {
    let brain = try featureBrain.get()
    let (turn, explanation) = brain.explain("I lost my ID card")
    #expect(turn.intent == "lost")
    #expect(explanation.outcome == "answer")
    #expect(explanation.intent == "lost")
    #expect(explanation.confidence == 1)
    #expect(explanation.reason.contains("i lost my ~document"))
    #expect(explanation.reason.contains("(intents/test.yaml:20:15)"))
    let match = try #require(explanation.patternMatches.first { $0.intent == "lost" })
    #expect(match.literalWords == 3)
    #expect(match.typedElements == 1)
    #expect(match.wildcards == 0)
    #expect(match.eligible)
    #expect(explanation.messages == ["Report your lost ID card."])
}

// MARK: - Pattern syntax

@Test func patternLanguageParsesIntoElements() throws {
    let pattern = try Pattern.parse("[how] [can|do] i (renew|extend) [my] passport * ~document {when:date}")
    #expect(
        pattern.elements == [
            .group([[.word("how")]], optional: true),
            .group([[.word("can")], [.word("do")]], optional: true),
            .word("i"),
            .group([[.word("renew")], [.word("extend")]], optional: false),
            .group([[.word("my")]], optional: true),
            .word("passport"),
            .wildcard,
            .concept("document"),
            .slot(name: "when", type: .date),
        ])
}

@Test func consecutiveWordsOfAPatternStayOneLiteral() throws {
    #expect(try Pattern.parse("how much is it").elements == [.word("how much is it")])
    #expect(
        try Pattern.parse("(driving license|id card) lost").elements == [
            .group([[.word("driving license")], [.word("id card")]], optional: false), .word("lost"),
        ])
}

struct SyntaxCase: Sendable, CustomTestStringConvertible {
    var pattern: String
    var offset: Int
    var messageStart: String
    var testDescription: String { "\"\(pattern)\" fails at \(offset)" }
}

@Test(
    arguments: [
        SyntaxCase(pattern: "", offset: 0, messageStart: "the pattern is empty"),
        SyntaxCase(pattern: "[please] [now]", offset: 0, messageStart: "every part of this pattern is optional"),
        SyntaxCase(pattern: "renew|extend passport", offset: 5, messageStart: "'|' separates alternatives"),
        SyntaxCase(pattern: "renew (passport", offset: 15, messageStart: "missing ')'"),
        SyntaxCase(pattern: "renew passport)", offset: 14, messageStart: "')' without a matching '('"),
        SyntaxCase(pattern: "renew (passport]", offset: 15, messageStart: "found ']' where ')' was expected"),
        SyntaxCase(pattern: "renew (|passport)", offset: 7, messageStart: "empty alternative before '|'"),
        SyntaxCase(pattern: "renew () passport", offset: 7, messageStart: "empty group '()'"),
        SyntaxCase(pattern: "renew [*]", offset: 6, messageStart: "'*' cannot be optional"),
        SyntaxCase(pattern: "lost ~ passport", offset: 5, messageStart: "'~' must be followed by a concept name"),
        SyntaxCase(pattern: "on {when:dates}", offset: 9, messageStart: "unknown capture type 'dates'"),
        SyntaxCase(pattern: "on {when}", offset: 8, messageStart: "a capture needs a type after ':'"),
        SyntaxCase(pattern: "on {:date}", offset: 3, messageStart: "a capture needs a name and a type"),
        SyntaxCase(pattern: "on {when:date", offset: 13, messageStart: "missing '}'"),
        SyntaxCase(pattern: "on when}", offset: 7, messageStart: "'}' without a matching '{'"),
    ])
func badPatternSyntaxPointsAtTheFaultyCharacter(_ example: SyntaxCase) {
    let error = #expect(throws: Pattern.SyntaxError.self) {
        try Pattern.parse(example.pattern)
    }
    #expect(error?.offset == example.offset)
    #expect(error?.message.hasPrefix(example.messageStart) == true, "\(String(describing: error?.message))")
}

// MARK: - Captures and literals in more detail

private let detailBrain = Result {
    try brain(
        intents: """
            - id: tell
              patterns: ["(tell me about *|explain *) please"]
              reply: "About {1}."
            - id: copies
              patterns: ["i need two copies"]
              reply: "Two copies."
            - id: mail
              patterns: ["write to anna@example.city"]
              reply: "Write to Anna."
            - id: amount
              patterns: ["pay {n:number} euro"]
              reply: "Paying {n}."
            - id: lost
              patterns: ["i lost my ~document"]
              reply: "Lost: {document}."
            - id: citizen
              patterns: ["citizen card"]
              reply: "Citizen card."
            - id: period
              patterns: ["from {a:date} to {b:date}"]
              reply: "{a} until {b}."
            - id: long
              patterns: ["* passport * renew *"]
              reply: "Long."
            """, concepts: "document: [passport, id card]")
}

@Test(
    arguments: [
        PatternCase(
            message: "tell me about the library please", intent: "tell", reply: "About the library.",
            captures: ["1": "the library"]),
        PatternCase(message: "explain taxes please", intent: "tell", reply: "About taxes.", captures: ["1": "taxes"]),
        PatternCase(message: "I need 2 copies", intent: "copies", reply: "Two copies."),
        PatternCase(message: "i need two copies!!!", intent: "copies", reply: "Two copies."),
        PatternCase(message: "write to Anna@Example.city", intent: "mail", reply: "Write to Anna."),
        PatternCase(message: "pay 1,000 euro", intent: "amount", reply: "Paying 1,000.", captures: ["n": "1,000"]),
        PatternCase(message: "pay 3.5 euro", intent: "amount", reply: "Paying 3.5.", captures: ["n": "3.5"]),
        PatternCase(
            message: "pay one thousand euro", intent: "amount", reply: "Paying one thousand.",
            captures: ["n": "one thousand"]),
        PatternCase(
            message: "i lost my id crad", intent: "lost", reply: "Lost: id crad.", captures: ["document": "id crad"]),
        PatternCase(message: "citizen's card", intent: "citizen", reply: "Citizen card."),
        PatternCase(
            message: "from 1 May to 3 June", intent: "period", reply: "1 May until 3 June.",
            captures: ["a": "1 May", "b": "3 June"]),
        PatternCase(
            message: "from today to 28/11/26", intent: "period", reply: "today until 28/11/26.",
            captures: ["a": "today", "b": "28/11/26"]),
    ])
func captureKeepsWhatWasTypedAndLiteralsMatchAnyWriting(_ example: PatternCase) throws {
    let brain = try detailBrain.get()
    let turn = brain.reply(to: example.message, in: ConversationState())
    #expect(turn.outcome == .answer(intent: example.intent, confidence: 1, via: .pattern))
    #expect(turn.messages == [example.reply])
    #expect(turn.captures == example.captures)
}

@Test func longMessageWithManyWildcardSplitsIsAnsweredQuickly() throws {
    let brain = try detailBrain.get()
    let words = (0..<400).map { $0 % 7 == 0 ? "passport" : $0 % 11 == 0 ? "renew" : "word\($0 % 5)" }
    let clock = ContinuousClock()
    var turn: Turn?
    let elapsed = clock.measure { turn = brain.reply(to: words.joined(separator: " "), in: ConversationState()) }
    #expect(turn?.intent == "long")
    #expect(elapsed < .seconds(2))
}

@Test func emptyMessageIsAMiss() throws {
    let brain = try detailBrain.get()
    #expect(brain.reply(to: "", in: ConversationState()).outcome == .miss)
    #expect(brain.reply(to: " ?! ", in: ConversationState()).outcome == .miss)
}

@Test func explanationSurvivesAJSONRoundTrip() throws {
    let brain = try detailBrain.get()
    let (_, explanation) = brain.explain("i lost my id crad")
    let data = try JSONEncoder().encode(explanation)
    #expect(try JSONDecoder().decode(Explanation.self, from: data) == explanation)
}
