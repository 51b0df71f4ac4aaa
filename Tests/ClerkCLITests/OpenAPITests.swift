import Foundation
import Testing
import Yams

/// `python3` on the PATH, if there is one.
let python3: URL? = {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
    return path.split(separator: ":").map { URL(fileURLWithPath: String($0)).appendingPathComponent("python3") }
        .first { FileManager.default.isExecutableFile(atPath: $0.path) }
}()

/// docs/openapi.yaml against the OpenAPI 3.1 specification and against the server's source.
@Suite("docs/openapi.yaml")
struct OpenAPITests {
    @Test(
        .enabled(if: python3 != nil, "python3 is not installed, so scripts/openapi/validate.py cannot run"),
        .timeLimit(.minutes(10)))
    func theDocumentIsValidOpenAPI31AndItsExamplesFitTheirSchemas() async throws {
        // The script installs openapi-spec-validator (PyPI) into a virtual environment the first time.
        let run = try await validateOpenAPI([])
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.contains("valid OpenAPI 3.1"), "\(run.output)")
    }

    @Test func theDocumentDescribesEveryRouteTheServerRegistersAndNoOther() throws {
        let document = try OpenAPIDocument.load()
        let documented = Set(document.operations.map(\.description))
        let registered = try serverRoutes()
        #expect(registered.count >= 19, "\(registered.sorted())")
        #expect(
            registered.subtracting(documented).isEmpty,
            "routes of the server missing in docs/openapi.yaml: \(registered.subtracting(documented).sorted())")
        #expect(
            documented.subtracting(registered).isEmpty,
            "operations in docs/openapi.yaml the server does not have: \(documented.subtracting(registered).sorted())")
    }

    @Test func theDocumentListsEveryErrorCodeTheServerSendsAndNoOther() throws {
        let document = try OpenAPIDocument.load()
        let schemas = (document.root["components"] as? [String: Any])?["schemas"] as? [String: Any]
        let codes = Set(try #require((schemas?["ErrorCode"] as? [String: Any])?["enum"] as? [String]))
        let sent = try serverErrorCodes()
        #expect(sent.count >= 20, "\(sent.sorted())")
        #expect(sent.subtracting(codes).isEmpty, "codes missing in ErrorCode: \(sent.subtracting(codes).sorted())")
        #expect(codes.subtracting(sent).isEmpty, "codes the server never sends: \(codes.subtracting(sent).sorted())")
    }

    @Test func everyOperationHasAnIDASummaryAndJSONErrors() throws {
        let document = try OpenAPIDocument.load()
        let paths = try #require(document.root["paths"] as? [String: Any])
        var ids: Set<String> = []
        for operation in document.operations {
            let item = (paths[operation.path] as? [String: Any])?[operation.method.lowercased()] as? [String: Any]
            let id = try #require(item?["operationId"] as? String, "\(operation) has no operationId")
            #expect(ids.insert(id).inserted, "operationId \(id) is used twice")
            #expect(item?["summary"] is String, "\(operation) has no summary")
            let responses = try #require(item?["responses"] as? [String: Any], "\(operation) has no responses")
            #expect(responses.keys.contains { $0.hasPrefix("2") }, "\(operation) has no success response")
            if operation.path.hasPrefix("/v1/agent/") || operation.path.hasPrefix("/v1/admin/") {
                let security = item?["security"] as? [[String: [String]]]
                #expect(security?.first?["bearerAuth"] != nil, "\(operation) needs bearerAuth")
                #expect(responses["401"] != nil && responses["403"] != nil, "\(operation) should list 401 and 403")
            }
        }
    }

    // MARK: What the server's source declares

    /// `METHOD /path` of every `router.get("…")` and `router.post("…")` in Sources/ClerkServer, `:name` as `{name}`.
    private func serverRoutes() throws -> Set<String> {
        var routes: Set<String> = []
        for source in try serverSources() {
            for match in source.matches(of: #/router\.(get|post|put|delete|patch)\(\s*"([^"]*)"/#) {
                let path = match.2.split(separator: "/").map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : $0 }
                    .joined(separator: "/")
                routes.insert("\(match.1.uppercased()) /\(path)")
            }
        }
        return routes
    }

    /// Every `code: "…"` and `badRequest("…"` in Sources/ClerkServer's HTTP files.
    private func serverErrorCodes() throws -> Set<String> {
        var codes: Set<String> = []
        for source in try serverSources() {
            for match in source.matches(of: #/(?:code: |badRequest\(\s*)"([a-z_]+)"/#) {
                codes.insert(String(match.1))
            }
        }
        return codes
    }

    private func serverSources() throws -> [String] {
        let folder = packageRoot.appendingPathComponent("Sources/ClerkServer")
        return try FileManager.default.contentsOfDirectory(atPath: folder.path)
            .filter { $0.hasPrefix("HTTP") && $0.hasSuffix(".swift") }.sorted()
            .map { try String(contentsOf: folder.appendingPathComponent($0), encoding: .utf8) }
    }
}

/// Runs scripts/openapi/validate.py on docs/openapi.yaml with `arguments` before the file; returns its exit status
/// and what it printed.
func validateOpenAPI(_ arguments: [String]) async throws -> (status: Int32, output: String) {
    let python = try #require(python3, "python3 is not installed")
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("clerk-openapi-\(UUID())")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let outputURL = folder.appendingPathComponent("output")
    try Data().write(to: outputURL)
    let output = try FileHandle(forWritingTo: outputURL)
    defer { try? output.close() }

    let process = Process()
    process.executableURL = python
    process.arguments =
        [packageRoot.appendingPathComponent("scripts/openapi/validate.py").path] + arguments
        + [OpenAPIDocument.url.path]
    process.standardOutput = output
    process.standardError = output
    process.standardInput = FileHandle.nullDevice
    try process.run()
    while process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
    return (process.terminationStatus, String(decoding: try Data(contentsOf: outputURL), as: UTF8.self))
}

// MARK: - docs/openapi.yaml

/// The operations (method and path template) of docs/openapi.yaml.
struct OpenAPIDocument {
    struct Operation: CustomStringConvertible {
        var method: String
        var path: String

        /// Whether a request to `path` (no query) with `method` is this operation: `{name}` matches one segment.
        func matches(method: String, path: String) -> Bool {
            guard method == self.method else { return false }
            let template = self.path.split(separator: "/", omittingEmptySubsequences: false)
            let actual = path.split(separator: "/", omittingEmptySubsequences: false)
            guard template.count == actual.count else { return false }
            return zip(template, actual).allSatisfy { part, segment in
                (part.hasPrefix("{") && part.hasSuffix("}") && !segment.isEmpty) || part == segment
            }
        }

        var description: String { "\(method) \(path)" }
    }

    static let url = packageRoot.appendingPathComponent("docs/openapi.yaml")
    static let methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]

    var root: [String: Any]
    var operations: [Operation]

    static func load(sourceLocation: SourceLocation = #_sourceLocation) throws -> OpenAPIDocument {
        let text = try String(contentsOf: url, encoding: .utf8)
        let root = try #require(try Yams.load(yaml: text) as? [String: Any], sourceLocation: sourceLocation)
        let paths = try #require(root["paths"] as? [String: Any], "no paths", sourceLocation: sourceLocation)
        var operations: [Operation] = []
        for (path, item) in paths {
            let item = item as? [String: Any] ?? [:]
            for method in methods where item[method] != nil {
                operations.append(Operation(method: method.uppercased(), path: path))
            }
        }
        return OpenAPIDocument(
            root: root, operations: operations.sorted { ($0.path, $0.method) < ($1.path, $1.method) })
    }
}
