import ClerkText

/// A compiled public service: its names and the fields replies read.
final class Service: Sendable {
    let id: String
    let name: String
    let fields: FieldValue
    let source: String?
    /// Terms of the name and aliases, to recognise the citizen picking this service from a question.
    let nameTerms: Set<Int32>

    init(id: String, name: String, fields: FieldValue, nameTerms: Set<Int32>) {
        self.id = id
        self.name = name
        self.fields = fields
        self.nameTerms = nameTerms
        if case .text(let url)? = fields.value(at: ["source"]) { source = url } else { source = nil }
    }
}

/// Phrases (term sequences) with a value each, found leftmost-longest in a message: service names and
/// aliases (the value is a group of services: an alias may name several), and variant words ("for my child").
final class PhraseTable: Sendable {
    /// (node, term) → child node.
    private let edges: PairTable
    /// Node → value, or -1.
    private let nodeValue: [Int32]

    var isEmpty: Bool { edges.count == 0 }

    /// - Parameter phrases: term sequences and their values; a sequence given twice keeps its first value.
    init(_ phrases: [(terms: [Int32], value: Int32)]) {
        var entries: [(UInt64, Int32)] = []
        var lookup: [UInt64: Int32] = [:]
        var nodeValue: [Int32] = [-1]
        for phrase in phrases where !phrase.terms.isEmpty && !phrase.terms.contains(-1) {
            var node: Int32 = 0
            for term in phrase.terms {
                let key = PairTable.key(node, term)
                if let child = lookup[key] {
                    node = child
                } else {
                    let child = Int32(nodeValue.count)
                    nodeValue.append(-1)
                    lookup[key] = child
                    entries.append((key, child))
                    node = child
                }
            }
            if nodeValue[Int(node)] < 0 { nodeValue[Int(node)] = phrase.value }
        }
        edges = PairTable(entries)
        self.nodeValue = nodeValue
    }

    /// The longest phrase starting at `start`: (length, value).
    @inline(__always)
    func longestMatch(_ terms: [Int32], from start: Int, skip: (Int) -> Bool = { _ in false }) -> (Int, Int32)? {
        var node: Int32 = 0
        var best: (Int, Int32)?
        var index = start
        while index < terms.count, terms[index] >= 0, !skip(index) {
            node = edges[PairTable.key(node, terms[index])]
            if node < 0 { break }
            index += 1
            let value = nodeValue[Int(node)]
            if value >= 0 { best = (index - start, value) }
        }
        return best
    }
}

/// Where a service or a variant is named in a message.
struct Mention: Sendable {
    enum Kind: Sendable { case service, variant }
    var kind: Kind
    /// Token range.
    var start: Int32
    var end: Int32
    /// For a service: the service group (see ``Brain/serviceGroups``); for a variant: its index.
    var value: Int32
}

extension Brain {
    /// Finds the services and variants a message names, into `utterance.mentions`. Services first (longest
    /// phrase at each position), then variants among the remaining words.
    func recognizeEntities(_ utterance: Utterance) {
        if !utterance.mentions.isEmpty { utterance.mentions.removeAll(keepingCapacity: true) }
        guard !servicePhrases.isEmpty || !variantPhrases.isEmpty else { return }
        let terms = utterance.terms
        var index = 0
        if !servicePhrases.isEmpty {
            while index < terms.count {
                if let (length, group) = servicePhrases.longestMatch(terms, from: index) {
                    utterance.mentions.append(
                        Mention(kind: .service, start: Int32(index), end: Int32(index + length), value: group))
                    index += length
                } else {
                    index += 1
                }
            }
        }
        guard !variantPhrases.isEmpty else { return }
        let services = utterance.mentions
        func inService(_ i: Int) -> Bool { services.contains { Int($0.start) <= i && i < Int($0.end) } }
        index = 0
        while index < terms.count {
            if !inService(index),
                let (length, variant) = variantPhrases.longestMatch(terms, from: index, skip: inService)
            {
                utterance.mentions.append(
                    Mention(kind: .variant, start: Int32(index), end: Int32(index + length), value: variant))
                index += length
            } else {
                index += 1
            }
        }
    }

    /// The services the message names, in order (an ambiguous mention contributes all its services).
    func mentionedServices(_ utterance: Utterance) -> [Int32] {
        var result: [Int32] = []
        for mention in utterance.mentions where mention.kind == .service {
            for service in serviceGroups[Int(mention.value)] where !result.contains(service) {
                result.append(service)
            }
        }
        return result
    }

    /// The message's terms with each named service replaced by one shared term, for the example scorer:
    /// "how much is a passport" and "how much is an ID card" both read "how much is a ‹service›".
    func collapseServices(_ utterance: Utterance, into collapsed: Utterance) -> Utterance {
        guard utterance.mentions.contains(where: { $0.kind == .service }) else { return utterance }
        collapsed.removeAll()
        var index = 0
        for mention in utterance.mentions where mention.kind == .service {
            while index < Int(mention.start) {
                collapsed.copy(index, from: utterance)
                index += 1
            }
            collapsed.copy(index, from: utterance, term: serviceTerm, through: Int(mention.end) - 1)
            index = Int(mention.end)
        }
        while index < utterance.count {
            collapsed.copy(index, from: utterance)
            index += 1
        }
        return collapsed
    }
}

/// How a reply reaches a service's fields: `{service.fee.child}` and the like.
struct ServiceFieldRenderer {
    let service: Service
    /// The variant the conversation named ("child"), if any.
    let variant: String?

    /// The text of `{service.path}`; nil when the service lacks the field.
    func render(_ path: Substring) -> String? {
        // The dotted path is walked where it lies: a reply renders on every answer, and splitting it into an
        // array of strings was most of the cost.
        var value = service.fields
        var rest = path
        var keyed = false
        while !rest.isEmpty {
            let key: Substring
            if let dot = rest.firstIndex(of: ".") {
                key = rest[..<dot]
                rest = rest[rest.index(after: dot)...]
            } else {
                key = rest
                rest = rest[rest.endIndex...]
            }
            guard !key.isEmpty else { continue }
            keyed = true
            guard case .map(let entries) = value, let entry = entries.first(where: { $0.key == key }) else {
                return nil
            }
            value = entry.value
        }
        return keyed ? Self.text(of: value, variant: variant) : service.name
    }

    static func text(of value: FieldValue, variant: String?) -> String {
        switch value {
        case .text(let text): return text
        case .list(let items): return items.joined(separator: "; ")
        case .map(let entries):
            if let variant, let entry = entries.first(where: { $0.key == variant }) {
                return label(entry.key) + ": " + text(of: entry.value, variant: nil)
            }
            if entries.count == 1 { return text(of: entries[0].value, variant: variant) }
            return entries.map { label($0.key) + ": " + text(of: $0.value, variant: nil) }.joined(separator: "; ")
        }
    }

    /// `in_person` → `in person`.
    static func label(_ key: String) -> String {
        String(key.map { $0 == "_" ? " " : $0 })
    }
}
