import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The package root: this file is `<root>/Tests/ClerkCLITests/ServeTests.swift`.
private let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

@Test func serveAnswersHealthzOnAFreePortAndStopsOnSigterm() async throws {
    // Find the binary the same way the other CLI tests do: run `clerk --help` through them first.
    let help = try await clerk(["--help"])
    #expect(help.status == 0)
    let binary = try #require(locateClerk())

    let process = Process()
    process.executableURL = binary
    process.arguments = ["serve", "--http-port", "0", "--content", root.path]
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    defer { if process.isRunning { process.terminate() } }

    // The server prints the address it listens on once ready.
    var port: Int?
    var printed = ""
    let deadline = Date().addingTimeInterval(30)
    while port == nil && Date() < deadline {
        let data = output.fileHandleForReading.availableData
        if data.isEmpty { break }
        printed += String(decoding: data, as: UTF8.self)
        if let range = printed.range(of: #"http://127\.0\.0\.1:(\d+)"#, options: .regularExpression) {
            port = Int(printed[range].split(separator: ":").last ?? "")
        }
    }
    let listening = try #require(port, "no address printed: \(printed)")

    let (data, response) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(listening)/healthz")!)
    #expect((response as? HTTPURLResponse)?.statusCode == 200)
    let body = try JSONSerialization.jsonObject(with: data) as? [String: Any]
    #expect(body?["status"] as? String == "ok")
    #expect((body?["intents"] as? Int ?? 0) > 0)

    process.terminate()  // SIGTERM
    let stopped = Date().addingTimeInterval(15)
    while process.isRunning && Date() < stopped { try await Task.sleep(for: .milliseconds(50)) }
    #expect(!process.isRunning, "clerk serve did not stop on SIGTERM")
    #expect(process.terminationStatus == 0)
}

@Test func serveRefusesBrokenContentAndServesNothing() async throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("clerk-serve-\(UUID().uuidString)")
    try FileManager.default.createDirectory(
        at: folder.appendingPathComponent("intents"), withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    try Data("- id: x\n  patterns: [\"(unclosed\"]\n  reply: hi\n".utf8)
        .write(to: folder.appendingPathComponent("intents/x.yaml"))
    let run = try await clerk(["serve", "--http-port", "0", "--content", folder.path])
    #expect(run.status == 1, "\(run)")
    #expect(run.stderr.contains("intents/x.yaml:2:"), "\(run)")
}

/// The `clerk` binary next to the test bundle or in the package's build folders.
private func locateClerk() -> URL? {
    let files = FileManager.default
    var folders: [URL] = []
    if let first = ProcessInfo.processInfo.arguments.first {
        var folder = URL(fileURLWithPath: first).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            folders.append(folder)
            folder = folder.deletingLastPathComponent()
        }
    }
    let names = (try? files.contentsOfDirectory(atPath: root.path)) ?? []
    folders += names.filter { $0.hasPrefix(".build") }.map {
        root.appendingPathComponent($0).appendingPathComponent("debug")
    }
    return folders.map { $0.appendingPathComponent("clerk") }.first { files.isExecutableFile(atPath: $0.path) }
}
