import AMQP
import ArgumentParser
import Contracts
import Foundation
import ServiceRuntime

struct TopologyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topology",
        abstract: "Declare or export the RabbitMQ topology (exchanges, quorum queues, dead-letter queues, bindings).",
        subcommands: [Declare.self, Export.self]
    )

    struct Options: ParsableArguments {
        @Option(help: "x-delivery-limit of work queues.")
        var deliveryLimit = TopologyOptions().deliveryLimit
        @Option(help: "x-max-length of work queues.")
        var maxLength = TopologyOptions().maxLength

        var topologyOptions: TopologyOptions { TopologyOptions(deliveryLimit: deliveryLimit, maxLength: maxLength) }
    }

    struct Declare: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Declare the whole topology on the broker of ISMS_AMQP_URL (idempotent).")
        @OptionGroup var options: Options

        func run() async throws {
            let topology = Topology.all(options: options.topologyOptions)
            let connection = try await AMQPConnection.connect(CLIEnvironment.amqp(), logger: CLIEnvironment.logger)
            try await connection.declare(topology)
            await connection.close()
            print("declared \(topology.exchanges.count) exchanges, \(topology.queues.count) queues, \(topology.bindings.count) bindings")
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the topology as a RabbitMQ definitions file (what deploy/rabbitmq/definitions.json holds).")
        @OptionGroup var options: Options
        @Option(name: .shortAndLong, help: "Write to this file instead of standard output.")
        var output: String?

        func run() throws {
            let json = Topology.definitionsJSON(options: options.topologyOptions)
            if let output {
                try json.write(toFile: output, atomically: true, encoding: .utf8)
            } else {
                print(json, terminator: "")
            }
        }
    }
}
