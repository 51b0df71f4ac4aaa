import ArgumentParser
import ClerkStore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// `--store LOCATION`, shared by every command that reads or changes tickets and agents.
struct StoreOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Where tickets are kept: sqlite:PATH (or a bare path) or postgres://user:password@host:port/database.",
            valueName: "location"))
    var store: String = StoreLocation.default.description

    func validate() throws {
        do {
            _ = try StoreLocation(parsing: store)
        } catch {
            throw ValidationError(error.description)
        }
    }

    /// Opens the store, runs `body` on it and closes it. A store error is printed as `error: …` and exits with
    /// status 1.
    func withStore<T>(_ body: (any TicketStore) async throws -> T) async throws -> T {
        let location: StoreLocation
        do {
            location = try StoreLocation(parsing: store)
        } catch {
            throw ValidationError(error.description)
        }
        let opened: any TicketStore
        do {
            opened = try await openStore(location)
        } catch {
            printError("error: \(error.localizedDescription)")
            throw ExitCode(1)
        }
        do {
            let result = try await body(opened)
            await opened.shutdown()
            return result
        } catch let error as TicketStoreError {
            await opened.shutdown()
            printError("error: \(error.description)")
            throw ExitCode(1)
        } catch {
            await opened.shutdown()
            throw error
        }
    }
}

/// `--json`, for scripts.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print JSON instead of text.")
    var json = false
}

/// How output is laid out: aligned tables for a person at a terminal, tab-separated lines for pipes.
enum Terminal {
    static var isInteractive: Bool { isatty(STDOUT_FILENO) != 0 }

    /// Prints rows: aligned under a header on a terminal; tab-separated, without the header, on a pipe.
    static func printTable(header: [String], rows: [[String]]) {
        guard isInteractive else {
            for row in rows { print(row.joined(separator: "\t")) }
            return
        }
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == cells.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ").replacing(#/ +$/#, with: "")
        }
        print(line(header))
        for row in rows { print(line(row)) }
    }

    /// Encodes a value as JSON with snake_case keys and ISO 8601 dates, and prints it.
    static func printJSON(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    /// `2026-03-02 11:00` in the local time zone.
    static func time(_ date: Date?) -> String {
        guard let date else { return "-" }
        let parts = Calendar.current.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        return String(
            format: "%04d-%02d-%02d %02d:%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0, parts.hour ?? 0,
            parts.minute ?? 0)
    }
}

/// Who is at the keyboard, for the audit trail: `$CLERK_AGENT`, else the login name.
func defaultAgentName() -> String? {
    let environment = ProcessInfo.processInfo.environment
    for key in ["CLERK_AGENT", "USER", "LOGNAME"] {
        if let value = environment[key], !value.isEmpty { return value }
    }
    return nil
}

/// Reads a ticket reference; a malformed one is printed as an error and exits with status 1.
func parseReference(_ text: String) throws -> TicketReference {
    do {
        return try TicketReference(parsing: text)
    } catch {
        printError("error: \(error.description)")
        throw ExitCode(1)
    }
}
