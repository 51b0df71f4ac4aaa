import ClerkEngine
import Foundation

/// One line of a labelled data set: a message and the intent it was written for.
///
/// ```json
/// {"text": "how much is a passport", "intent": "passport.fee"}
/// ```
/// Lines of an FAQ list may carry the answer and the FAQ's own questions instead of (or beside) a text:
/// `{"intent": "covid_001", "faq_questions": ["What is COVID-19?"], "answer": "…"}`.
public struct LabelledLine: Sendable, Hashable, Decodable {
    /// The message, when the line is an example.
    public var text: String?
    /// The intent id; ``outOfScopeIntent`` marks a message no intent should answer.
    public var intent: String
    /// The reply the intent gives, when the line describes an FAQ entry.
    public var answer: String?
    /// Questions an FAQ entry is known by; used as examples.
    public var faqQuestions: [String]?
    /// Where the line was read, as `file:line:1`.
    public var location: SourceLocation

    /// The label public data sets (CLINC150 and others) give to out-of-scope messages.
    public static let outOfScopeIntent = "oos"

    /// Whether the line is labelled out of scope.
    public var isOutOfScope: Bool { intent == Self.outOfScopeIntent }

    /// The texts this line gives as examples of its intent: its text, then its FAQ questions.
    public var examples: [String] { (text.map { [$0] } ?? []) + (faqQuestions ?? []) }

    public init(
        text: String?, intent: String, answer: String? = nil, faqQuestions: [String]? = nil,
        location: SourceLocation = SourceLocation(file: "", line: 0, column: 1)
    ) {
        self.text = text
        self.intent = intent
        self.answer = answer
        self.faqQuestions = faqQuestions
        self.location = location
    }

    private enum CodingKeys: String, CodingKey {
        case text, intent, answer
        case faqQuestions = "faq_questions"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        text = try container.decodeIfPresent(String.self, forKey: .text)
        intent = try container.decode(String.self, forKey: .intent)
        answer = try container.decodeIfPresent(String.self, forKey: .answer)
        faqQuestions = try container.decodeIfPresent([String].self, forKey: .faqQuestions)
        location = SourceLocation(file: "", line: 0, column: 1)
    }
}

/// Reads JSON-lines files: one JSON object per line, blank lines ignored.
///
/// ```swift
/// let lines = try JSONLines.read(URL(fileURLWithPath: "train.jsonl"))
/// ```
public enum JSONLines {
    /// A file that cannot be read, or a line that is not what a labelled data set holds.
    public struct ReadError: Error, Sendable, Hashable, CustomStringConvertible {
        /// The file, and the line when the problem is in one line (line 0: the file as a whole).
        public var location: SourceLocation
        public var message: String

        public var description: String {
            location.line == 0 ? "\(location.file): \(message)" : "\(location.file):\(location.line): \(message)"
        }
    }

    /// Reads the labelled lines of the file at `url`; `path` is how errors name the file.
    public static func read(_ url: URL, path: String? = nil) throws(ReadError) -> [LabelledLine] {
        let name = path ?? url.path
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            let missing = !FileManager.default.fileExists(atPath: url.path)
            throw ReadError(
                location: SourceLocation(file: name, line: 0, column: 1),
                message: missing ? "no such file" : "cannot be read (\(error.localizedDescription))")
        }
        return try parse(String(decoding: data, as: UTF8.self), file: name)
    }

    /// Parses JSON-lines text; `file` is how errors name it.
    public static func parse(_ text: String, file: String) throws(ReadError) -> [LabelledLine] {
        let decoder = JSONDecoder()
        var lines: [LabelledLine] = []
        var number = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !line.isEmpty else { continue }
            let location = SourceLocation(file: file, line: number, column: 1)
            do {
                var labelled = try decoder.decode(LabelledLine.self, from: Data(line.utf8))
                labelled.location = location
                lines.append(labelled)
            } catch let error as DecodingError {
                throw ReadError(location: location, message: describe(error))
            } catch {
                throw ReadError(location: location, message: "not valid JSON")
            }
        }
        return lines
    }

    private static let expected =
        #"expected an object like {"text": "how much is a passport", "intent": "passport.fee"}"#

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .dataCorrupted:
            return "not valid JSON; \(expected)"
        case .keyNotFound(let key, _):
            return "missing \"\(key.stringValue)\"; \(expected)"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            let key = context.codingPath.first?.stringValue
            return key.map { "\"\($0)\" has the wrong type; \(expected)" } ?? "not a JSON object; \(expected)"
        @unknown default:
            return "not readable; \(expected)"
        }
    }
}
