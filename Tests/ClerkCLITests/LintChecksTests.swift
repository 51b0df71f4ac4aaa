import Foundation
import Testing

/// Content with one planted problem of each kind `clerk lint` looks for beyond loading.
private let plantedFiles = [
    "intents/city.yaml": """
    - id: hours
      patterns: ["opening hours *"]
      reply: "Nine to five."
    - id: library.hours
      patterns: ["opening hours [of] [the] library", "opening hours {place:text}"]
      reply: "The library opens at ten."
    - id: fees
      patterns: ["how much is {service}"]
      reply: "Fees: {service.fee}."
    - id: price
      patterns: ["how much is {service}"]
      reply: "It costs {service.fee}."
    - id: lost
      patterns: ["i lost my ~thing"]
      reply: "Report it."
    - id: parking
      patterns: ["parking"]
      examples: ["opening hours of the library"]
      reply: "Park anywhere."
    - id: badfield
      patterns: ["when is {service} ready"]
      reply: "{service.ready_on}"
    - id: bins
      patterns: ["bin collection"]
      examples: ["when are the bins emptied", "my bin was not emptied", "bins collected on monday"]
      reply: "Bins go out on Mondays."
    - id: glass
      patterns: ["glass recycling"]
      examples:
        - where can i recycle glass
        - bottle bank location
        - when are the bins emptied on monday
      reply: "Bottle banks are at every supermarket."
    """,
    "intents/concepts.yaml": """
    colour: [red, blue]
    """,
    "knowledge/passport.yaml": """
    id: passport
    name: Passport
    agency: Example City
    summary: Lets you travel.
    fee: "€35"
    source: https://example.city/services/passport
    last_reviewed: 2024-01-15
    """,
    "transcripts/city.txt": """
    > opening hours
    @ intent hour
    """,
]

@Test func lintReportsEveryPlantedProblemAtItsLine() async throws {
    let folder = try ContentFolder(plantedFiles)
    defer { folder.remove() }
    let run = try await clerk(["lint", "--content", folder.path])
    #expect(run.status == 1, "\(run)")
    let lines = run.stdout.split(separator: "\n").map(String.init)
    let expected = [
        // Undefined concept: an error, and the intent is left out of the other checks.
        "intents/city.yaml:14:15: error: unknown concept '~thing'",
        // Bad template field.
        "intents/city.yaml:22:11: error: the reply uses {service.ready_on}, but no service has a field 'ready_on'",
        // Shadowed: "opening hours something" goes to the more specific capture of the library intent.
        "intents/city.yaml:2:15: warning: this pattern can lose to 'library.hours'",
        // Clash: two intents accept "how much is Passport" equally.
        "intents/city.yaml:11:15: warning: this pattern clashes with 'fees'",
        // An example another intent's pattern answers.
        "intents/city.yaml:18:15: warning: this example of 'parking' is answered by 'library.hours'",
        // An example that, left out, the scorer gives to another intent, with both scores.
        "intents/city.yaml:32:7: warning: the scorer gives this example of 'glass' to 'bins' when it is not listed ('bins' ",
        // A concept nothing uses.
        "intents/concepts.yaml:1:1: warning: concept 'colour' is not used",
        // A stale knowledge file.
        "knowledge/passport.yaml:7:16: warning: 'passport' was last reviewed",
        // A transcript naming an intent that does not exist.
        "transcripts/city.txt:2:3: error: no intent 'hour' exists (did you mean 'hours'?)",
    ]
    for prefix in expected {
        #expect(lines.contains { $0.hasPrefix(prefix) }, "missing \(prefix) in \(run.stdout)")
    }
    #expect(lines.last?.hasPrefix("3 errors,") == true, "\(run)")
}

@Test func shippedExampleCityContentLintsCleanWithStrict() async throws {
    let run = try await clerk(["lint", "--strict", "--content", packageRoot.path])
    #expect(run.status == 0, "\(run)")
    #expect(run.stdout.contains("0 errors, 0 warnings"), "\(run)")
}
