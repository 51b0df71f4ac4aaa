import Foundation
import GRDB
import GRDBSQLite

/// How hard SQLite works to keep a commit on disk (`PRAGMA synchronous`).
public enum SQLiteSynchronous: String, Sendable, CaseIterable {
    /// Every commit is flushed to disk before it is acknowledged: an acknowledged ticket survives a power cut.
    case full = "FULL"
    /// Commits are flushed at checkpoints: a power cut (not a crash of Clerk) can lose the last commits.
    case normal = "NORMAL"

    /// Reads `full` or `normal`, any case.
    public init?(name: String) {
        self.init(rawValue: name.uppercased())
    }
}

/// The embedded ticket store: one SQLite file in WAL mode, through a GRDB `DatabasePool` (one writer, concurrent
/// readers). Concurrent ticket creations share one transaction (group commit), so a durable commit is paid once
/// per batch.
///
/// ```swift
/// let store = try SQLiteTicketStore(path: "data/clerk.sqlite")
/// ```
public final class SQLiteTicketStore: TicketStore {
    /// The database file.
    public let path: String
    private let pool: DatabasePool
    private let clock: StoreClock
    private let creations: GroupCommit<NewTicket, Ticket>

    /// Opens (or creates, with its folder) the database at `path` and brings its schema up to date.
    ///
    /// - Throws: ``TicketStoreError/unavailable(_:)`` with a readable reason when the file is read-only, is not a
    ///   database, or cannot be created.
    public init(
        path: String, synchronous: SQLiteSynchronous = .full, clock: @escaping StoreClock = { Date() }
    )
        throws(TicketStoreError)
    {
        guard !path.isEmpty else { throw .invalidLocation(path, reason: "the SQLite path is empty") }
        self.path = path
        self.clock = clock
        try Self.prepareFile(at: path)

        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.label = "ClerkStore"
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        let pool: DatabasePool
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            // Only the writer's setting matters. It is set here, after the pool has opened the writer, because
            // GRDB sets synchronous=NORMAL when it switches a new connection to WAL (after prepareDatabase).
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = \(synchronous.rawValue)")
            }
            try SQLiteSchema.migrator.migrate(pool)
        } catch {
            throw (Self.storeError(error, path: path, opening: true) as? TicketStoreError)
                ?? .unavailable("Cannot open the ticket store '\(path)': \(error)")
        }
        self.pool = pool
        self.creations = GroupCommit { [pool, clock] batch in
            try await pool.write { db in
                let now = StoreTime.rounded(clock())
                return try batch.map { try Self.insert($0, at: now, db) }
            }
        }
    }

    /// Makes the folder; refuses a file nobody may write, even when running as root (who could write it anyway).
    private static func prepareFile(at path: String) throws(TicketStoreError) {
        let files = FileManager.default
        let folder = (path as NSString).deletingLastPathComponent
        var folderIsDirectory: ObjCBool = false
        if !folder.isEmpty, files.fileExists(atPath: folder, isDirectory: &folderIsDirectory) {
            guard folderIsDirectory.boolValue else {
                throw .unavailable("Cannot keep the ticket store in '\(folder)': it is a file, not a folder")
            }
        } else if !folder.isEmpty {
            do {
                try files.createDirectory(atPath: folder, withIntermediateDirectories: true)
            } catch {
                throw .unavailable(
                    "Cannot create the folder '\(folder)' for the ticket store: \(error.localizedDescription)")
            }
        }
        var isDirectory: ObjCBool = false
        guard files.fileExists(atPath: path, isDirectory: &isDirectory) else { return }
        if isDirectory.boolValue {
            throw .unavailable("The ticket store '\(path)' is a folder; give the path of a database file")
        }
        let permissions = (try? files.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? 0o644
        if permissions & 0o222 == 0 || !files.isWritableFile(atPath: path) {
            throw .unavailable(
                "The ticket store '\(path)' is read-only; make it writable (chmod u+w '\(path)') or choose another "
                    + "--store")
        }
    }

    /// A readable error for a failed database call.
    private static func storeError(_ error: any Error, path: String, opening: Bool = false) -> any Error {
        if error is TicketStoreError || error is CancellationError { return error }
        guard let error = error as? DatabaseError else {
            return TicketStoreError.unavailable("The ticket store '\(path)' failed: \(error)")
        }
        let reason = error.message ?? "\(error.resultCode)"
        switch error.resultCode.primaryResultCode {
        case .SQLITE_READONLY, .SQLITE_PERM:
            return TicketStoreError.unavailable(
                "The ticket store '\(path)' is read-only (\(reason)); make the file and its folder writable or "
                    + "choose another --store")
        case .SQLITE_CANTOPEN:
            return TicketStoreError.unavailable(
                "Cannot open the ticket store '\(path)' (\(reason)); check that its folder exists and is writable")
        case .SQLITE_NOTADB, .SQLITE_CORRUPT:
            return TicketStoreError.unavailable("'\(path)' is not a usable SQLite database (\(reason))")
        case .SQLITE_FULL:
            return TicketStoreError.unavailable("The disk holding the ticket store '\(path)' is full")
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return TicketStoreError.unavailable(
                "The ticket store '\(path)' stayed locked by another process for 10 seconds; try again")
        default:
            let verb = opening ? "Cannot open" : "Cannot use"
            return TicketStoreError.unavailable("\(verb) the ticket store '\(path)': \(reason)")
        }
    }

    private func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.write(body)
        } catch {
            throw Self.storeError(error, path: path)
        }
    }

    private func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.read(body)
        } catch {
            throw Self.storeError(error, path: path)
        }
    }

    /// The durability the writer really uses (`PRAGMA synchronous` on the writing connection).
    public func currentSynchronous() async throws -> SQLiteSynchronous {
        try await write { db in
            try Int.fetchOne(db, sql: "PRAGMA synchronous") == 2 ? .full : .normal
        }
    }

    // MARK: Tickets

    public func createTicket(_ new: NewTicket) async throws -> Ticket {
        let new = try TicketLifecycle.validate(new)
        do {
            return try await creations.submit(new)
        } catch {
            throw Self.storeError(error, path: path)
        }
    }

    public func ticket(_ reference: TicketReference) async throws -> Ticket? {
        try await read { db in try Self.fetchTicket(reference.number, db) }
    }

    public func tickets(status: [TicketStatus]?, limit: Int) async throws -> [Ticket] {
        try await read { db in
            var sql = "SELECT * FROM tickets"
            var arguments = StatementArguments()
            if let status {
                guard !status.isEmpty else { return [] }
                sql += " WHERE status IN (\(databaseQuestionMarks(count: status.count)))"
                arguments += StatementArguments(status.map(\.rawValue))
            }
            sql += " ORDER BY \(StoredValues.listOrder) LIMIT ?"
            arguments += [max(0, limit)]
            let rows = try Row.fetchAll(db, sql: sql, arguments: arguments)
            guard !rows.isEmpty else { return [] }
            let numbers: [Int64] = rows.map { $0["number"] }
            let messageRows = try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM ticket_messages WHERE ticket IN (\(databaseQuestionMarks(count: numbers.count)))
                    ORDER BY id
                    """, arguments: StatementArguments(numbers))
            var transcripts: [Int64: [TicketMessage]] = [:]
            for row in messageRows { transcripts[row["ticket"], default: []].append(try Self.message(row)) }
            return try rows.map { try Self.ticket($0, transcript: transcripts[$0["number"]] ?? []) }
        }
    }

    public func apply(_ action: TicketAction, to reference: TicketReference) async throws -> Ticket {
        let clock = self.clock
        return try await write { db in
            guard let ticket = try Self.fetchTicket(reference.number, db) else {
                throw TicketStoreError.notFound(reference)
            }
            guard let mutation = try TicketLifecycle.apply(action, to: ticket, at: StoreTime.rounded(clock())) else {
                return ticket
            }
            try Self.persist(mutation, db)
            return mutation.ticket
        }
    }

    public func closeResolved(olderThan date: Date) async throws -> [Ticket] {
        let clock = self.clock
        return try await write { db in
            let numbers = try Int64.fetchAll(
                db, sql: "SELECT number FROM tickets WHERE status = 'resolved' AND updated_at < ? ORDER BY number",
                arguments: [StoreTime.milliseconds(date)])
            let now = StoreTime.rounded(clock())
            return try numbers.compactMap { number in
                guard let ticket = try Self.fetchTicket(number, db),
                    let mutation = try TicketLifecycle.apply(.close(actor: "system"), to: ticket, at: now)
                else { return nil }
                try Self.persist(mutation, db)
                return mutation.ticket
            }
        }
    }

    public func audit(_ reference: TicketReference) async throws -> [AuditEntry] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM ticket_audit WHERE ticket = ? ORDER BY id", arguments: [reference.number]
            )
            .map { row in
                AuditEntry(
                    actor: row["actor"], at: StoreTime.date(milliseconds: row["at"]),
                    from: try StoredValues.optionalStatus(row["from_status"]),
                    to: try StoredValues.optionalStatus(row["to_status"]), action: row["action"], note: row["note"])
            }
        }
    }

    public func changes(after id: Int64, limit: Int) async throws -> [TicketChange] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM ticket_changes WHERE id > ? ORDER BY id LIMIT ?",
                arguments: [id, max(0, limit)]
            )
            .map { row in
                TicketChange(
                    id: row["id"], reference: TicketReference(number: row["ticket"]),
                    kind: try StoredValues.changeKind(row["kind"]), status: try StoredValues.status(row["status"]),
                    text: row["text"], actor: row["actor"], at: StoreTime.date(milliseconds: row["at"]))
            }
        }
    }

    public func latestChangeID() async throws -> Int64 {
        try await read { db in try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(id), 0) FROM ticket_changes") ?? 0 }
    }

    // MARK: Agents

    public func addAgent(name: String, role: AgentRole) async throws -> String {
        let name = try TicketLifecycle.validName(name, "agent")
        let token = AgentToken.generate()
        let now = StoreTime.milliseconds(clock())
        try await write { db in
            if try Bool.fetchOne(
                db, sql: "SELECT 1 FROM agents WHERE name = ? AND revoked_at IS NULL", arguments: [name]) == true
            {
                throw TicketStoreError.agentExists(name)
            }
            try db.execute(
                sql: """
                    INSERT INTO agents (name, role, token_hash, created_at, revoked_at) VALUES (?, ?, ?, ?, NULL)
                    ON CONFLICT (name) DO UPDATE SET role = excluded.role, token_hash = excluded.token_hash,
                        created_at = excluded.created_at, revoked_at = NULL
                    """, arguments: [name, role.rawValue, AgentToken.hash(token), now])
        }
        return token
    }

    public func revokeAgent(_ name: String) async throws {
        let now = StoreTime.milliseconds(clock())
        try await write { db in
            try db.execute(
                sql: "UPDATE agents SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL", arguments: [now, name])
            guard db.changesCount > 0 else { throw TicketStoreError.unknownAgent(name) }
            try db.execute(sql: "DELETE FROM agent_activity WHERE name = ?", arguments: [name])
        }
    }

    public func agent(forToken token: String) async throws -> Agent? {
        let hash = AgentToken.hash(token)
        return try await read { db in
            try Row.fetchOne(
                db, sql: "\(Self.agentQuery) WHERE a.token_hash = ? AND a.revoked_at IS NULL", arguments: [hash]
            ).map(Self.agent)
        }
    }

    public func agents() async throws -> [Agent] {
        try await read { db in try Row.fetchAll(db, sql: "\(Self.agentQuery) ORDER BY a.name").map(Self.agent) }
    }

    public func touchAgent(_ name: String, at date: Date) async throws {
        let name = try TicketLifecycle.validName(name, "agent")
        try await write { db in
            try db.execute(
                sql: """
                    INSERT INTO agent_activity (name, last_seen_at) VALUES (?, ?)
                    ON CONFLICT (name) DO UPDATE SET last_seen_at = max(last_seen_at, excluded.last_seen_at)
                    """, arguments: [name, StoreTime.milliseconds(date)])
        }
    }

    public func agentsActive(since date: Date) async throws -> [String] {
        try await read { db in
            try String.fetchAll(
                db,
                sql: """
                    SELECT t.name FROM agent_activity t LEFT JOIN agents a ON a.name = t.name
                    WHERE t.last_seen_at >= ? AND a.revoked_at IS NULL ORDER BY t.name
                    """, arguments: [StoreTime.milliseconds(date)])
        }
    }

    private static let agentQuery = """
        SELECT a.name, a.role, a.created_at, a.revoked_at, t.last_seen_at
        FROM agents a LEFT JOIN agent_activity t ON t.name = a.name
        """

    private static func agent(_ row: Row) throws -> Agent {
        Agent(
            name: row["name"], role: try StoredValues.role(row["role"]),
            createdAt: StoreTime.date(milliseconds: row["created_at"]),
            lastSeenAt: (row["last_seen_at"] as Int64?).map(StoreTime.date(milliseconds:)),
            revokedAt: (row["revoked_at"] as Int64?).map(StoreTime.date(milliseconds:)))
    }

    // MARK: Sessions

    public func saveSession(id: String, resumeTokenHash: String, state: Data, updatedAt: Date) async throws {
        try await write { db in
            try db.execute(
                sql: """
                    INSERT INTO sessions (id, resume_token_hash, state, updated_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET resume_token_hash = excluded.resume_token_hash,
                        state = excluded.state, updated_at = excluded.updated_at
                    """, arguments: [id, resumeTokenHash, state, StoreTime.milliseconds(updatedAt)])
        }
    }

    public func saveSessions(_ sessions: [StoredSession]) async throws {
        guard !sessions.isEmpty else { return }
        try await write { db in
            let statement = try db.makeStatement(
                sql: """
                    INSERT INTO sessions (id, resume_token_hash, state, updated_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET resume_token_hash = excluded.resume_token_hash,
                        state = excluded.state, updated_at = excluded.updated_at
                    """)
            let clear = try db.makeStatement(sql: "DELETE FROM session_transcripts WHERE session_id = ?")
            let append = try db.makeStatement(sql: "INSERT INTO session_transcripts (session_id, lines) VALUES (?, ?)")
            for session in sessions {
                try statement.execute(arguments: [
                    session.id, session.resumeTokenHash, session.state, StoreTime.milliseconds(session.updatedAt),
                ])
                if session.replacesTranscript { try clear.execute(arguments: [session.id]) }
                for chunk in session.transcript { try append.execute(arguments: [session.id, chunk]) }
            }
        }
    }

    public func session(resumeTokenHash: String) async throws -> StoredSession? {
        try await read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM sessions WHERE resume_token_hash = ?", arguments: [resumeTokenHash]
            )
            .map { try Self.session($0, db) }
        }
    }

    public func session(id: String) async throws -> StoredSession? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM sessions WHERE id = ?", arguments: [id]).map {
                try Self.session($0, db)
            }
        }
    }

    public func deleteSessions(olderThan date: Date) async throws -> Int {
        try await write { db in
            let cutoff = StoreTime.milliseconds(date)
            try db.execute(
                sql: """
                    DELETE FROM session_transcripts
                    WHERE session_id IN (SELECT id FROM sessions WHERE updated_at < ?)
                    """, arguments: [cutoff])
            try db.execute(sql: "DELETE FROM sessions WHERE updated_at < ?", arguments: [cutoff])
            return db.changesCount
        }
    }

    private static func session(_ row: Row, _ db: Database) throws -> StoredSession {
        let id: String = row["id"]
        return StoredSession(
            id: id, resumeTokenHash: row["resume_token_hash"], state: row["state"],
            updatedAt: StoreTime.date(milliseconds: row["updated_at"]),
            transcript: try Data.fetchAll(
                db, sql: "SELECT lines FROM session_transcripts WHERE session_id = ? ORDER BY id", arguments: [id]))
    }

    // MARK: Turn log

    public func appendTurns(_ turns: [TurnRecord]) async throws {
        guard !turns.isEmpty else { return }
        try await write { db in
            let statement = try db.makeStatement(
                sql: "INSERT INTO turns (conversation_id, at, text, outcome, intent, score) VALUES (?, ?, ?, ?, ?, ?)")
            // Bound with SQLite's own calls: GRDB's arguments box each value, which cost more than the insert, and a
            // batch is every turn of the last second.
            let handle = statement.sqliteStatement
            defer { sqlite3_reset(handle) }
            for turn in turns {
                sqlite3_reset(handle)
                Self.bind(turn.conversationID, at: 1, handle)
                sqlite3_bind_int64(handle, 2, StoreTime.milliseconds(turn.at))
                Self.bind(turn.text, at: 3, handle)
                Self.bind(turn.outcome, at: 4, handle)
                if let intent = turn.intent { Self.bind(intent, at: 5, handle) } else { sqlite3_bind_null(handle, 5) }
                if let score = turn.score {
                    sqlite3_bind_double(handle, 6, score)
                } else {
                    sqlite3_bind_null(handle, 6)
                }
                let code = sqlite3_step(handle)
                guard code == SQLITE_DONE else {
                    throw DatabaseError(
                        resultCode: ResultCode(rawValue: code),
                        message: String(cString: sqlite3_errmsg(db.sqliteConnection)), sql: statement.sql)
                }
            }
        }
    }

    /// Binds text to a statement's parameter; SQLite copies it.
    private static func bind(_ text: String, at index: Int32, _ statement: OpaquePointer) {
        var text = text
        text.withUTF8 { bytes in
            let characters = UnsafeRawPointer(bytes.baseAddress ?? UnsafePointer(bitPattern: 1)!)
                .assumingMemoryBound(to: CChar.self)
            _ = sqlite3_bind_text(statement, index, characters, Int32(bytes.count), Self.transient)
        }
    }

    /// SQLite's `SQLITE_TRANSIENT`: the bound value is copied before the call returns.
    private static let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

    public func turns(from: Date, to: Date) async throws -> [TurnRecord] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM turns WHERE at >= ? AND at < ? ORDER BY at, id",
                arguments: [StoreTime.milliseconds(from), StoreTime.milliseconds(to)]
            )
            .map { row in
                TurnRecord(
                    conversationID: row["conversation_id"], at: StoreTime.date(milliseconds: row["at"]),
                    text: row["text"], outcome: row["outcome"], intent: row["intent"], score: row["score"])
            }
        }
    }

    // MARK: Lifetime

    public func shutdown() async {
        try? pool.close()
    }

    // MARK: Rows

    private static func fetchTicket(_ number: Int64, _ db: Database) throws -> Ticket? {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM tickets WHERE number = ?", arguments: [number]) else {
            return nil
        }
        let transcript = try Row.fetchAll(
            db, sql: "SELECT * FROM ticket_messages WHERE ticket = ? ORDER BY id", arguments: [number]
        ).map(message)
        return try ticket(row, transcript: transcript)
    }

    private static func ticket(_ row: Row, transcript: [TicketMessage]) throws -> Ticket {
        Ticket(
            reference: TicketReference(number: row["number"]), conversationID: row["conversation_id"],
            service: row["service"], category: row["category"], priority: try StoredValues.priority(row["priority"]),
            status: try StoredValues.status(row["status"]), agent: row["agent"],
            createdAt: StoreTime.date(milliseconds: row["created_at"]),
            updatedAt: StoreTime.date(milliseconds: row["updated_at"]),
            replyBy: (row["reply_by"] as Int64?).map(StoreTime.date(milliseconds:)), contact: row["contact"],
            slots: try StoredValues.slots(row["slots"]), transcript: transcript)
    }

    private static func message(_ row: Row) throws -> TicketMessage {
        TicketMessage(
            author: try StoredValues.author(row["author"]), name: row["name"], text: row["text"],
            at: StoreTime.date(milliseconds: row["at"]))
    }

    private static func insert(_ new: NewTicket, at now: Date, _ db: Database) throws -> Ticket {
        let nowMS = StoreTime.milliseconds(now)
        try db.cachedStatement(
            sql: """
                INSERT INTO tickets (conversation_id, service, category, priority, status, created_at, updated_at,
                    reply_by, slots)
                VALUES (?, ?, ?, ?, 'queued', ?, ?, ?, ?)
                """
        ).execute(
            arguments: [
                new.conversationID, new.service, new.category, new.priority.rawValue, nowMS, nowMS,
                new.replyBy.map(StoreTime.milliseconds), StoredValues.slotsJSON(new.slots),
            ])
        let number = db.lastInsertedRowID
        for message in new.transcript { try insertMessage(message, number, db) }
        let ticket = Ticket(
            reference: TicketReference(number: number), conversationID: new.conversationID, service: new.service,
            category: new.category, priority: new.priority, status: .queued, createdAt: now, updatedAt: now,
            replyBy: new.replyBy, slots: new.slots, transcript: new.transcript)
        let (audit, change) = TicketLifecycle.creation(of: ticket, by: new.actor)
        try insertAudit(audit, number, db)
        try insertChange(change, number, db)
        return ticket
    }

    private static func persist(_ mutation: TicketMutation, _ db: Database) throws {
        let ticket = mutation.ticket
        let number = ticket.reference.number
        try db.cachedStatement(
            sql: "UPDATE tickets SET status = ?, agent = ?, updated_at = ?, contact = ? WHERE number = ?"
        ).execute(
            arguments: [
                ticket.status.rawValue, ticket.agent, StoreTime.milliseconds(ticket.updatedAt), ticket.contact, number,
            ])
        if let message = mutation.message { try insertMessage(message, number, db) }
        try insertAudit(mutation.audit, number, db)
        try insertChange(mutation.change, number, db)
    }

    private static func insertMessage(_ message: TicketMessage, _ number: Int64, _ db: Database) throws {
        try db.cachedStatement(
            sql: "INSERT INTO ticket_messages (ticket, author, name, text, at) VALUES (?, ?, ?, ?, ?)"
        ).execute(
            arguments: [
                number, message.author.rawValue, message.name, message.text, StoreTime.milliseconds(message.at),
            ])
    }

    private static func insertAudit(_ entry: AuditEntry, _ number: Int64, _ db: Database) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO ticket_audit (ticket, actor, at, from_status, to_status, action, note)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(
            arguments: [
                number, entry.actor, StoreTime.milliseconds(entry.at), entry.from?.rawValue, entry.to?.rawValue,
                entry.action, entry.note,
            ])
    }

    private static func insertChange(_ change: ChangeDraft, _ number: Int64, _ db: Database) throws {
        try db.cachedStatement(
            sql: "INSERT INTO ticket_changes (ticket, kind, status, text, actor, at) VALUES (?, ?, ?, ?, ?, ?)"
        ).execute(
            arguments: [
                number, change.kind.rawValue, change.status.rawValue, change.text, change.actor,
                StoreTime.milliseconds(change.at),
            ])
    }
}
