import Foundation
import Logging
import PostgresNIO

/// The shared ticket store for several `clerk serve` nodes: PostgreSQL through a pooled `PostgresClient`.
///
/// Transitions lock the ticket's row (`SELECT … FOR UPDATE`), so two nodes can never both claim a ticket. Rows of
/// the change feed are written under a transaction-scoped advisory lock taken last, so feed ids become visible in
/// id order and a poller that remembers the last id it saw never skips a change.
///
/// ```swift
/// let store = try await PostgresTicketStore.open(try PostgresLocation(parsing: "postgres://clerk@db/clerk"))
/// defer { Task { await store.shutdown() } }
/// ```
public final class PostgresTicketStore: TicketStore {
    /// The database, as given (password hidden in its description).
    public let location: PostgresLocation
    private let client: PostgresClient
    private let running: Task<Void, Never>
    private let clock: StoreClock
    private let logger: Logger
    private let creations: GroupCommit<NewTicket, Ticket>
    /// How long an operation may wait for the server before failing with ``TicketStoreError/unavailable(_:)``.
    private let timeout: Duration

    private init(
        location: PostgresLocation, client: PostgresClient, clock: @escaping StoreClock, logger: Logger,
        timeout: Duration
    ) {
        self.location = location
        self.client = client
        self.clock = clock
        self.logger = logger
        self.timeout = timeout
        self.running = Task { await client.run() }
        // Four transactions in flight: while one holds the feed lock through its commit, the others prepare.
        self.creations = GroupCommit(maximumFlushes: 4) { [client, logger, clock] batch in
            try await client.withTransaction(logger: logger) { connection in
                try await Self.insert(batch, at: StoreTime.rounded(clock()), connection, logger)
            }
        }
    }

    /// Connects to `location`, creates or upgrades the schema, and returns the store.
    ///
    /// Every later operation also gives up after `timeout` when the server does not answer, so a caller is never
    /// left waiting on a database that is gone.
    ///
    /// - Throws: ``TicketStoreError/unavailable(_:)`` when the server cannot be reached within `timeout` or
    ///   refuses the login.
    public static func open(
        _ location: PostgresLocation, clock: @escaping StoreClock = { Date() }, timeout: Duration = .seconds(10)
    ) async throws -> PostgresTicketStore {
        var configuration = PostgresClient.Configuration(
            host: location.host, port: location.port, username: location.username, password: location.password,
            database: location.database, tls: location.requireTLS ? .require(.makeClientConfiguration()) : .disable)
        configuration.options.connectTimeout = timeout
        configuration.options.maximumConnections = 16
        if let schema = location.schema {
            configuration.options.additionalStartupParameters = [("search_path", schema)]
        }
        let logger = Logger(label: "clerk.store.postgres", factory: { _ in SwiftLogNoOpLogHandler() })
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        let store = PostgresTicketStore(
            location: location, client: client, clock: clock, logger: logger, timeout: timeout)
        do {
            try await withDeadline(timeout, expired: store.timedOut()) {
                try await client.withTransaction(logger: logger) { connection in
                    try await PostgresSchema.migrate(connection, schema: location.schema, logger: logger)
                }
            }
        } catch {
            await store.shutdown()
            throw store.storeError(error)
        }
        return store
    }

    /// A readable error for a failed call: the store's own errors as they are, PostgreSQL's with its message.
    private func storeError(_ error: any Error) -> any Error {
        if error is TicketStoreError || error is CancellationError { return error }
        if let error = error as? PostgresTransactionError {
            if let inner = error.closureError ?? error.beginError ?? error.commitError { return storeError(inner) }
        }
        let place = "PostgreSQL at \(location.host):\(location.port)/\(location.database)"
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] {
                return TicketStoreError.unavailable("\(place) refused: \(message)")
            }
            if let underlying = error.underlying {
                return TicketStoreError.unavailable("Cannot reach \(place): \(underlying)")
            }
            return TicketStoreError.unavailable("Cannot use \(place): \(error.code)")
        }
        return TicketStoreError.unavailable("Cannot use \(place): \(error)")
    }

    private func timedOut() -> TicketStoreError {
        .unavailable("PostgreSQL at \(location.host):\(location.port) did not answer within \(timeout)")
    }

    private func transaction<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        let client = self.client
        let logger = self.logger
        do {
            return try await withDeadline(timeout, expired: self.timedOut()) {
                try await client.withTransaction(logger: logger) { connection in try await body(connection) }
            }
        } catch {
            throw storeError(error)
        }
    }

    private func rows(_ query: PostgresQuery) async throws -> [PostgresRandomAccessRow] {
        let client = self.client
        let logger = self.logger
        do {
            return try await withDeadline(timeout, expired: self.timedOut()) {
                try await client.query(query, logger: logger).collect().map { $0.makeRandomAccess() }
            }
        } catch {
            throw storeError(error)
        }
    }

    private static func rows(
        _ query: PostgresQuery, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [PostgresRandomAccessRow] {
        try await connection.query(query, logger: logger).collect().map { $0.makeRandomAccess() }
    }

    // MARK: Tickets

    public func createTicket(_ new: NewTicket) async throws -> Ticket {
        let new = try TicketLifecycle.validate(new)
        let creations = self.creations
        do {
            return try await withDeadline(timeout, expired: self.timedOut()) { try await creations.submit(new) }
        } catch {
            throw storeError(error)
        }
    }

    public func ticket(_ reference: TicketReference) async throws -> Ticket? {
        let rows = try await rows(
            "SELECT \(unescaped: Self.ticketColumns) FROM tickets WHERE number = \(reference.number)")
        guard let row = rows.first else { return nil }
        let messages = try await self.rows(
            "SELECT * FROM ticket_messages WHERE ticket = \(reference.number) ORDER BY id")
        return try Self.ticket(row, transcript: messages.map(Self.message))
    }

    public func tickets(status: [TicketStatus]?, limit: Int) async throws -> [Ticket] {
        let filter = status.map { $0.map(\.rawValue) }
        if let filter, filter.isEmpty { return [] }
        let rows = try await rows(
            """
            SELECT \(unescaped: Self.ticketColumns) FROM tickets
            WHERE \(filter == nil) OR status = ANY(\(filter ?? []))
            ORDER BY \(unescaped: StoredValues.listOrder) LIMIT \(max(0, limit))
            """)
        guard !rows.isEmpty else { return [] }
        let numbers = try rows.map { try $0["number"].decode(Int64.self) }
        var transcripts: [Int64: [TicketMessage]] = [:]
        for row in try await self.rows("SELECT * FROM ticket_messages WHERE ticket = ANY(\(numbers)) ORDER BY id") {
            transcripts[try row["ticket"].decode(Int64.self), default: []].append(try Self.message(row))
        }
        return try rows.map { try Self.ticket($0, transcript: transcripts[try $0["number"].decode(Int64.self)] ?? []) }
    }

    public func apply(_ action: TicketAction, to reference: TicketReference) async throws -> Ticket {
        let clock = self.clock
        let logger = self.logger
        return try await transaction { connection in
            guard let ticket = try await Self.lockTicket(reference.number, connection, logger) else {
                throw TicketStoreError.notFound(reference)
            }
            guard let mutation = try TicketLifecycle.apply(action, to: ticket, at: StoreTime.rounded(clock())) else {
                return ticket
            }
            try await Self.persist(mutation, connection, logger)
            try await Self.appendChanges([(reference.number, mutation.change)], connection, logger)
            return mutation.ticket
        }
    }

    public func closeResolved(olderThan date: Date) async throws -> [Ticket] {
        let clock = self.clock
        let logger = self.logger
        return try await transaction { connection in
            // Lock every row first: the feed lock is always the last one a transaction takes.
            let numbers = try await Self.rows(
                """
                SELECT number FROM tickets WHERE status = 'resolved' AND updated_at < \(date)
                ORDER BY number FOR UPDATE
                """, connection, logger
            ).map { try $0["number"].decode(Int64.self) }
            let now = StoreTime.rounded(clock())
            var closed: [Ticket] = []
            var changes: [(Int64, ChangeDraft)] = []
            for number in numbers {
                guard let ticket = try await Self.lockTicket(number, connection, logger),
                    let mutation = try TicketLifecycle.apply(.close(actor: "system"), to: ticket, at: now)
                else { continue }
                try await Self.persist(mutation, connection, logger)
                changes.append((number, mutation.change))
                closed.append(mutation.ticket)
            }
            try await Self.appendChanges(changes, connection, logger)
            return closed
        }
    }

    public func audit(_ reference: TicketReference) async throws -> [AuditEntry] {
        try await rows("SELECT * FROM ticket_audit WHERE ticket = \(reference.number) ORDER BY id").map { row in
            AuditEntry(
                actor: try row["actor"].decode(String.self), at: StoreTime.rounded(try row["at"].decode(Date.self)),
                from: try StoredValues.optionalStatus(try row["from_status"].decode(String?.self)),
                to: try StoredValues.optionalStatus(try row["to_status"].decode(String?.self)),
                action: try row["action"].decode(String.self), note: try row["note"].decode(String?.self))
        }
    }

    public func changes(after id: Int64, limit: Int) async throws -> [TicketChange] {
        try await rows("SELECT * FROM ticket_changes WHERE id > \(id) ORDER BY id LIMIT \(max(0, limit))").map { row in
            TicketChange(
                id: try row["id"].decode(Int64.self),
                reference: TicketReference(number: try row["ticket"].decode(Int64.self)),
                kind: try StoredValues.changeKind(try row["kind"].decode(String.self)),
                status: try StoredValues.status(try row["status"].decode(String.self)),
                text: try row["text"].decode(String?.self), actor: try row["actor"].decode(String?.self),
                at: StoreTime.rounded(try row["at"].decode(Date.self)))
        }
    }

    public func latestChangeID() async throws -> Int64 {
        try await rows("SELECT COALESCE(MAX(id), 0)::BIGINT AS id FROM ticket_changes").first?["id"].decode(Int64.self)
            ?? 0
    }

    // MARK: Agents

    public func addAgent(name: String, role: AgentRole) async throws -> String {
        let name = try TicketLifecycle.validName(name, "agent")
        let token = AgentToken.generate()
        let hash = AgentToken.hash(token)
        let now = StoreTime.rounded(clock())
        let logger = self.logger
        try await transaction { connection in
            let existing = try await Self.rows(
                "SELECT revoked_at FROM agents WHERE name = \(name) FOR UPDATE", connection, logger)
            if let row = existing.first, try row["revoked_at"].decode(Date?.self) == nil {
                throw TicketStoreError.agentExists(name)
            }
            try await connection.query(
                """
                INSERT INTO agents (name, role, token_hash, created_at, revoked_at)
                VALUES (\(name), \(role.rawValue), \(hash), \(now), NULL)
                ON CONFLICT (name) DO UPDATE SET role = excluded.role, token_hash = excluded.token_hash,
                    created_at = excluded.created_at, revoked_at = NULL
                """, logger: logger)
        }
        return token
    }

    public func revokeAgent(_ name: String) async throws {
        let now = StoreTime.rounded(clock())
        let logger = self.logger
        try await transaction { connection in
            let revoked = try await Self.rows(
                "UPDATE agents SET revoked_at = \(now) WHERE name = \(name) AND revoked_at IS NULL RETURNING name",
                connection, logger)
            guard !revoked.isEmpty else { throw TicketStoreError.unknownAgent(name) }
            try await connection.query("DELETE FROM agent_activity WHERE name = \(name)", logger: logger)
        }
    }

    public func agent(forToken token: String) async throws -> Agent? {
        let hash = AgentToken.hash(token)
        return try await rows(
            "\(unescaped: Self.agentQuery) WHERE a.token_hash = \(hash) AND a.revoked_at IS NULL"
        ).first.map(Self.agent)
    }

    public func agents() async throws -> [Agent] {
        try await rows("\(unescaped: Self.agentQuery) ORDER BY a.name").map(Self.agent)
    }

    public func touchAgent(_ name: String, at date: Date) async throws {
        let name = try TicketLifecycle.validName(name, "agent")
        let date = StoreTime.rounded(date)
        _ = try await rows(
            """
            INSERT INTO agent_activity (name, last_seen_at) VALUES (\(name), \(date))
            ON CONFLICT (name) DO UPDATE SET last_seen_at = GREATEST(agent_activity.last_seen_at, excluded.last_seen_at)
            """)
    }

    public func agentsActive(since date: Date) async throws -> [String] {
        try await rows(
            """
            SELECT t.name FROM agent_activity t LEFT JOIN agents a ON a.name = t.name
            WHERE t.last_seen_at >= \(StoreTime.rounded(date)) AND a.revoked_at IS NULL ORDER BY t.name
            """
        ).map { try $0["name"].decode(String.self) }
    }

    private static let agentQuery = """
        SELECT a.name, a.role, a.created_at, a.revoked_at, t.last_seen_at
        FROM agents a LEFT JOIN agent_activity t ON t.name = a.name
        """

    private static func agent(_ row: PostgresRandomAccessRow) throws -> Agent {
        Agent(
            name: try row["name"].decode(String.self), role: try StoredValues.role(try row["role"].decode(String.self)),
            createdAt: StoreTime.rounded(try row["created_at"].decode(Date.self)),
            lastSeenAt: try row["last_seen_at"].decode(Date?.self).map(StoreTime.rounded),
            revokedAt: try row["revoked_at"].decode(Date?.self).map(StoreTime.rounded))
    }

    // MARK: Sessions

    public func saveSession(id: String, resumeTokenHash: String, state: Data, updatedAt: Date) async throws {
        _ = try await rows(
            """
            INSERT INTO sessions (id, resume_token_hash, state, updated_at)
            VALUES (\(id), \(resumeTokenHash), \(state), \(StoreTime.rounded(updatedAt)))
            ON CONFLICT (id) DO UPDATE SET resume_token_hash = excluded.resume_token_hash, state = excluded.state,
                updated_at = excluded.updated_at
            """)
    }

    public func saveSessions(_ sessions: [StoredSession]) async throws {
        guard !sessions.isEmpty else { return }
        let logger = self.logger
        try await transaction { connection in
            for session in sessions {
                _ = try await Self.rows(
                    """
                    INSERT INTO sessions (id, resume_token_hash, state, updated_at)
                    VALUES (\(session.id), \(session.resumeTokenHash), \(session.state),
                        \(StoreTime.rounded(session.updatedAt)))
                    ON CONFLICT (id) DO UPDATE SET resume_token_hash = excluded.resume_token_hash,
                        state = excluded.state, updated_at = excluded.updated_at
                    """, connection, logger)
                if session.replacesTranscript {
                    _ = try await Self.rows(
                        "DELETE FROM session_transcripts WHERE session_id = \(session.id)", connection, logger)
                }
                if !session.transcript.isEmpty {
                    _ = try await Self.rows(
                        """
                        INSERT INTO session_transcripts (session_id, lines)
                        SELECT \(session.id), decode(l, 'base64')
                        FROM UNNEST(\(session.transcript.map { $0.base64EncodedString() })::TEXT[])
                            WITH ORDINALITY AS u (l, n)
                        ORDER BY n
                        """, connection, logger)
                }
            }
        }
    }

    public func session(resumeTokenHash: String) async throws -> StoredSession? {
        guard let row = try await rows("SELECT * FROM sessions WHERE resume_token_hash = \(resumeTokenHash)").first
        else { return nil }
        return try await session(row)
    }

    public func session(id: String) async throws -> StoredSession? {
        guard let row = try await rows("SELECT * FROM sessions WHERE id = \(id)").first else { return nil }
        return try await session(row)
    }

    public func deleteSessions(olderThan date: Date) async throws -> Int {
        let cutoff = StoreTime.rounded(date)
        let logger = self.logger
        return try await transaction { connection in
            _ = try await Self.rows(
                """
                DELETE FROM session_transcripts
                WHERE session_id IN (SELECT id FROM sessions WHERE updated_at < \(cutoff))
                """, connection, logger)
            return try await Self.rows(
                "DELETE FROM sessions WHERE updated_at < \(cutoff) RETURNING id", connection, logger
            ).count
        }
    }

    private func session(_ row: PostgresRandomAccessRow) async throws -> StoredSession {
        let id = try row["id"].decode(String.self)
        let chunks = try await rows("SELECT lines FROM session_transcripts WHERE session_id = \(id) ORDER BY id")
        return StoredSession(
            id: id, resumeTokenHash: try row["resume_token_hash"].decode(String.self),
            state: try row["state"].decode(Data.self),
            updatedAt: StoreTime.rounded(try row["updated_at"].decode(Date.self)),
            transcript: try chunks.map { try $0["lines"].decode(Data.self) })
    }

    // MARK: Turn log

    public func appendTurns(_ turns: [TurnRecord]) async throws {
        guard !turns.isEmpty else { return }
        // One statement for the whole batch, as for ticket creation.
        let intents = Nullable(turns.map(\.intent))
        let scores = Nullable(turns.map(\.score), placeholder: 0)
        _ = try await rows(
            """
            INSERT INTO turns (conversation_id, at, text, outcome, intent, score)
            SELECT c, a, t, o, CASE WHEN hi THEN i END, CASE WHEN hs THEN s END
            FROM UNNEST(\(turns.map(\.conversationID))::TEXT[], \(turns.map { StoreTime.rounded($0.at) })::TIMESTAMPTZ[],
                \(turns.map(\.text))::TEXT[], \(turns.map(\.outcome))::TEXT[], \(intents.values)::TEXT[],
                \(intents.present)::BOOL[], \(scores.values)::FLOAT8[], \(scores.present)::BOOL[])
                WITH ORDINALITY AS u (c, a, t, o, i, hi, s, hs, n)
            ORDER BY n
            """)
    }

    public func turns(from: Date, to: Date) async throws -> [TurnRecord] {
        try await rows(
            """
            SELECT * FROM turns WHERE at >= \(StoreTime.rounded(from)) AND at < \(StoreTime.rounded(to))
            ORDER BY at, id
            """
        ).map { row in
            TurnRecord(
                conversationID: try row["conversation_id"].decode(String.self),
                at: StoreTime.rounded(try row["at"].decode(Date.self)), text: try row["text"].decode(String.self),
                outcome: try row["outcome"].decode(String.self), intent: try row["intent"].decode(String?.self),
                score: try row["score"].decode(Double?.self))
        }
    }

    // MARK: Lifetime

    public func shutdown() async {
        running.cancel()
        await running.value
    }

    // MARK: Rows

    private static let ticketColumns = """
        number, conversation_id, service, category, priority, status, agent, created_at, updated_at, reply_by,
        contact, slots::TEXT AS slots
        """

    private static func lockTicket(
        _ number: Int64, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> Ticket? {
        let rows = try await rows(
            "SELECT \(unescaped: ticketColumns) FROM tickets WHERE number = \(number) FOR UPDATE", connection, logger)
        guard let row = rows.first else { return nil }
        let messages = try await self.rows(
            "SELECT * FROM ticket_messages WHERE ticket = \(number) ORDER BY id", connection, logger)
        return try ticket(row, transcript: messages.map(message))
    }

    private static func ticket(_ row: PostgresRandomAccessRow, transcript: [TicketMessage]) throws -> Ticket {
        Ticket(
            reference: TicketReference(number: try row["number"].decode(Int64.self)),
            conversationID: try row["conversation_id"].decode(String.self),
            service: try row["service"].decode(String?.self), category: try row["category"].decode(String?.self),
            priority: try StoredValues.priority(try row["priority"].decode(String.self)),
            status: try StoredValues.status(try row["status"].decode(String.self)),
            agent: try row["agent"].decode(String?.self),
            createdAt: StoreTime.rounded(try row["created_at"].decode(Date.self)),
            updatedAt: StoreTime.rounded(try row["updated_at"].decode(Date.self)),
            replyBy: try row["reply_by"].decode(Date?.self).map(StoreTime.rounded),
            contact: try row["contact"].decode(String?.self),
            slots: try StoredValues.slots(try row["slots"].decode(String.self)), transcript: transcript)
    }

    private static func message(_ row: PostgresRandomAccessRow) throws -> TicketMessage {
        TicketMessage(
            author: try StoredValues.author(try row["author"].decode(String.self)),
            name: try row["name"].decode(String?.self), text: try row["text"].decode(String.self),
            at: StoreTime.rounded(try row["at"].decode(Date.self)))
    }

    /// Inserts a batch of new tickets with a constant number of statements, whatever the batch size: columns
    /// travel as arrays and `UNNEST` turns them back into rows. Nullable columns travel as a value array and a
    /// presence array, since arrays of optionals cannot be bound.
    private static func insert(
        _ batch: [NewTicket], at now: Date, _ connection: PostgresConnection, _ logger: Logger
    ) async throws -> [Ticket] {
        // Numbers first, so that the batch's tickets are numbered in the order they were submitted.
        let numbers = try await rows(
            "SELECT nextval('ticket_numbers') AS number FROM generate_series(1, \(batch.count))", connection, logger
        ).map { try $0["number"].decode(Int64.self) }.sorted()
        let services = Nullable(batch.map(\.service))
        let categories = Nullable(batch.map(\.category))
        let replyBy = Nullable(batch.map(\.replyBy), placeholder: now)
        try await connection.query(
            """
            INSERT INTO tickets (number, conversation_id, service, category, priority, status, created_at, updated_at,
                reply_by, slots)
            SELECT n, c, CASE WHEN hs THEN s END, CASE WHEN hc THEN g END, p, 'queued', \(now), \(now),
                CASE WHEN hr THEN r END, j::JSONB
            FROM UNNEST(\(numbers)::BIGINT[], \(batch.map(\.conversationID))::TEXT[], \(services.values)::TEXT[],
                \(services.present)::BOOL[], \(categories.values)::TEXT[], \(categories.present)::BOOL[],
                \(batch.map(\.priority.rawValue))::TEXT[], \(replyBy.values)::TIMESTAMPTZ[], \(replyBy.present)::BOOL[],
                \(batch.map { StoredValues.slotsJSON($0.slots) })::TEXT[])
                AS u (n, c, s, hs, g, hc, p, r, hr, j)
            """, logger: logger)

        let messages = zip(numbers, batch).flatMap { number, new in new.transcript.map { (number, $0) } }
        if !messages.isEmpty {
            let names = Nullable(messages.map(\.1.name))
            try await connection.query(
                """
                INSERT INTO ticket_messages (ticket, author, name, text, at)
                SELECT t, a, CASE WHEN hn THEN n END, x, w
                FROM UNNEST(\(messages.map(\.0))::BIGINT[], \(messages.map(\.1.author.rawValue))::TEXT[],
                    \(names.values)::TEXT[], \(names.present)::BOOL[], \(messages.map(\.1.text))::TEXT[],
                    \(messages.map(\.1.at))::TIMESTAMPTZ[]) WITH ORDINALITY AS u (t, a, n, hn, x, w, o)
                ORDER BY o
                """, logger: logger)
        }

        let tickets = zip(numbers, batch).map { number, new in
            Ticket(
                reference: TicketReference(number: number), conversationID: new.conversationID, service: new.service,
                category: new.category, priority: new.priority, status: .queued, createdAt: now, updatedAt: now,
                replyBy: new.replyBy, slots: new.slots, transcript: new.transcript)
        }
        let records = zip(tickets, batch).map { ticket, new in TicketLifecycle.creation(of: ticket, by: new.actor) }
        try await connection.query(
            """
            INSERT INTO ticket_audit (ticket, actor, at, from_status, to_status, action, note)
            SELECT t, a, \(now), NULL, 'queued', 'created', NULL
            FROM UNNEST(\(numbers)::BIGINT[], \(records.map(\.0.actor))::TEXT[]) WITH ORDINALITY AS u (t, a, o)
            ORDER BY o
            """, logger: logger)
        try await appendChanges(Array(zip(numbers, records.map(\.1))), connection, logger)
        return tickets
    }

    private static func persist(
        _ mutation: TicketMutation, _ connection: PostgresConnection, _ logger: Logger
    ) async throws {
        let ticket = mutation.ticket
        let number = ticket.reference.number
        try await connection.query(
            """
            UPDATE tickets SET status = \(ticket.status.rawValue), agent = \(ticket.agent),
                updated_at = \(ticket.updatedAt), contact = \(ticket.contact)
            WHERE number = \(number)
            """, logger: logger)
        if let message = mutation.message { try await insertMessage(message, number, connection, logger) }
        try await insertAudit(mutation.audit, number, connection, logger)
    }

    private static func insertMessage(
        _ message: TicketMessage, _ number: Int64, _ connection: PostgresConnection, _ logger: Logger
    ) async throws {
        try await connection.query(
            """
            INSERT INTO ticket_messages (ticket, author, name, text, at)
            VALUES (\(number), \(message.author.rawValue), \(message.name), \(message.text), \(message.at))
            """, logger: logger)
    }

    private static func insertAudit(
        _ entry: AuditEntry, _ number: Int64, _ connection: PostgresConnection, _ logger: Logger
    ) async throws {
        try await connection.query(
            """
            INSERT INTO ticket_audit (ticket, actor, at, from_status, to_status, action, note)
            VALUES (\(number), \(entry.actor), \(entry.at), \(entry.from?.rawValue), \(entry.to?.rawValue),
                \(entry.action), \(entry.note))
            """, logger: logger)
    }

    /// Writes feed rows last, under the feed lock held until commit: ids are drawn and committed in one order.
    private static func appendChanges(
        _ changes: [(Int64, ChangeDraft)], _ connection: PostgresConnection, _ logger: Logger
    ) async throws {
        guard !changes.isEmpty else { return }
        try await connection.query(
            "SELECT pg_advisory_xact_lock(\(PostgresSchema.feedLock), hashtext(COALESCE(current_schema(), '')))",
            logger: logger)
        let texts = Nullable(changes.map(\.1.text))
        let actors = Nullable(changes.map(\.1.actor))
        try await connection.query(
            """
            INSERT INTO ticket_changes (ticket, kind, status, text, actor, at)
            SELECT t, k, s, CASE WHEN hx THEN x END, CASE WHEN ha THEN a END, w
            FROM UNNEST(\(changes.map(\.0))::BIGINT[], \(changes.map(\.1.kind.rawValue))::TEXT[],
                \(changes.map(\.1.status.rawValue))::TEXT[], \(texts.values)::TEXT[], \(texts.present)::BOOL[],
                \(actors.values)::TEXT[], \(actors.present)::BOOL[], \(changes.map(\.1.at))::TIMESTAMPTZ[])
                WITH ORDINALITY AS u (t, k, s, x, hx, a, ha, w, o)
            ORDER BY o
            """, logger: logger)
    }
}

/// A column of optional values as two bindable arrays: the values (a placeholder where nil) and whether each
/// is present.
private struct Nullable<Value> {
    var values: [Value]
    var present: [Bool]

    init(_ column: [Value?], placeholder: Value) {
        values = column.map { $0 ?? placeholder }
        present = column.map { $0 != nil }
    }
}

extension Nullable where Value == String {
    init(_ column: [String?]) { self.init(column, placeholder: "") }
}
