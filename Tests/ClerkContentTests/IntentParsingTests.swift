import ClerkContent
import ClerkEngine
import Testing

private let file = "intents/passport.yaml"

private func parse(_ yaml: String) -> (intents: [IntentDefinition], problems: [ContentProblem]) {
    ContentLoader.parseIntents(yaml: yaml, file: file)
}

private func at(_ line: Int, _ column: Int) -> ClerkEngine.SourceLocation {
    ClerkEngine.SourceLocation(file: file, line: line, column: column)
}

@Test func validIntentFileIsReadWithEveryFieldAndLocation() {
    let yaml = """
        - id: passport.renew
          title: Renew a passport
          patterns:
            - "[how] [can|do] i (renew|extend) [my] passport *"
            - 'renew passport'
            - passport renewal
          examples: [I want a new passport]
          reply:
            - "You can renew your passport online."
            - |
              Or come to the desk.
          quick_replies: [Opening hours, Fees]
          context: passport
          requires: [citizen, adult]
          priority: 5
          service: passport
        - id: help.person
          examples:
            - I want to talk to a person
          action: escalate
        """
    let (intents, problems) = parse(yaml)
    #expect(problems.isEmpty)
    #expect(intents.count == 2)
    let renew = intents[0]
    #expect(renew.id == Located("passport.renew", at: at(1, 7)))
    #expect(renew.title == "Renew a passport")
    #expect(
        renew.patterns == [
            Located("[how] [can|do] i (renew|extend) [my] passport *", at: at(4, 8)),
            Located("renew passport", at: at(5, 8)),
            Located("passport renewal", at: at(6, 7)),
        ])
    #expect(renew.examples == [Located("I want a new passport", at: at(7, 14))])
    #expect(renew.replies.map(\.value) == ["You can renew your passport online.", "Or come to the desk.\n"])
    #expect(renew.replies.map(\.location) == [at(9, 8), at(11, 7)])
    #expect(renew.quickReplies == ["Opening hours", "Fees"])
    #expect(renew.setsContext == ["passport"])
    #expect(renew.requires == ["citizen", "adult"])
    #expect(renew.priority == 5)
    #expect(renew.service == "passport")
    #expect(renew.action == nil)
    let help = intents[1]
    #expect(help.action == .escalate)
    #expect(help.replies.isEmpty)
    #expect(help.priority == 0)
}

@Test func positionInsideAQuotedPatternIsTheLocationPlusTheOffset() throws {
    let yaml = "- id: a\n  reply: x\n  patterns:\n    - \"how (renew|extend) passport\"\n"
    let pattern = try #require(parse(yaml).intents.first?.patterns.first)
    let offset = pattern.value.distance(
        from: pattern.value.startIndex, to: try #require(pattern.value.firstIndex(of: "(")))
    let line = yaml.split(separator: "\n")[3]
    let column = line.distance(from: line.startIndex, to: try #require(line.firstIndex(of: "("))) + 1
    #expect(pattern.location.advanced(by: offset) == at(4, column))
}

@Test func unknownKeySuggestsTheRightOne() {
    let yaml = """
        - id: a
          patterns: [hello]
          replies: Hi!
          quick_reply: [Fees]
          titel: Greeting
        """
    let messages = parse(yaml).problems.map(\.message)
    #expect(messages.contains("unknown key 'replies' (did you mean 'reply'?)"))
    #expect(messages.contains("unknown key 'quick_reply' (did you mean 'quick_replies'?)"))
    #expect(messages.contains("unknown key 'titel' (did you mean 'title'?)"))
}

@Test func unknownKeyFarFromEveryKeyListsTheAllowedKeys() {
    let problems = parse("- id: a\n  patterns: [hello]\n  reply: Hi\n  colour: blue\n").problems
    #expect(problems.count == 1)
    #expect(problems.first?.location == at(4, 3))
    #expect(problems.first?.message.hasPrefix("unknown key 'colour': the keys you can use here are id, title") == true)
}

@Test func patternsWrittenAsOneTextExplainHowToWriteAList() {
    let problems = parse("- id: a\n  patterns: how much is a passport\n  reply: Fifty euros.\n").problems
    #expect(
        problems == [
            ContentProblem(
                at(2, 13),
                "'patterns' should be a list of texts (here it is a single text), like:\n"
                    + "  patterns:\n    - \"how much is a passport\"")
        ])
}

@Test func missingReplyIsReportedAtTheIntent() {
    let problems = parse("- id: fees\n  patterns: [fees]\n").problems
    #expect(problems.count == 1)
    #expect(problems.first?.location == at(1, 3))
    #expect(problems.first?.message.hasPrefix("intent 'fees' has no reply") == true)
}

@Test func intentWithoutPatternsOrExamplesSaysNothingCanReachIt() {
    let problems = parse("- id: x\n  reply: Hi\n").problems
    #expect(
        problems == [
            ContentProblem(at(1, 3), "intent 'x' has no patterns and no examples, so nothing can ever reach it")
        ])
}

@Test func intentWithoutIdIsReportedAndLeftOut() {
    let (intents, problems) = parse("- patterns: [hi]\n  reply: Hello\n")
    #expect(intents.isEmpty)
    #expect(problems.map(\.message) == ["this intent has no 'id': add a line like 'id: passport.renew'"])
}

@Test func emptyTextsInListsAreErrors() {
    let problems = parse("- id: a\n  patterns:\n    - hello\n    - \"\"\n  reply: [Hi, '']\n").problems
    #expect(problems.map(\.location) == [at(4, 7), at(5, 15)])
    #expect(problems.allSatisfy { $0.message.hasPrefix("empty text in '") })
}

@Test func patternContainingColonIsExplainedAsNeedingQuotes() {
    let problems = parse("- id: a\n  patterns:\n    - fees: passport\n  reply: Hi\n").problems
    #expect(problems.count == 1)
    #expect(problems.first?.location == at(3, 7))
    #expect(problems.first?.message.contains("put the whole text in quotes") == true)
}

@Test func duplicateIdInOneFileNamesTheFirstPlace() {
    let (intents, problems) = parse("- id: a\n  examples: [x]\n  reply: X\n- id: a\n  examples: [y]\n  reply: Y\n")
    #expect(intents.map(\.replies.first?.value) == ["X"])
    #expect(
        problems == [ContentProblem(at(4, 7), "duplicate intent id 'a' (first defined at intents/passport.yaml:1:7)")])
}

@Test func unknownActionSuggestsEscalate() {
    let problems = parse("- id: a\n  examples: [x]\n  action: escalte\n").problems
    #expect(
        problems.map(\.message) == [
            "unknown action 'escalte' (did you mean 'escalate'?): 'action' can be escalate, ticket_status"
        ])
    #expect(problems.first?.location == at(3, 11))
}

@Test func priorityThatIsNotANumberIsExplained() {
    let problems = parse("- id: a\n  examples: [x]\n  reply: X\n  priority: high\n").problems
    #expect(problems == [ContentProblem(at(4, 13), "'priority' should be a whole number, like:\n  priority: 5")])
}

@Test func fileWrittenAsOneIntentWithoutDashExplainsTheDash() {
    let problems = parse("id: a\nreply: Hi\n").problems
    #expect(problems.count == 1)
    #expect(
        problems.first?.message.hasPrefix("this file should be a list of intents: start each intent with '- '") == true)
}

@Test func emptyIntentFileIsOnlyAWarning() {
    for yaml in ["", "# nothing yet\n", "~\n"] {
        let problems = parse(yaml).problems
        #expect(problems.map(\.severity) == [.warning])
    }
}

@Test func keyWrittenTwiceIsReportedAndTheRestOfTheFileIsStillChecked() {
    let yaml = """
        - id: a
          examples: [x]
          reply: One
          reply: Two
        - id: b
          examples: [y]
          reply: Three
          replys: Four
        """
    let (intents, problems) = parse(yaml)
    #expect(intents.map(\.id.value) == ["a", "b"])
    #expect(intents.first?.replies.map(\.value) == ["One"])
    #expect(
        problems == [
            ContentProblem(at(4, 3), "'reply' is written twice here (first at line 3, column 3): keep only one"),
            ContentProblem(at(8, 3), "unknown key 'replys' (did you mean 'reply'?)"),
        ])
}

@Test func severalErrorsInOneFileAreAllReportedInOrder() {
    let yaml = """
        - id: a
          patterns: how much
          reply: Hi
          reply: Hello
          priority: high
        - id: b
          replies: Hi
        - just a text
        - id: c
          examples: [""]
          reply: Hi
          action: run
        """
    let problems = parse(yaml).problems
    #expect(
        problems.map(\.location) == [
            at(2, 13), at(4, 3), at(5, 13), at(6, 3), at(6, 3), at(7, 3), at(8, 3), at(10, 14), at(12, 11),
        ])
    #expect(problems.count == 9)
    #expect(problems == problems.sorted { $0.location < $1.location })
}
