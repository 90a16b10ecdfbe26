import ArgumentParser

/// `isms`: the command-line tool for operators, CSIRT members and producers (brief §7).
@main
struct ISMS: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "isms",
        abstract: "Operate the ward's information-security management system.",
        discussion: """
            Connections come from the environment: ISMS_AMQP_URL (broker), ISMS_DATABASE_URL \
            (PostgreSQL; operator commands need the administrator URL), ISMS_MANAGEMENT_URL \
            (RabbitMQ management API, for `status`). `deploy/local/stack.sh env` prints them for \
            the local stack.
            """,
        subcommands: [
            ReportCommand.self,
            IncidentsCommand.self,
            DutiesCommand.self,
            FindingsCommand.self,
            ContractorsCommand.self,
            NotificationsCommand.self,
            SilencesCommand.self,
            StatusCommand.self,
            VerifyCommand.self,
            MigrateCommand.self,
            TopologyCommand.self,
            DirectoryCommand.self,
            TokenCommand.self,
            ProducerCommand.self,
        ]
    )
}
