import ArgumentParser
import IncidentIntake
import Postgres

struct ProducerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "producer",
        abstract: "Broker producers: which RabbitMQ user may report incidents for which unit.",
        subcommands: [Grant.self]
    )

    struct Grant: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Let a broker user report for a section or department (or the whole ward with --ward).",
            discussion: "RabbitMQ checks a message's user_id against the publishing user, so the grant binds an authenticated identity."
        )

        @Option(help: "The RabbitMQ user name the producer publishes as.")
        var amqpUser: String
        @Option(help: "A section or department code.")
        var unit: String?
        @Flag(help: "Grant every section of the ward.")
        var ward = false
        @Option(help: "Why the grant exists.")
        var note = ""

        func validate() throws {
            if ward == (unit != nil) { throw ValidationError("give exactly one of --unit CODE or --ward") }
        }

        func run() async throws {
            let user = amqpUser
            let unit = unit
            let note = note
            try await CLIEnvironment.withDatabase { pool in
                try await pool.withTransaction { connection in
                    try ProducerGrants.grant(amqpUser: user, unitCode: unit, note: note, on: connection)
                }
            }
            print("\(user) may report for \(unit ?? "the whole ward")")
        }
    }
}
