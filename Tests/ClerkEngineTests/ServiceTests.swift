import ClerkContent
import ClerkEngine
import Testing

/// A small knowledge base: two documents with fee variants, and three services a citizen may call "licence".
private func service(_ id: String, _ name: String, aliases: String, fee: String, time: String = "2 weeks") -> String {
    """
    id: \(id)
    name: \(name)
    aliases: [\(aliases)]
    agency: Example City
    summary: About \(name).
    fee: \(fee)
    processing_time: \(time)
    how_to_apply: {online: "https://example.city/\(id)/apply", post: not possible}
    source: https://example.city/services/\(id)
    last_reviewed: 2026-10-01
    """
}

private let knowledge = [
    "passport": service(
        "passport", "Passport", aliases: "travel document", fee: "{adult: \"€35\", child: \"€20\"}",
        time: "up to 30 days"),
    "id-card": service(
        "id-card", "ID card", aliases: "identity card", fee: "{adult: \"€25\", child: \"€10\"}", time: "up to 21 days"),
    "driving-licence": service(
        "driving-licence", "Driving licence", aliases: "licence, driving license", fee: "\"€45\""),
    "taxi-licence": service("taxi-licence", "Taxi licence", aliases: "licence, cab licence", fee: "\"€150\""),
    "dog-licence": service("dog-licence", "Dog licence", aliases: "licence, dog tag", fee: "\"€60 a year\""),
]

private let intents = """
    - id: service.fee
      patterns: ["how much (is|does) [a|an|the] {service} [cost]", "how much is it"]
      examples: [what do i pay for a passport, price of it]
      reply: "Fees for {service.name}: {service.fee}."
    - id: service.time
      patterns: ["how long does [it|a|an|the] [{service}] take"]
      examples: [how long will it take]
      reply: "Processing time for {service.name}: {service.processing_time}."
    - id: service.apply
      patterns: ["can i apply {variant}", "how (do|can) i apply for [a|an|the] {service}"]
      examples: [how do i apply]
      reply: "How to apply for {service.name}: {service.how_to_apply}."
    - id: follow_up
      follow_up: true
      patterns: ["[and] [what|how] about [a|an|the|my] {service}", "[and] for [a|an|the|my] {variant}"]
      reply: "{service.name}: {service.summary}"
    - id: passport.renew
      service: passport
      patterns: ["renew [my] passport"]
      examples: [my passport ran out what now]
      reply: "Renew it online."
    - id: report
      patterns: ["report [a] problem", "report [a] {problem:text} (on|in|at) {where:text}"]
      slots:
        - {name: problem, type: text, prompt: "What is the problem?"}
        - {name: where, type: text, prompt: "Where is it?"}
      reply: "Noted: {problem} at {where}."
    - id: appointment
      patterns: ["book [an] appointment", "book [an] appointment for [a|an|the] {service}"]
      slots:
        - {name: service, type: service, prompt: "Which service?"}
        - {name: when, type: date, prompt: "Which day?", hint: "That is not a date."}
      reply: "Booked: {service} on {when}."
    - id: greeting
      patterns: [hello]
      reply: Hello!
    - id: human
      action: escalate
      patterns: ["talk to a person"]
      reply: Shall I pass you to a person?
    """

private let concepts = "child: [kid, son, daughter]"

private let serviceBrain = Result { try brain(intents: intents, concepts: concepts, knowledge: knowledge) }

@Test func serviceNamedInTheQuestionAnswersFromItsFileWithTheSourceLink() throws {
    let turn = try serviceBrain.get().reply(to: "How much is a passport?", in: ConversationState())
    #expect(turn.intent == "service.fee")
    #expect(turn.service == "passport")
    #expect(
        turn.messages == ["Fees for Passport: adult: €35; child: €20. Source: https://example.city/services/passport"])
    #expect(turn.links == [TurnLink(title: "Passport", url: "https://example.city/services/passport")])
}

@Test func conversationKeepsTheServiceAndFollowUpsPickVariantsAndSwitchServices() throws {
    let turns = converse(
        try serviceBrain.get(),
        ["how much is a passport", "and for my kid?", "how long does it take", "what about an identity card"])
    #expect(turns[1].messages.first?.hasPrefix("Fees for Passport: child: €20.") == true, "\(turns[1].messages)")
    #expect(turns[2].messages.first?.hasPrefix("Processing time for Passport: up to 30 days.") == true)
    #expect(turns[3].intent == "service.time")
    #expect(turns[3].service == "id-card")
    #expect(turns[3].messages.first?.hasPrefix("Processing time for ID card: up to 21 days.") == true)
}

@Test func misspeltServiceNameIsStillRecognised() throws {
    let turn = try serviceBrain.get().reply(to: "how much is a pasport", in: ConversationState())
    #expect(turn.service == "passport")
}

@Test func wordSharedBySeveralServicesAsksWhichOneWithTheirNames() throws {
    let brain = try serviceBrain.get()
    let turn = brain.reply(to: "how much is a licence", in: ConversationState())
    #expect(turn.outcome == .ask(intent: "service.fee", slot: "service"))
    #expect(turn.messages == ["Which one do you mean: Dog licence, Driving licence or Taxi licence?"])
    #expect(turn.quickReplies == ["Dog licence", "Driving licence", "Taxi licence"])
    for (answer, expected) in [
        ("Taxi licence", "taxi-licence"), ("2", "driving-licence"), ("the dog one", "dog-licence"),
    ] {
        let next = brain.reply(to: answer, in: turn.state)
        #expect(next.intent == "service.fee", "\(answer)")
        #expect(next.service == expected, "\(answer)")
    }
}

@Test func aspectQuestionWithoutAnyServiceAsksWhichService() throws {
    let brain = try serviceBrain.get()
    let turns = converse(brain, ["how much is it", "the passport"])
    #expect(turns[0].outcome == .ask(intent: "service.fee", slot: "service"))
    #expect(turns[1].intent == "service.fee")
    #expect(turns[1].service == "passport")
}

@Test func variantWordOfAGroupedFieldPicksThatPart() throws {
    let turns = converse(try serviceBrain.get(), ["how do i apply for a passport", "can i apply online"])
    #expect(
        turns[1].messages.first?.hasPrefix("How to apply for Passport: online: https://example.city/passport/apply.")
            == true, "\(turns[1].messages)")
}

@Test func intentOfAnotherServiceIsNotChosenWhenTheMessageNamesADifferentOne() throws {
    let brain = try serviceBrain.get()
    #expect(brain.reply(to: "renew my passport", in: ConversationState()).intent == "passport.renew")
    let about = converse(brain, ["how much is an id card", "my passport ran out what now"])
    #expect(about[1].intent == "passport.renew")
    let other = brain.reply(to: "my identity card ran out what now", in: ConversationState())
    #expect(other.intent != "passport.renew")
}

@Test func slotsAreAskedInOrderAndFilledFromTheAnswers() throws {
    let turns = converse(try serviceBrain.get(), ["report a problem", "broken bench", "Park Lane 4"])
    #expect(turns[0].outcome == .ask(intent: "report", slot: "problem"))
    #expect(turns[0].messages == ["What is the problem?"])
    #expect(turns[1].messages == ["Where is it?"])
    #expect(turns[2].intent == "report")
    #expect(turns[2].messages == ["Noted: broken bench at Park Lane 4."])
    #expect(turns[2].slots == ["problem": "broken bench", "where": "Park Lane 4"])
}

@Test func slotsCapturedByThePatternAreNotAskedAgain() throws {
    let turn = try serviceBrain.get().reply(to: "report a fallen tree on Oak Road", in: ConversationState())
    #expect(turn.messages == ["Noted: fallen tree at Oak Road."])
}

@Test func invalidAnswerIsAskedAgainWithTheHintAndTooManyOfferAPerson() throws {
    let brain = try serviceBrain.get()
    let turns = converse(brain, ["book an appointment", "passport", "whenever", "soon", "later"])
    #expect(turns[0].messages == ["Which service?"])
    #expect(turns[1].messages == ["Which day?"])
    #expect(turns[2].messages == ["That is not a date. Which day?"])
    #expect(turns[3].messages == ["That is not a date. Which day?"])
    #expect(turns[4].state.pendingHandoff == .unansweredQuestion)
    #expect(turns[4].quickReplies == ["Yes", "No"])
    let booked = converse(brain, ["book an appointment for a passport", "28 November"])
    #expect(booked[1].messages.first?.hasPrefix("Booked: Passport on 28 November.") == true, "\(booked[1].messages)")
}

@Test func clearRequestDuringAQuestionChangesTheSubject() throws {
    let turns = converse(try serviceBrain.get(), ["report a problem", "talk to a person"])
    #expect(turns[1].intent == "human")
    #expect(turns[1].state.pending == nil)
}

@Test func shortAnswerToAFreeTextQuestionIsTakenAsTheAnswerEvenIfItIsAPattern() throws {
    let turns = converse(try serviceBrain.get(), ["report a problem", "hello"])
    #expect(turns[1].outcome == .ask(intent: "report", slot: "where"))
    #expect(turns[1].state.pending?.values == ["problem": "hello"])
}

@Test func typedAnswerIsTakenEvenWhenItAlsoMatchesAnotherPattern() throws {
    let turns = converse(try serviceBrain.get(), ["book an appointment", "passport"])
    #expect(turns[1].outcome == .ask(intent: "appointment", slot: "when"))
    #expect(turns[1].state.pending?.values == ["service": "passport"])
}

@Test func replyReadingAFieldNoServiceHasIsACompileError() throws {
    let content = source(
        intents: """
            - id: bad
              patterns: ["{service} opening"]
              reply: "{service.opening_times}"
            """, knowledge: ["passport": knowledge["passport"]!])
    let (compiled, problems) = Brain.compile(content)
    #expect(compiled == nil)
    #expect(
        problems.map(\.message) == [
            "the reply uses {service.opening_times}, but no service has a field 'opening_times'"
        ])
}

@Test func intentNamingAnUnknownServiceIsACompileErrorWithASuggestion() throws {
    let content = source(
        intents: """
            - id: renew
              service: pasport
              patterns: [renew]
              reply: Renew.
            """, knowledge: ["passport": knowledge["passport"]!])
    let (_, problems) = Brain.compile(content)
    #expect(
        problems.map(\.message) == [
            "intent 'renew' names service 'pasport', but no knowledge file defines it (did you mean 'passport'?)"
        ])
}
