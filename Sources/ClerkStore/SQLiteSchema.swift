import GRDB

/// The SQLite schema, as named, append-only migrations. Times are integer milliseconds since 1970 (UTC), so a
/// stored time reads back exactly; `datetime(created_at / 1000, 'unixepoch')` shows one in the `sqlite3` shell.
enum SQLiteSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE tickets (
                        number INTEGER PRIMARY KEY AUTOINCREMENT,
                        conversation_id TEXT NOT NULL,
                        service TEXT,
                        category TEXT,
                        priority TEXT NOT NULL,
                        status TEXT NOT NULL,
                        agent TEXT,
                        created_at INTEGER NOT NULL,
                        updated_at INTEGER NOT NULL,
                        reply_by INTEGER,
                        contact TEXT,
                        slots TEXT NOT NULL DEFAULT '{}'
                    );
                    -- References start at T-1001: AUTOINCREMENT continues from the highest number ever used, so a
                    -- number is never handed out twice, even after a ticket row is deleted.
                    INSERT INTO sqlite_sequence (name, seq) VALUES ('tickets', 1000);
                    CREATE INDEX tickets_by_status ON tickets (status, created_at);
                    CREATE INDEX tickets_by_conversation ON tickets (conversation_id);

                    CREATE TABLE ticket_messages (
                        id INTEGER PRIMARY KEY,
                        ticket INTEGER NOT NULL REFERENCES tickets (number),
                        author TEXT NOT NULL,
                        name TEXT,
                        text TEXT NOT NULL,
                        at INTEGER NOT NULL
                    );
                    CREATE INDEX ticket_messages_by_ticket ON ticket_messages (ticket, id);

                    CREATE TABLE ticket_audit (
                        id INTEGER PRIMARY KEY,
                        ticket INTEGER NOT NULL REFERENCES tickets (number),
                        actor TEXT NOT NULL,
                        at INTEGER NOT NULL,
                        from_status TEXT,
                        to_status TEXT,
                        action TEXT NOT NULL,
                        note TEXT
                    );
                    CREATE INDEX ticket_audit_by_ticket ON ticket_audit (ticket, id);

                    CREATE TABLE ticket_changes (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        ticket INTEGER NOT NULL REFERENCES tickets (number),
                        kind TEXT NOT NULL,
                        status TEXT NOT NULL,
                        text TEXT,
                        actor TEXT,
                        at INTEGER NOT NULL
                    );

                    CREATE TABLE agents (
                        name TEXT PRIMARY KEY,
                        role TEXT NOT NULL,
                        token_hash TEXT NOT NULL UNIQUE,
                        created_at INTEGER NOT NULL,
                        revoked_at INTEGER
                    );
                    CREATE TABLE agent_activity (
                        name TEXT PRIMARY KEY,
                        last_seen_at INTEGER NOT NULL
                    );

                    CREATE TABLE sessions (
                        id TEXT PRIMARY KEY,
                        resume_token_hash TEXT NOT NULL UNIQUE,
                        state BLOB NOT NULL,
                        updated_at INTEGER NOT NULL
                    );
                    CREATE INDEX sessions_by_age ON sessions (updated_at);

                    CREATE TABLE turns (
                        id INTEGER PRIMARY KEY,
                        conversation_id TEXT NOT NULL,
                        at INTEGER NOT NULL,
                        text TEXT NOT NULL,
                        outcome TEXT NOT NULL,
                        intent TEXT,
                        score REAL
                    );
                    CREATE INDEX turns_by_time ON turns (at);
                    """)
        }
        // v2: transcripts leave the session state for chunks that are appended, not rewritten with every save. A
        // session saved before keeps its transcript in `state` until it is saved again.
        migrator.registerMigration("v2") { db in
            try db.execute(
                sql: """
                    CREATE TABLE session_transcripts (
                        id INTEGER PRIMARY KEY,
                        session_id TEXT NOT NULL,
                        lines BLOB NOT NULL
                    );
                    CREATE INDEX session_transcripts_by_session ON session_transcripts (session_id, id);
                    """)
        }
        return migrator
    }
}
