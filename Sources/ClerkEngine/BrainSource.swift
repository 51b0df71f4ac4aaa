/// Where a piece of content came from, so every problem can be reported as `file:line:column`.
public struct SourceLocation: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Path as the editor should see it, relative to the content folder when possible (`intents/passport.yaml`).
    public var file: String
    /// 1-based line.
    public var line: Int
    /// 1-based column.
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// The location `offset` characters further along the same line (for positions inside a quoted pattern).
    public func advanced(by offset: Int) -> SourceLocation {
        SourceLocation(file: file, line: line, column: column + offset)
    }

    public var description: String { "\(file):\(line):\(column)" }

    public static func < (a: SourceLocation, b: SourceLocation) -> Bool {
        (a.file, a.line, a.column) < (b.file, b.line, b.column)
    }
}

/// One problem found in content, in words a content editor understands.
public struct ContentProblem: Error, Sendable, Hashable, CustomStringConvertible {
    /// How serious the problem is: errors stop a brain from being served, warnings do not.
    public enum Severity: String, Sendable, Hashable, Codable {
        case error, warning
    }

    public var location: SourceLocation
    public var severity: Severity
    public var message: String

    public init(_ location: SourceLocation, _ message: String, severity: Severity = .error) {
        self.location = location
        self.message = message
        self.severity = severity
    }

    /// Compiler style, clickable in editors: `intents/passport.yaml:12:7: error: unknown key 'replies'`.
    public var description: String { "\(location): \(severity.rawValue): \(message)" }
}

/// A text written in a content file, with the place it was written.
public struct Located<Value: Sendable & Hashable>: Sendable, Hashable {
    public var value: Value
    public var location: SourceLocation

    public init(_ value: Value, at location: SourceLocation) {
        self.value = value
        self.location = location
    }
}

/// An intent as the content files describe it, before compilation.
public struct IntentDefinition: Sendable, Hashable {
    /// Unique id such as `passport.renew`.
    public var id: Located<String>
    /// Short human title used in "Did you mean …?" quick replies; defaults to the first example or the id.
    public var title: String?
    /// Pattern strings in the pattern language (`[how] [can|do] i (renew|extend) [my] passport *`).
    public var patterns: [Located<String>]
    /// Example utterances for the scorer.
    public var examples: [Located<String>]
    /// Reply variants (templates with `{name}` captures and, later, `{service.field}`).
    public var replies: [Located<String>]
    public var quickReplies: [String]
    /// Context flags this intent sets for the following turns when it answers.
    public var setsContext: [String]
    /// Context flags that must be set for this intent to be eligible.
    public var requires: [String]
    /// Breaks ties between equally specific patterns (higher wins). Default 0.
    public var priority: Int
    /// A service id (knowledge file) this intent belongs to, if any.
    public var service: String?
    /// What the engine should do besides replying; `escalate` hands the conversation to a person.
    public var action: IntentAction?
    /// Values the intent needs before it can answer, asked for in order when the message lacks them.
    public var slots: [SlotDefinition]
    /// A follow-up ("and for my child?", "what about an ID card?"): answers the conversation's last intent
    /// again with the service or variant this message names; its own reply is used when there is nothing to
    /// follow up.
    public var followUp: Bool
    /// A safeguarding topic (violence, self-harm, a child at risk): hands over at once as urgent, without asking
    /// for consent, and shows the emergency message.
    public var safeguarding: Bool = false

    public init(
        id: Located<String>, title: String? = nil, patterns: [Located<String>] = [],
        examples: [Located<String>] = [], replies: [Located<String>] = [], quickReplies: [String] = [],
        setsContext: [String] = [], requires: [String] = [], priority: Int = 0, service: String? = nil,
        action: IntentAction? = nil, slots: [SlotDefinition] = [], followUp: Bool = false
    ) {
        self.slots = slots
        self.followUp = followUp
        self.id = id
        self.title = title
        self.patterns = patterns
        self.examples = examples
        self.replies = replies
        self.quickReplies = quickReplies
        self.setsContext = setsContext
        self.requires = requires
        self.priority = priority
        self.service = service
        self.action = action
    }
}

/// A value an intent asks for when the message does not give it (slot filling).
public struct SlotDefinition: Sendable, Hashable {
    /// The name replies use (`{where}`) and patterns capture (`{where:text}`).
    public var name: Located<String>
    /// What a valid answer is: a typed value (`date`, `number`, `ticket`, `postcode`, `service`) or any `text`.
    public var type: SlotType
    /// The question asked when the value is missing.
    public var prompt: String
    /// Said before the question again when an answer was not valid.
    public var hint: String?

    public init(name: Located<String>, type: SlotType, prompt: String, hint: String? = nil) {
        self.name = name
        self.type = type
        self.prompt = prompt
        self.hint = hint
    }
}

/// Actions an intent can ask for besides its reply.
public enum IntentAction: String, Sendable, Hashable, Codable, CaseIterable {
    /// Offer or start a handoff to a human agent.
    case escalate
    /// Look up the ticket named by the intent's `ticket` slot and tell its status.
    case ticketStatus = "ticket_status"
}

/// A named list of words or phrases, referenced from patterns as `~name`.
public struct ConceptDefinition: Sendable, Hashable {
    public var name: Located<String>
    public var members: [Located<String>]

    public init(name: Located<String>, members: [Located<String>]) {
        self.name = name
        self.members = members
    }
}

/// A rewrite applied to input and content alike before matching: contractions (`don't` → `do not`),
/// spelling variants, joined words (`idcard` → `id card`).
public struct SubstitutionDefinition: Sendable, Hashable {
    public var from: Located<String>
    public var to: String

    public init(from: Located<String>, to: String) {
        self.from = from
        self.to = to
    }
}

/// Policy settings from `config/engine.yaml`; every field has a built-in default.
public struct PolicySettings: Sendable, Hashable, Codable {
    /// Fuzzy confidence at or above which the engine answers.
    public var answerThreshold: Double = 0.62
    /// Fuzzy confidence at or above which the engine asks "Did you mean …?" instead of giving up.
    public var clarifyThreshold: Double = 0.40
    /// When the top two candidates are closer than this, the engine asks which one was meant.
    public var clarifyMargin: Double = 0.08
    /// Consecutive misses after which the engine offers a person (2 = on the second miss).
    public var missesBeforeEscalation: Int = 2
    /// Reply on a first miss.
    public var rephraseMessage: String = "Sorry, I did not understand that. Could you say it in other words?"
    /// Reply when the engine hands over to a person after repeated misses.
    public var escalationMessage: String =
        "I am still not sure how to help. Shall I pass this to a person who can?"
    /// Question asked when two answers are close: `{options}` is replaced by the candidate titles.
    public var clarifyMessage: String = "Did you mean {options}?"
    /// Words that are never spelling-corrected (names, places), in addition to numbers and references.
    public var protectedWords: [String] = []
    /// Asked when an answer needs a service and neither the message nor the conversation names one.
    public var askServiceMessage: String = "Which service is this about? For example: {examples}."
    /// Asked when a word fits several services: `{options}` is replaced by their names.
    public var chooseServiceMessage: String = "Which one do you mean: {options}?"
    /// Said when a service's file lacks the field an answer needs.
    public var missingFieldMessage: String = "I do not have that information about {service} yet."
    /// Said after too many answers to a question that were not valid.
    public var slotGiveUpMessage: String =
        "I am sorry, I could not get that. Shall I pass this to a person who can help?"
    /// Answers to a question that may be invalid before the engine gives up and offers a person.
    public var slotAttempts: Int = 3
    /// `clerk lint` warns about knowledge files whose `last_reviewed` is older than this many days.
    public var reviewAgeDays: Int = 365
    /// The first thing a channel says when a conversation starts.
    public var welcomeMessage: String =
        "Hello! I am an automated assistant. Ask me a question, or say \"talk to a person\"."
    /// Asked before a handover when the escalating intent has no reply of its own.
    public var consentMessage: String = "Shall I pass this to a person? They will see what we talked about."
    /// Said when the citizen agrees to a handover (the I/O side adds the ticket reference and when to expect a reply).
    public var handoffMessage: String = "I am passing this conversation to a person."
    /// Said when the citizen declines a handover.
    public var declinedMessage: String = "All right. What else can I help you with?"
    /// Shown at once with a safeguarding topic.
    public var emergencyMessage: String =
        "If you or someone else is in danger right now, call the emergency number 112."
    /// Answers that mean yes to "Shall I pass this to a person?".
    public var yesWords: [String] = [
        "yes", "yeah", "yep", "yup", "sure", "ok", "okay", "please", "y", "go ahead", "do it", "of course",
        "alright", "all right", "yes please", "please do", "that would be great", "i would like that",
        "no problem",
    ]
    /// Answers that mean no.
    public var noWords: [String] = [
        "no", "nope", "nah", "n", "no thanks", "no thank you", "not now", "never mind", "nevermind", "not yet",
        "do not", "no need",
    ]

    public init() {}
}

/// Everything the content files say, ready to be compiled into a ``Brain``.
public struct BrainSource: Sendable, Hashable {
    public var intents: [IntentDefinition]
    /// Public services from `knowledge/`, answered by aspect intents.
    public var services: [ServiceDefinition] = []
    public var concepts: [ConceptDefinition]
    public var substitutions: [SubstitutionDefinition]
    public var settings: PolicySettings
    /// Snowball language name for stems (`english`).
    public var language: String

    public init(
        intents: [IntentDefinition] = [], concepts: [ConceptDefinition] = [],
        substitutions: [SubstitutionDefinition] = [], settings: PolicySettings = PolicySettings(),
        language: String = "english"
    ) {
        self.intents = intents
        self.concepts = concepts
        self.substitutions = substitutions
        self.settings = settings
        self.language = language
    }
}

/// One public service from a knowledge file: its names and every field replies can use.
public struct ServiceDefinition: Sendable, Hashable {
    /// Unique id such as `passport` (the file name).
    public var id: Located<String>
    /// The name shown to citizens ("Passport"); also recognised in messages.
    public var name: Located<String>
    /// Other words citizens use for it ("travel document"); an alias shared by several services makes the
    /// engine ask which one is meant.
    public var aliases: [Located<String>]
    /// Every field of the file (including `name`), as replies reach them: `{service.fee.child}`.
    public var fields: [FieldEntry]
    /// The `last_reviewed` date as written, for the review-age check.
    public var lastReviewed: Located<String>?

    public init(id: Located<String>, name: Located<String>, aliases: [Located<String>], fields: [FieldEntry]) {
        self.id = id
        self.name = name
        self.aliases = aliases
        self.fields = fields
    }
}

/// A named field of a service.
public struct FieldEntry: Sendable, Hashable {
    public var key: String
    public var value: FieldValue

    public init(_ key: String, _ value: FieldValue) {
        self.key = key
        self.value = value
    }
}

/// A service field's value: a text, a list (documents), or named parts (fee variants, ways to apply).
public indirect enum FieldValue: Sendable, Hashable {
    case text(String)
    case list([String])
    case map([FieldEntry])

    /// The value at a dotted path below this one (`["fee", "child"]`).
    public func value(at path: some Collection<String>) -> FieldValue? {
        guard let first = path.first else { return self }
        guard case .map(let entries) = self, let entry = entries.first(where: { $0.key == first }) else {
            return nil
        }
        return entry.value.value(at: path.dropFirst())
    }
}
