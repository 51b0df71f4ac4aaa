import Foundation

/// Where tickets are kept: a SQLite file (the default) or a PostgreSQL database shared by several nodes.
///
/// ```swift
/// try StoreLocation(parsing: "sqlite:./data/clerk.sqlite")
/// try StoreLocation(parsing: "data/clerk.sqlite")                         // a bare path is a SQLite file
/// try StoreLocation(parsing: "postgres://clerk:secret@db.internal:5432/clerk")
/// ```
public enum StoreLocation: Sendable, Hashable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(PostgresLocation)

    /// `sqlite:./data/clerk.sqlite`
    public static let `default` = StoreLocation.sqlite(path: "./data/clerk.sqlite")

    /// Reads `sqlite:PATH`, a bare path, or `postgres://user:password@host:port/database` (also `postgresql://`).
    ///
    /// - Throws: ``TicketStoreError/invalidLocation(_:reason:)`` saying what is wrong.
    public init(parsing text: String) throws(TicketStoreError) {
        let text = text.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty else {
            throw .invalidLocation(text, reason: "it is empty; use sqlite:PATH or postgres://user@host/database")
        }
        let lowered = text.lowercased()
        if lowered.hasPrefix("postgres://") || lowered.hasPrefix("postgresql://") {
            self = .postgres(try PostgresLocation(parsing: text))
            return
        }
        if lowered.hasPrefix("sqlite:") {
            var path = String(text.dropFirst("sqlite:".count))
            if path.hasPrefix("//") { path.removeFirst(2) }  // sqlite://relative or sqlite:///absolute
            guard !path.isEmpty else { throw .invalidLocation(text, reason: "the SQLite path is empty") }
            self = .sqlite(path: path)
            return
        }
        if let colon = text.firstIndex(of: ":"), text[..<colon].allSatisfy({ $0.isLetter || $0 == "+" }),
            text[colon...].hasPrefix("://")
        {
            throw .invalidLocation(
                text,
                reason: "'\(text[..<colon])' is not a supported store; use sqlite:PATH or postgres://user@host/database"
            )
        }
        self = .sqlite(path: text)
    }

    /// The location as it can be given again, with any password hidden.
    public var description: String {
        switch self {
        case .sqlite(let path): "sqlite:\(path)"
        case .postgres(let location): location.description
        }
    }
}

/// A PostgreSQL server and database, from a `postgres://` URL.
public struct PostgresLocation: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    /// Whether to require TLS (`?sslmode=require`); off by default, for a server on a private network.
    public var requireTLS: Bool
    /// A schema to keep Clerk's tables in (`?schema=clerk`), created when missing; nil for the user's default
    /// search path (normally `public`). Several Clerk installations can share one database this way.
    public var schema: String?

    public init(
        host: String, port: Int = 5432, username: String, password: String? = nil, database: String,
        requireTLS: Bool = false, schema: String? = nil
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.requireTLS = requireTLS
        self.schema = schema
    }

    /// Reads `postgres://user:password@host:port/database?sslmode=disable|require&schema=NAME`.
    public init(parsing text: String) throws(TicketStoreError) {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            scheme == "postgres" || scheme == "postgresql"
        else {
            throw .invalidLocation(text, reason: "it is not a URL like postgres://user:password@host:5432/database")
        }
        guard let host = components.host, !host.isEmpty else {
            throw .invalidLocation(text, reason: "the URL names no host (postgres://user@HOST:5432/database)")
        }
        guard let user = components.user, !user.isEmpty else {
            throw .invalidLocation(text, reason: "the URL names no user (postgres://USER@host:5432/database)")
        }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else {
            throw .invalidLocation(text, reason: "the URL names no database (postgres://user@host:5432/DATABASE)")
        }
        if let port = components.port, !(1...65535).contains(port) {
            throw .invalidLocation(text, reason: "the port \(port) is out of range")
        }
        var requireTLS = false
        var schema: String?
        for item in components.queryItems ?? [] {
            switch (item.name, item.value ?? "") {
            case ("sslmode", "disable"), ("sslmode", "allow"), ("sslmode", "prefer"): requireTLS = false
            case ("sslmode", "require"), ("sslmode", "verify-ca"), ("sslmode", "verify-full"): requireTLS = true
            case ("schema", let name):
                guard Self.isPlainName(name) else {
                    throw .invalidLocation(
                        text, reason: "the schema '\(name)' must be lowercase letters, digits and '_', 1–63 of them")
                }
                schema = name
            default:
                throw .invalidLocation(
                    text,
                    reason: "unknown option '\(item.name)=\(item.value ?? "")' (known: sslmode=disable|require, "
                        + "schema=NAME)")
            }
        }
        self.init(
            host: host, port: components.port ?? 5432, username: user, password: components.password,
            database: database, requireTLS: requireTLS, schema: schema)
    }

    /// A name that needs no quoting in SQL: lowercase ASCII letters, digits and `_`, not starting with a digit.
    static func isPlainName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, !("0"..."9").contains(first), name.utf8.count <= 63 else {
            return false
        }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }

    /// The URL with the password replaced by `***`.
    public var description: String {
        let secret = password == nil ? "" : ":***"
        let options = (requireTLS ? ["sslmode=require"] : []) + (schema.map { ["schema=\($0)"] } ?? [])
        let query = options.isEmpty ? "" : "?" + options.joined(separator: "&")
        return "postgres://\(username)\(secret)@\(host):\(port)/\(database)\(query)"
    }
}

/// Opens the store at `location`, creating or upgrading its schema.
///
/// Call ``TicketStore/shutdown()`` on the result when done (it closes PostgreSQL connections).
///
/// ```swift
/// let store = try await openStore(try StoreLocation(parsing: "sqlite:./data/clerk.sqlite"))
/// defer { Task { await store.shutdown() } }
/// ```
public func openStore(
    _ location: StoreLocation = .default, synchronous: SQLiteSynchronous = .full,
    clock: @escaping StoreClock = { Date() }
) async throws -> any TicketStore {
    switch location {
    case .sqlite(let path):
        return try SQLiteTicketStore(path: path, synchronous: synchronous, clock: clock)
    case .postgres(let postgres):
        return try await PostgresTicketStore.open(postgres, clock: clock)
    }
}
