import ArgumentParser

/// `isms`: the command-line tool for operators, CSIRT members and producers (brief §7).
@main
struct ISMS: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "isms",
        abstract: "Operate the ward's information-security management system.",
        discussion: """
            incidents, duties, findings, risks, contractors, notifications, silences and dlq act as you: \
            they call the services' HTTP APIs (ISMS_<SERVICE>_URL, e.g. ISMS_CSIRT_TRIAGE_URL, \
            default http://127.0.0.1:8081 to 8085) with your bearer token (ISMS_TOKEN, or the one \
            `isms login` saved), and need no database URL. Operator commands (migrate, topology, \
            directory, token, producer, status) read ISMS_AMQP_URL (broker), ISMS_DATABASE_URL \
            (the administrator's PostgreSQL URL) and ISMS_MANAGEMENT_URL (RabbitMQ management \
            API). `deploy/local/stack.sh env` prints them for the local stack.
            \(ServiceExit.help)
            """,
        subcommands: [
            ReportCommand.self,
            IncidentsCommand.self,
            DutiesCommand.self,
            PlanCommand.self,
            FindingsCommand.self,
            RisksCommand.self,
            ContractorsCommand.self,
            NotificationsCommand.self,
            SilencesCommand.self,
            DeadLettersCommand.self,
            LoginCommand.self,
            LogoutCommand.self,
            StatusCommand.self,
            VerifyCommand.self,
            MigrateCommand.self,
            TopologyCommand.self,
            DirectoryCommand.self,
            AssetsCommand.self,
            TokenCommand.self,
            UserCommand.self,
            ProducerCommand.self,
        ]
    )
}
