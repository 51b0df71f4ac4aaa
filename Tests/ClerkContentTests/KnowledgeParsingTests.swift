import ClerkContent
import ClerkEngine
import Foundation
import Testing

private func parse(_ yaml: String, file: String = "knowledge/passport.yaml") -> (ServiceDefinition?, [String]) {
    let (service, problems) = ContentLoader.parseService(yaml: yaml, file: file)
    return (service, problems.map(\.description))
}

private let complete = """
    id: passport
    name: Passport
    aliases: [travel document]
    agency: Example City Population Register
    summary: Lets you travel.
    documents: [one photo]
    fee: {adult: "€35", child: "€20"}
    how_to_apply: {online: "https://example.city/passport"}
    source: https://example.city/services/passport
    last_reviewed: 2026-10-01
    """

@Test func completeKnowledgeFileGivesTheServiceWithEveryField() throws {
    let (service, problems) = parse(complete)
    #expect(problems == [])
    let passport = try #require(service)
    #expect(passport.id.value == "passport")
    #expect(passport.aliases.map(\.value) == ["travel document"])
    let fields = FieldValue.map(passport.fields)
    #expect(fields.value(at: ["fee", "child"]) == .text("€20"))
    #expect(fields.value(at: ["documents"]) == .list(["one photo"]))
}

@Test func missingRequiredFieldIsReportedAtTheFileWithTheLineToAdd() {
    let (_, problems) = parse(complete.replacingOccurrences(of: "agency: Example City Population Register\n", with: ""))
    #expect(problems.count == 1)
    #expect(problems.first?.hasPrefix("knowledge/passport.yaml:1:1: error: this service has no 'agency'") == true)
}

@Test func malformedReviewDateIsReportedAtItsLineAndColumn() {
    let (_, problems) = parse(complete.replacingOccurrences(of: "2026-10-01", with: "2026-13-45"))
    #expect(
        problems == [
            "knowledge/passport.yaml:10:16: error: '2026-13-45' is not a date: write last_reviewed as "
                + "YEAR-MONTH-DAY, like 2026-10-01"
        ])
}

@Test func sourceThatIsNotAWebAddressIsAnError() {
    let (_, problems) = parse(
        complete.replacingOccurrences(of: "https://example.city/services/passport", with: "see website"))
    #expect(
        problems == [
            "knowledge/passport.yaml:9:9: error: 'see website' is not a web address: 'source' should start with https://"
        ])
}

@Test func idThatDiffersFromTheFileNameIsAnError() {
    let (_, problems) = parse(complete, file: "knowledge/passports.yaml")
    #expect(problems.first?.contains("should be the file name without '.yaml' ('passports')") == true)
}

@Test func misspeltKeySuggestsTheRightOne() {
    let (_, problems) = parse(complete.replacingOccurrences(of: "summary:", with: "sumary:"))
    #expect(problems.contains("knowledge/passport.yaml:5:1: error: unknown key 'sumary' (did you mean 'summary'?)"))
}

@Test func knowledgeFolderResolvesOfficesAndReportsUnknownOnes() throws {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("clerk-knowledge-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: root) }
    try FileManager.default.createDirectory(
        at: root.appendingPathComponent("knowledge"), withIntermediateDirectories: true)
    try FileManager.default.createDirectory(
        at: root.appendingPathComponent("intents"), withIntermediateDirectories: true)
    try "- id: hi\n  patterns: [hi]\n  reply: Hi.\n".write(
        to: root.appendingPathComponent("intents/general.yaml"), atomically: true, encoding: .utf8)
    try """
    - id: service-centre
      name: Service Centre
      address: 1 Main Street
      opening_hours: 9–17
    """.write(to: root.appendingPathComponent("knowledge/offices.yaml"), atomically: true, encoding: .utf8)
    try (complete + "\noffice: service-centre\n").write(
        to: root.appendingPathComponent("knowledge/passport.yaml"), atomically: true, encoding: .utf8)
    try (complete.replacingOccurrences(of: "id: passport", with: "id: id-card") + "\noffice: servce-centre\n").write(
        to: root.appendingPathComponent("knowledge/id-card.yaml"), atomically: true, encoding: .utf8)
    let (source, problems) = ContentLoader(root: root).loadSource()
    #expect(
        problems.map(\.description) == [
            "knowledge/id-card.yaml:11:9: error: unknown office 'servce-centre' (did you mean 'service-centre'?): "
                + "offices are listed in knowledge/offices.yaml"
        ])
    let passport = try #require(source.services.first { $0.id.value == "passport" })
    #expect(FieldValue.map(passport.fields).value(at: ["office", "address"]) == .text("1 Main Street"))
}
