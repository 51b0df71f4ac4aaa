import ClerkContent
import ClerkEngine
import Testing

private let file = "config/engine.yaml"

private func at(_ line: Int, _ column: Int) -> ClerkEngine.SourceLocation {
    ClerkEngine.SourceLocation(file: file, line: line, column: column)
}

private func parse(_ yaml: String) -> (settings: PolicySettings, language: String, problems: [ContentProblem]) {
    ContentLoader.parseEngineSettings(yaml: yaml, file: file)
}

@Test func emptyEngineFileKeepsEveryDefault() {
    for yaml in ["", "# settings come later\n"] {
        let result = parse(yaml)
        #expect(result.settings == PolicySettings())
        #expect(result.language == "english")
        #expect(result.problems.isEmpty)
    }
}

@Test func everySettingIsRead() {
    let yaml = """
        answer_threshold: 0.7
        clarify_threshold: 0.5
        clarify_margin: 0.1
        misses_before_escalation: 3
        rephrase_message: Pardon?
        escalation_message: Let me find a colleague.
        clarify_message: "Do you mean {options}?"
        protected_words: [Brussels, Dupont]
        language: French
        """
    let (settings, language, problems) = parse(yaml)
    #expect(problems.isEmpty)
    #expect(settings.answerThreshold == 0.7)
    #expect(settings.clarifyThreshold == 0.5)
    #expect(settings.clarifyMargin == 0.1)
    #expect(settings.missesBeforeEscalation == 3)
    #expect(settings.rephraseMessage == "Pardon?")
    #expect(settings.escalationMessage == "Let me find a colleague.")
    #expect(settings.clarifyMessage == "Do you mean {options}?")
    #expect(settings.protectedWords == ["Brussels", "Dupont"])
    #expect(language == "french")
}

@Test func badValuesAreAllReportedAndKeepTheirDefaults() {
    let yaml = """
        answer_threshold: 1.5
        clarify_margin: lots
        misses_before_escalation: 0
        clarify_message: Did you mean one of these?
        rephrase_message: ""
        protected_words: Brussels
        """
    let (settings, _, problems) = parse(yaml)
    #expect(settings == PolicySettings())
    #expect(problems.map(\.location) == [at(1, 19), at(2, 17), at(3, 27), at(4, 18), at(5, 19), at(6, 18)])
    #expect(problems[0].message == "'answer_threshold' should be a number from 0 to 1, like:\n  answer_threshold: 0.62")
    #expect(problems[2].message.hasPrefix("'misses_before_escalation' should be a whole number of at least 1") == true)
    #expect(problems[3].message.hasPrefix("'clarify_message' must contain {options}") == true)
    #expect(problems[4].message.hasPrefix("'rephrase_message' is empty") == true)
    #expect(problems[5].message.hasPrefix("'protected_words' should be a list of texts") == true)
}

@Test func clarifyThresholdAboveAnswerThresholdIsAnError() {
    let problems = parse("answer_threshold: 0.5\nclarify_threshold: 0.6\n").problems
    #expect(problems.count == 1)
    #expect(problems.first?.location == at(2, 20))
    #expect(
        problems.first?.message.hasPrefix("'clarify_threshold' (0.6) must not be above 'answer_threshold' (0.5)")
            == true)
}

@Test func answerThresholdBelowTheDefaultClarifyThresholdIsReportedAtTheAnswerThreshold() {
    let problems = parse("answer_threshold: 0.3\n").problems
    #expect(problems.map(\.location) == [at(1, 19)])
}

@Test func unknownLanguageSuggestsAndListsTheAvailableOnes() {
    let (_, language, problems) = parse("language: englsh\n")
    #expect(language == "english")
    #expect(problems.count == 1)
    #expect(problems.first?.location == at(1, 11))
    let message = problems.first?.message ?? ""
    #expect(
        message.hasPrefix("unknown language 'englsh' (did you mean 'english'?). The languages you can use are: arabic"))
    #expect(message.hasSuffix("turkish, yiddish"))
}

@Test func unknownSettingSuggestsTheRightOne() {
    let problems = parse("answer_treshold: 0.7\nlanguages: english\nmood: happy\n").problems
    #expect(
        problems.map(\.message).prefix(2) == [
            "unknown key 'answer_treshold' (did you mean 'answer_threshold'?)",
            "unknown key 'languages' (did you mean 'language'?)",
        ])
    #expect(
        problems.last?.message.hasPrefix("unknown key 'mood': the keys you can use here are answer_threshold") == true)
}

@Test func supportedLanguagesAreTheSnowballNames() {
    #expect(ContentLoader.supportedLanguages.count == 29)
    #expect(ContentLoader.supportedLanguages.contains("porter"))
}
