import PostgresNIO

/// The PostgreSQL schema: the same tables and columns as SQLite's (`SQLiteSchema`), with PostgreSQL types
/// (`timestamptz`, `jsonb`, `bytea`) and a sequence for ticket numbers. Migrations are named and append-only; the
/// names applied are kept in `clerk_migrations`.
enum PostgresSchema {
    /// Advisory lock keys: one serialises migrations across nodes, the other the change feed's commits. Each is
    /// paired with a hash of the schema, so installations in different schemas never wait for each other.
    static let migrationLock: Int32 = 0x436c_6b4d
    static let feedLock: Int32 = 0x436c_6b46

    static let migrations: [(name: String, statements: [String])] = [
        (
            "v1",
            [
                "CREATE SEQUENCE ticket_numbers START WITH 1001",
                """
                CREATE TABLE tickets (
                    number BIGINT PRIMARY KEY DEFAULT nextval('ticket_numbers'),
                    conversation_id TEXT NOT NULL,
                    service TEXT,
                    category TEXT,
                    priority TEXT NOT NULL,
                    status TEXT NOT NULL,
                    agent TEXT,
                    created_at TIMESTAMPTZ NOT NULL,
                    updated_at TIMESTAMPTZ NOT NULL,
                    reply_by TIMESTAMPTZ,
                    contact TEXT,
                    slots JSONB NOT NULL DEFAULT '{}'
                )
                """,
                "ALTER SEQUENCE ticket_numbers OWNED BY tickets.number",
                "CREATE INDEX tickets_by_status ON tickets (status, created_at)",
                "CREATE INDEX tickets_by_conversation ON tickets (conversation_id)",
                """
                CREATE TABLE ticket_messages (
                    id BIGSERIAL PRIMARY KEY,
                    ticket BIGINT NOT NULL REFERENCES tickets (number),
                    author TEXT NOT NULL,
                    name TEXT,
                    text TEXT NOT NULL,
                    at TIMESTAMPTZ NOT NULL
                )
                """,
                "CREATE INDEX ticket_messages_by_ticket ON ticket_messages (ticket, id)",
                """
                CREATE TABLE ticket_audit (
                    id BIGSERIAL PRIMARY KEY,
                    ticket BIGINT NOT NULL REFERENCES tickets (number),
                    actor TEXT NOT NULL,
                    at TIMESTAMPTZ NOT NULL,
                    from_status TEXT,
                    to_status TEXT,
                    action TEXT NOT NULL,
                    note TEXT
                )
                """,
                "CREATE INDEX ticket_audit_by_ticket ON ticket_audit (ticket, id)",
                """
                CREATE TABLE ticket_changes (
                    id BIGSERIAL PRIMARY KEY,
                    ticket BIGINT NOT NULL REFERENCES tickets (number),
                    kind TEXT NOT NULL,
                    status TEXT NOT NULL,
                    text TEXT,
                    actor TEXT,
                    at TIMESTAMPTZ NOT NULL
                )
                """,
                """
                CREATE TABLE agents (
                    name TEXT PRIMARY KEY,
                    role TEXT NOT NULL,
                    token_hash TEXT NOT NULL UNIQUE,
                    created_at TIMESTAMPTZ NOT NULL,
                    revoked_at TIMESTAMPTZ
                )
                """,
                "CREATE TABLE agent_activity (name TEXT PRIMARY KEY, last_seen_at TIMESTAMPTZ NOT NULL)",
                """
                CREATE TABLE sessions (
                    id TEXT PRIMARY KEY,
                    resume_token_hash TEXT NOT NULL UNIQUE,
                    state BYTEA NOT NULL,
                    updated_at TIMESTAMPTZ NOT NULL
                )
                """,
                "CREATE INDEX sessions_by_age ON sessions (updated_at)",
                """
                CREATE TABLE turns (
                    id BIGSERIAL PRIMARY KEY,
                    conversation_id TEXT NOT NULL,
                    at TIMESTAMPTZ NOT NULL,
                    text TEXT NOT NULL,
                    outcome TEXT NOT NULL,
                    intent TEXT,
                    score DOUBLE PRECISION
                )
                """,
                "CREATE INDEX turns_by_time ON turns (at)",
            ]
        ),
        // v2: transcripts leave the session state for chunks that are appended, not rewritten with every save. A
        // session saved before keeps its transcript in `state` until it is saved again.
        (
            "v2",
            [
                """
                CREATE TABLE session_transcripts (
                    id BIGSERIAL PRIMARY KEY,
                    session_id TEXT NOT NULL,
                    lines BYTEA NOT NULL
                )
                """,
                "CREATE INDEX session_transcripts_by_session ON session_transcripts (session_id, id)",
            ]
        ),
    ]

    /// Applies the migrations not yet applied, in one transaction, holding a lock so that nodes starting together
    /// do not race.
    static func migrate(_ connection: PostgresConnection, schema: String?, logger: Logger) async throws {
        try await connection.query(
            "SELECT pg_advisory_xact_lock(\(migrationLock), hashtext(\(schema ?? "")))", logger: logger)
        if let schema {
            // A plain name (checked by PostgresLocation), so it needs no quoting.
            try await connection.query(
                PostgresQuery(unsafeSQL: "CREATE SCHEMA IF NOT EXISTS \(schema)"), logger: logger)
        }
        try await connection.query(
            "CREATE TABLE IF NOT EXISTS clerk_migrations (name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)",
            logger: logger)
        var applied: Set<String> = []
        for try await name in try await connection.query("SELECT name FROM clerk_migrations", logger: logger)
            .decode(String.self)
        {
            applied.insert(name)
        }
        for migration in migrations where !applied.contains(migration.name) {
            for statement in migration.statements {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            }
            try await connection.query(
                "INSERT INTO clerk_migrations (name, applied_at) VALUES (\(migration.name), now())", logger: logger)
        }
    }
}
