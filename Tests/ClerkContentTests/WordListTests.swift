import ClerkContent
import ClerkEngine
import Testing

private func at(_ file: String, _ line: Int, _ column: Int) -> ClerkEngine.SourceLocation {
    ClerkEngine.SourceLocation(file: file, line: line, column: column)
}

private let concepts = "intents/concepts.yaml"
private let substitutions = "intents/substitutions.yaml"

@Test func conceptsAreReadWithTheirWordsAndPlaces() {
    let yaml = """
        document: [passport, id card, "driving licence"]
        fee:
          - price
          - cost
        """
    let (result, problems) = ContentLoader.parseConcepts(yaml: yaml, file: concepts)
    #expect(problems.isEmpty)
    #expect(
        result == [
            ConceptDefinition(
                name: Located("document", at: at(concepts, 1, 1)),
                members: [
                    Located("passport", at: at(concepts, 1, 12)), Located("id card", at: at(concepts, 1, 22)),
                    Located("driving licence", at: at(concepts, 1, 32)),
                ]),
            ConceptDefinition(
                name: Located("fee", at: at(concepts, 2, 1)),
                members: [Located("price", at: at(concepts, 3, 5)), Located("cost", at: at(concepts, 4, 5))]),
        ])
}

@Test func conceptNameWithCapitalsOrSpacesSuggestsALowerCaseName() {
    let problems = ContentLoader.parseConcepts(yaml: "Document Type: [passport]\n", file: concepts).problems
    #expect(
        problems == [
            ContentProblem(
                at(concepts, 1, 1),
                "the concept name 'Document Type' may only use lower-case letters a-z, digits and '_' "
                    + "(for example 'document_type')")
        ])
}

@Test func conceptWithNoWordsIsAnError() {
    let problems = ContentLoader.parseConcepts(yaml: "document: []\nfee:\n", file: concepts).problems
    #expect(problems.map(\.location) == [at(concepts, 1, 11), at(concepts, 2, 1)])
    #expect(problems.allSatisfy { $0.message.contains("has no words: add at least one") })
}

@Test func conceptDefinedTwiceIsReportedWithTheFirstPlace() {
    let (result, problems) = ContentLoader.parseConcepts(
        yaml: "fee: [price]\ndocument: [passport]\nfee: [cost]\n", file: concepts)
    #expect(result.map(\.name.value) == ["fee", "document"])
    #expect(
        problems == [
            ContentProblem(
                at(concepts, 3, 1),
                "concept 'fee' is defined twice (first at line 1, column 1): merge the two lists into one")
        ])
}

@Test func wordListedTwiceInAConceptIsAWarning() {
    let problems = ContentLoader.parseConcepts(yaml: "fee: [price, cost, Price]\n", file: concepts).problems
    #expect(problems.map(\.severity) == [.warning])
    #expect(problems.first?.location == at(concepts, 1, 20))
}

@Test func conceptWrittenAsOneWordAsksForAList() {
    let problems = ContentLoader.parseConcepts(yaml: "fee: price\n", file: concepts).problems
    #expect(problems.first?.message.hasPrefix("'fee' should be a list of texts (here it is a single text)") == true)
}

@Test func substitutionsAreReadWithQuotedKeysPointingInsideTheQuotes() {
    let yaml = """
        "don't": do not
        idcard: id card
        e-mail: email
        """
    let (result, problems) = ContentLoader.parseSubstitutions(yaml: yaml, file: substitutions)
    #expect(problems.isEmpty)
    #expect(
        result == [
            SubstitutionDefinition(from: Located("don't", at: at(substitutions, 1, 2)), to: "do not"),
            SubstitutionDefinition(from: Located("idcard", at: at(substitutions, 2, 1)), to: "id card"),
            SubstitutionDefinition(from: Located("e-mail", at: at(substitutions, 3, 1)), to: "email"),
        ])
}

@Test func substitutionWithoutMeaningOrWithAListIsAnError() {
    let (result, problems) = ContentLoader.parseSubstitutions(
        yaml: "idcard:\nemail: [e-mail, mail]\nok: okay\n", file: substitutions)
    #expect(result.map(\.from.value) == ["ok"])
    #expect(problems.map(\.location) == [at(substitutions, 1, 1), at(substitutions, 2, 8)])
    #expect(problems.first?.message.hasPrefix("'idcard' has nothing to be replaced with") == true)
    #expect(problems.last?.message.hasPrefix("'email' should be replaced by a single text (here it is a list)") == true)
}

@Test func substitutionListedTwiceIsReported() {
    let problems = ContentLoader.parseSubstitutions(
        yaml: "idcard: id card\nidcard: identity card\n", file: substitutions
    )
    .problems
    #expect(
        problems == [
            ContentProblem(
                at(substitutions, 2, 1), "'idcard' is listed twice (first at line 1, column 1): keep only one")
        ])
}

@Test func wordFileWrittenAsAListExplainsTheExpectedForm() {
    let problems = ContentLoader.parseSubstitutions(yaml: "- idcard\n- email\n", file: substitutions).problems
    #expect(problems.count == 1)
    #expect(
        problems.first?.message.hasPrefix("this file should be a group of 'key: value' lines (here it is a list)")
            == true)
}
