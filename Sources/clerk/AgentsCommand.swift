import ArgumentParser
import ClerkStore
import Foundation

struct AgentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agents",
        abstract: "Manage the people who work tickets and their bearer tokens for the agent API.",
        discussion: """
            A token is printed once, when the agent is added; the store keeps only its SHA-256 hash. To replace a \
            lost token, revoke the agent and add it again.

            Examples:
              clerk agents add alice --role agent
              clerk agents list
              clerk agents revoke alice
            """,
        subcommands: [AddAgent.self, RevokeAgent.self, ListAgents.self]
    )
}

struct AddAgent: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add an agent and print their token (shown only this once).",
        discussion: """
            The token alone goes to standard output, so a script can keep it: TOKEN=$(clerk agents add alice). \
            The reminder to store it goes to standard error.
            """
    )

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "The agent's name, unique among active agents.") var name: String
    @Option(help: "agent (works tickets) or admin (also manages agents).") var role: AgentRole = .agent

    private struct Added: Encodable {
        var name: String
        var role: AgentRole
        var token: String
    }

    func run() async throws {
        try await storeOptions.withStore { store in
            let token = try await store.addAgent(name: name, role: role)
            if output.json {
                try Terminal.printJSON(Added(name: name, role: role, token: token))
            } else {
                printError("Added \(role) '\(name)'. Their token is shown only this once; store it now:")
                print(token)
            }
        }
    }
}

extension AgentRole: ExpressibleByArgument {}

struct RevokeAgent: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke", abstract: "Revoke an agent's token; it stops working at once.")

    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: "The agent's name.") var name: String

    func run() async throws {
        try await storeOptions.withStore { store in
            try await store.revokeAgent(name)
            print("Revoked '\(name)'; their token no longer works.")
        }
    }
}

struct ListAgents: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List agents, active and revoked, with when they were last active.")

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        try await storeOptions.withStore { store in
            let agents = try await store.agents()
            if output.json {
                try Terminal.printJSON(agents)
                return
            }
            if agents.isEmpty, Terminal.isInteractive {
                print("No agents. Add one with: clerk agents add NAME --role agent")
                return
            }
            Terminal.printTable(
                header: ["NAME", "ROLE", "STATUS", "ADDED", "LAST ACTIVE"],
                rows: agents.map { agent in
                    [
                        agent.name, agent.role.rawValue, agent.isActive ? "active" : "revoked",
                        Terminal.time(agent.createdAt), Terminal.time(agent.lastSeenAt),
                    ]
                })
        }
    }
}
