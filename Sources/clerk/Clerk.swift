import ArgumentParser

@main
struct Clerk: AsyncParsableCommand {
    /// Runs the command line. Usage errors exit with status 2 (ArgumentParser's default is 64), as every
    /// Clerk command documents: 0 success, 1 failed check or bad content, 2 usage error.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .validationFailure {
                printError(fullMessage(for: error))
                exit(withError: ExitCode(2))
            }
            exit(withError: error)
        }
    }

    static let configuration = CommandConfiguration(
        commandName: "clerk",
        abstract: "A citizen assistant: answers from content files, explains every answer, hands over to people.",
        discussion: """
            Content is read from the current directory's intents/ (and, later, knowledge/) unless --content \
            says otherwise. Settings live in an optional config/ folder beside the content.

            Examples:
              clerk chat --local                       talk to the assistant in this terminal
              clerk explain "How much is a passport?"  show how a message is understood
              clerk test                               run the golden conversations in transcripts/
              clerk lint                               check the content for problems
            """,
        subcommands: [
            ServeCommand.self, ChatCommand.self, ExplainCommand.self, TestCommand.self, LintCommand.self,
            BenchCommand.self, TicketsCommand.self, AgentsCommand.self, EvalCommand.self, ImportCommand.self,
            ReportCommand.self,
        ]
    )
}
