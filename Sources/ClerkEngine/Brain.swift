import ClerkText

/// The compiled, immutable form of the content: vocabulary, pattern trie, example scorer, intents and
/// policy settings. Built once by ``compile(_:)``, shared by every conversation, and replaced as a whole when
/// content changes.
///
/// ```swift
/// let (brain, problems) = Brain.compile(source)
/// let turn = brain!.reply(to: "How much is a passport?", in: ConversationState())
/// ```
public struct Brain: Sendable {
    final class Intent: Sendable {
        // The fields an answer reads come first, so that answering touches as few cache lines of the object as
        // possible (a 10,000-intent brain does not stay in cache).
        let id: String
        /// The messages of the only reply when the intent has one reply and it has no placeholders: the common
        /// answer reads them here without reaching into `replies` and `plainMessages`.
        let onlyPlainMessages: [String]?
        /// Whether an answer is just `onlyPlainMessages`: one reply without placeholders, and no follow-up,
        /// service, slot, safeguarding or action to work out (see `Brain.plainAnswer`).
        let isPlain: Bool
        /// Reply variants (as many as `replies`).
        let replyCount: Int
        let followUp: Bool
        let safeguarding: Bool
        /// Whether a reply reads `{service.…}` fields (or a slot is a service), so a service must be known.
        let needsService: Bool
        let action: IntentAction?
        /// The fixed service's index, or -1.
        let serviceIndex: Int32
        let quickReplies: [String]
        let setsContext: [String]
        /// Values asked for when missing, in order.
        let slots: [SlotDefinition]
        let replies: [ReplyTemplate]
        /// For each reply variant without placeholders, the message list ready to hand out (no allocation).
        let plainMessages: [[String]?]
        let title: String
        let requires: [String]
        let service: String?
        let location: SourceLocation
        /// Terms of the title, to recognise the citizen picking it from a "Did you mean …?" question.
        let titleTerms: [Int32]

        init(
            id: String, title: String, replies: [ReplyTemplate], plainMessages: [[String]?], quickReplies: [String],
            setsContext: [String], requires: [String], action: IntentAction?, service: String?,
            location: SourceLocation, titleTerms: [Int32], slots: [SlotDefinition] = [], followUp: Bool = false,
            needsService: Bool = false, serviceIndex: Int32 = -1, safeguarding: Bool = false
        ) {
            self.safeguarding = safeguarding
            self.slots = slots
            self.followUp = followUp
            self.needsService = needsService
            self.serviceIndex = serviceIndex
            self.id = id
            self.title = title
            self.replies = replies
            self.plainMessages = plainMessages
            replyCount = replies.count
            onlyPlainMessages = plainMessages.count == 1 ? plainMessages[0] : nil
            isPlain =
                onlyPlainMessages != nil && !followUp && !needsService && serviceIndex < 0 && slots.isEmpty
                && !safeguarding && action == nil
            self.quickReplies = quickReplies
            self.setsContext = setsContext
            self.requires = requires
            self.action = action
            self.service = service
            self.location = location
            self.titleTerms = titleTerms
        }
    }

    /// What decides whether a matched pattern's intent may answer: the context it requires, its fixed service and
    /// whether it is a safeguarding topic (wins every pattern tie). Side by side, so weighing a match reads one
    /// cache line of a large brain rather than one per array.
    struct IntentGate: Sendable {
        var requires: UInt64
        /// The fixed service's index, or -1.
        var service: Int32
        var urgent: Bool

        static func list(requires: [UInt64], services: [Int32], urgent: [Bool]) -> [IntentGate] {
            requires.indices.map { IntentGate(requires: requires[$0], service: services[$0], urgent: urgent[$0]) }
        }
    }

    struct PatternInfo: Sendable {
        var intent: Int32
        var text: String
        var location: SourceLocation
    }

    /// Sizes of a compiled brain.
    public struct Statistics: Sendable, Codable, Hashable {
        public var intents: Int
        public var patterns: Int
        /// Pattern paths after expanding optional parts and alternatives.
        public var paths: Int
        public var trieNodes: Int
        /// Examples and pattern paths the scorer compares messages with.
        public var documents: Int
        /// Distinct folded words the brain knows.
        public var vocabulary: Int
        /// Distinct stems (terms).
        public var terms: Int
    }

    let lexicon: Lexicon
    let trie: PatternTrie
    let scorer: Scorer
    let intents: [Intent]
    let intentIndex: [String: Int32]
    let flagBits: [String: UInt64]
    let patterns: [PatternInfo]
    let services: [Service]
    let serviceIndex: [String: Int32]
    /// Services named by one phrase (most groups have one service; an ambiguous alias has several).
    let serviceGroups: [[Int32]]
    let servicePhrases: PhraseTable
    let variantPhrases: PhraseTable
    let variantNames: [String]
    /// The term that stands for any named service in the scorer's view of a message.
    let serviceTerm: Int32
    /// Per intent: what decides whether a pattern of it may answer, in one record.
    let intentGates: [IntentGate]
    /// Terms of the yes and no answers to a handover question.
    let yesPhrases: [[Int32]]
    let noPhrases: [[Int32]]
    let pool = ScratchPool()
    /// The clarify message split around `{options}`.
    let clarifyMessage: (prefix: String, suffix: String)

    /// The policy settings in force.
    public let settings: PolicySettings
    /// Sizes, for reports and benchmarks.
    public let statistics: Statistics

    /// Ids of all intents, in content order.
    public var intentIDs: [String] { intents.map(\.id) }

    /// Whether an intent with this id exists.
    public func hasIntent(_ id: String) -> Bool { intentIndex[id] != nil }

    /// Ids of all services, in content order.
    public var serviceIDs: [String] { services.map(\.id) }

    /// Whether an intent's replies read service fields (so it answers for whichever service is named).
    public func readsServices(intent id: String) -> Bool {
        intentIndex[id].map { intents[Int($0)].needsService } ?? false
    }

    /// Whether a service with this id exists.
    public func hasService(_ id: String) -> Bool { serviceIndex[id] != nil }

    /// The service an intent belongs to, if any.
    public func service(ofIntent id: String) -> String? {
        intentIndex[id].flatMap { intents[Int($0)].service }
    }
}
