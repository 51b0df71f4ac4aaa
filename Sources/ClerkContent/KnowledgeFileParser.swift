import ClerkEngine
import Foundation
import Yams

/// Reads `knowledge/*.yaml`: one public service per file, and `knowledge/offices.yaml`, the offices services
/// refer to with `office: ID`. See docs/knowledge-format.md.
struct KnowledgeFileParser {
    static let required = ["id", "name", "agency", "summary", "source", "last_reviewed"]
    static let keys = [
        "id", "name", "aliases", "category", "agency", "summary", "eligibility", "documents", "fee",
        "processing_time", "how_to_apply", "office", "opening_hours", "notes", "source", "last_reviewed",
    ]
    static let officeKeys = ["id", "name", "address", "opening_hours", "phone", "email"]
    static let officeRequired = ["id", "name", "address", "opening_hours"]

    static let hints: [String: String] = [
        "id": "id: passport",
        "name": "name: Passport",
        "aliases": "aliases: [travel document, passports]",
        "category": "category: identity documents",
        "agency": "agency: Example City Population Register",
        "summary": "summary: A passport lets you travel abroad.",
        "eligibility": "eligibility: Citizens of any age.",
        "documents": "documents:\n    - one photo, 40 x 50 mm",
        "fee": "fee: \"€35\"   or   fee: {adult: \"€35\", child: \"€20\"}",
        "processing_time": "processing_time: up to 30 days",
        "how_to_apply":
            "how_to_apply:\n    online: https://example.city/passport\n    in_person: at the Service Centre",
        "office": "office: service-centre",
        "opening_hours": "opening_hours: Monday to Friday 9:00–17:00",
        "notes": "notes: Bring cash or a card.",
        "source": "source: https://example.city/services/passport",
        "last_reviewed": "last_reviewed: 2026-10-01",
        "address": "address: 1 Main Street, Example City",
        "phone": "phone: \"+1 555 0100\"",
        "email": "email: servicecentre@example.city",
    ]

    /// An office, ready to be copied into the services that name it.
    struct Office {
        var id: Located<String>
        var fields: [FieldEntry]
    }

    /// A service before its `office:` reference is resolved.
    struct ParsedService {
        var definition: ServiceDefinition
        var office: Located<String>?
    }

    private var reader: NodeReader

    private init(yaml: String, file: String) {
        reader = NodeReader(YAMLDocument(yaml: yaml, file: file))
    }

    private func hint(_ key: String) -> String { Self.hints[key] ?? key }

    // MARK: Services

    static func parseService(
        yaml: String, file: String, expectedID: String
    ) -> (
        service: ParsedService?, problems: [ContentProblem]
    ) {
        var parser = KnowledgeFileParser(yaml: yaml, file: file)
        let service = parser.readService(expectedID: expectedID)
        return (service, parser.reader.sortedProblems)
    }

    private mutating func readService(expectedID: String) -> ParsedService? {
        guard let root = reader.root else {
            if reader.problems.isEmpty {
                reader.report(
                    reader.document.location(line: 1, column: 1),
                    "this file is empty: describe one service, starting with 'id: \(expectedID)'")
            }
            return nil
        }
        guard case .mapping(let mapping) = root else {
            reader.report(
                root,
                "a knowledge file describes one service as 'key: value' lines (here it is "
                    + "\(NodeReader.describe(root))), like:\n  id: passport\n  name: Passport")
            return nil
        }
        var id: Located<String>?
        var name: Located<String>?
        var aliases: [Located<String>] = []
        var office: Located<String>?
        var reviewed: Located<String>?
        var fields: [FieldEntry] = []
        var seen = Set<String>()
        for entry in reader.entries(of: mapping, allowed: Self.keys) {
            seen.insert(entry.key)
            switch entry.key {
            case "id":
                id = reader.text(entry.value, key: "id", hint: hint("id"))
                if let id, id.value != expectedID {
                    reader.report(
                        id.location,
                        "the id '\(id.value)' should be the file name without '.yaml' ('\(expectedID)'), so "
                            + "editors find each service by its id")
                }
            case "name":
                name = reader.text(entry.value, key: "name", hint: hint("name"))
                if let name { fields.append(FieldEntry("name", .text(name.value))) }
            case "aliases":
                aliases = reader.texts(entry.value, key: "aliases", hint: hint("aliases"), singleAllowed: true) ?? []
            case "office":
                office = reader.text(entry.value, key: "office", hint: hint("office"))
            case "source":
                if let url = reader.text(entry.value, key: "source", hint: hint("source")) {
                    checkURL(url, key: "source")
                    fields.append(FieldEntry("source", .text(url.value)))
                }
            case "last_reviewed":
                if let date = reader.text(entry.value, key: "last_reviewed", hint: hint("last_reviewed")) {
                    if Self.date(date.value) == nil {
                        reader.report(
                            date.location,
                            "'\(date.value)' is not a date: write last_reviewed as YEAR-MONTH-DAY, like 2026-10-01")
                    } else {
                        fields.append(FieldEntry("last_reviewed", .text(date.value)))
                        reviewed = date
                    }
                }
            case "how_to_apply":
                if let value = fieldValue(entry.value, key: entry.key) {
                    if case .map(let ways) = value, case .mapping(let mapping) = entry.value {
                        for way in ways where way.key == "online" {
                            if case .text(let url) = way.value,
                                let node = mapping.first(where: { $0.key.string == "online" })?.value
                            {
                                checkURL(Located(url, at: reader.document.textLocation(of: node)), key: "online")
                            }
                        }
                    }
                    fields.append(FieldEntry(entry.key, value))
                }
            default:
                if let value = fieldValue(entry.value, key: entry.key) { fields.append(FieldEntry(entry.key, value)) }
            }
        }
        for key in Self.required where !seen.contains(key) {
            reader.report(
                reader.document.location(of: root),
                "this service has no '\(key)': add a line like\n  \(hint(key))")
        }
        guard let id, let name else { return nil }
        var definition = ServiceDefinition(id: id, name: name, aliases: aliases, fields: fields)
        definition.lastReviewed = reviewed
        return ParsedService(definition: definition, office: office)
    }

    /// A field as replies will read it: a text, a list of texts, or named texts (one level deep).
    private mutating func fieldValue(_ node: Node, key: String) -> FieldValue? {
        switch node {
        case .scalar(let scalar):
            guard !NodeReader.isEmpty(scalar) else {
                reader.report(node, "'\(key)' is empty: write a value after '\(key):' or remove the line")
                return nil
            }
            return .text(scalar.string)
        case .sequence:
            guard let items = reader.texts(node, key: key, hint: hint(key)) else { return nil }
            return .list(items.map(\.value))
        case .mapping(let mapping):
            var parts: [FieldEntry] = []
            for entry in reader.entries(of: mapping) {
                guard let text = reader.text(entry.value, key: "\(key).\(entry.key)", hint: hint(key)) else {
                    continue
                }
                parts.append(FieldEntry(entry.key, .text(text.value)))
            }
            return parts.isEmpty ? nil : .map(parts)
        case .alias:
            reader.report(node, "'\(key)' uses a YAML reference; write the value itself")
            return nil
        }
    }

    private mutating func checkURL(_ url: Located<String>, key: String) {
        guard let parsed = URL(string: url.value), ["http", "https"].contains(parsed.scheme ?? ""),
            parsed.host != nil
        else {
            reader.report(
                url.location, "'\(url.value)' is not a web address: '\(key)' should start with https://")
            return
        }
    }

    /// A calendar date written YYYY-MM-DD.
    static func date(_ text: String) -> DateComponents? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
            (1...12).contains(month), day >= 1
        else { return nil }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        guard day <= days else { return nil }
        return DateComponents(year: year, month: month, day: day)
    }

    // MARK: Offices

    static func parseOffices(yaml: String, file: String) -> (offices: [Office], problems: [ContentProblem]) {
        var parser = KnowledgeFileParser(yaml: yaml, file: file)
        let offices = parser.readOffices()
        return (offices, parser.reader.sortedProblems)
    }

    private mutating func readOffices() -> [Office] {
        guard let root = reader.root else { return [] }
        guard case .sequence(let items) = root else {
            reader.report(
                root,
                "offices.yaml should be a list of offices, like:\n  - id: service-centre\n"
                    + "    name: Example City Service Centre")
            return []
        }
        var offices: [Office] = []
        for item in items {
            guard case .mapping(let mapping) = item else {
                reader.report(item, "each office should be a group of 'key: value' lines, starting with '- id: …'")
                continue
            }
            var id: Located<String>?
            var fields: [FieldEntry] = []
            var seen = Set<String>()
            for entry in reader.entries(of: mapping, allowed: Self.officeKeys) {
                seen.insert(entry.key)
                guard let text = reader.text(entry.value, key: entry.key, hint: hint(entry.key)) else { continue }
                if entry.key == "id" { id = text } else { fields.append(FieldEntry(entry.key, .text(text.value))) }
            }
            for key in Self.officeRequired where !seen.contains(key) {
                reader.report(item, "this office has no '\(key)': add a line like\n  \(hint(key))")
            }
            if let id { offices.append(Office(id: id, fields: fields)) }
        }
        return offices
    }
}

extension ContentLoader {
    /// Parses one service's knowledge file (`knowledge/ID.yaml`); an `office:` reference is left unresolved.
    public static func parseService(
        yaml: String, file: String
    ) -> (
        service: ServiceDefinition?, problems: [ContentProblem]
    ) {
        let id = ((file as NSString).lastPathComponent as NSString).deletingPathExtension
        let result = KnowledgeFileParser.parseService(yaml: yaml, file: file, expectedID: id)
        return (result.service?.definition, result.problems)
    }

    /// Reads `knowledge/`: every `*.yaml` file is one service, except `offices.yaml`.
    func loadServices() -> (services: [ServiceDefinition], problems: [ContentProblem]) {
        let folder = root.appendingPathComponent("knowledge", isDirectory: true)
        guard isDirectory(folder) else { return ([], []) }
        var problems: [ContentProblem] = []
        var offices: [String: KnowledgeFileParser.Office] = [:]
        var parsed: [KnowledgeFileParser.ParsedService] = []
        for name in listing(of: folder, problems: &problems) {
            let path = "knowledge/\(name)"
            guard let text = read(folder.appendingPathComponent(name), path: path, problems: &problems) else {
                continue
            }
            let base = (name as NSString).deletingPathExtension
            if base == "offices" {
                let result = KnowledgeFileParser.parseOffices(yaml: text, file: path)
                problems += result.problems
                for office in result.offices {
                    if let first = offices[office.id.value] {
                        problems.append(
                            ContentProblem(
                                office.id.location,
                                "office '\(office.id.value)' is defined twice (first at \(first.id.location))"))
                    } else {
                        offices[office.id.value] = office
                    }
                }
            } else {
                let result = KnowledgeFileParser.parseService(yaml: text, file: path, expectedID: base)
                problems += result.problems
                if let service = result.service { parsed.append(service) }
            }
        }
        var services: [ServiceDefinition] = []
        for var service in parsed {
            if let reference = service.office {
                if let office = offices[reference.value] {
                    service.definition.fields.append(
                        FieldEntry("office", .map([FieldEntry("id", .text(reference.value))] + office.fields)))
                } else {
                    let suggestion = NodeReader.suggestion(for: reference.value, among: offices.keys.sorted())
                    problems.append(
                        ContentProblem(
                            reference.location,
                            "unknown office '\(reference.value)'"
                                + (suggestion.map { " (did you mean '\($0)'?)" } ?? "")
                                + ": offices are listed in knowledge/offices.yaml"))
                }
            }
            services.append(service.definition)
        }
        return (services, problems)
    }
}
