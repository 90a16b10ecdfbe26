// swift-tools-version: 6.2
import PackageDescription

// Swift 6 language mode everywhere, with the upcoming features the server ecosystem has adopted.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let lifecycle: Target.Dependency = .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let logging: Target.Dependency = .product(name: "Logging", package: "swift-log")
let metrics: Target.Dependency = .product(name: "Metrics", package: "swift-metrics")
let hummingbird: Target.Dependency = .product(name: "Hummingbird", package: "hummingbird")
let yams: Target.Dependency = .product(name: "Yams", package: "Yams")
let crypto: Target.Dependency = .product(name: "Crypto", package: "swift-crypto")
let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")

/// A service is a library (handlers, domain, storage, migrations; what tests exercise) and a
/// thin executable named in kebab-case that only builds and runs it.
func service(_ name: String, executable: String, dependencies: [Target.Dependency]) -> [Target] {
    [
        .target(
            name: name,
            dependencies: ["ServiceRuntime", "Contracts", "Postgres", "AMQP", logging] + dependencies,
            path: "Services/\(name)/Sources/\(name)",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: executable,
            dependencies: [.target(name: name), "ServiceRuntime", lifecycle, logging],
            path: "Services/\(name)/Sources/\(executable)",
            swiftSettings: swiftSettings
        ),
    ]
}

let services: [(library: String, executable: String, dependencies: [Target.Dependency])] = [
    ("IncidentIntake", "incident-intake", ["Directory", "MyNumber", hummingbird]),
    ("CSIRTTriage", "csirt-triage", ["Acknowledgement", "Directory", "MyNumber", "WardCalendar", hummingbird, yams]),
    ("AuditScheduler", "audit-scheduler", ["ConfigFiles", "Directory", "MyNumber", "WardCalendar", hummingbird, yams]),
    ("ContractorMonitor", "contractor-monitor", ["Directory", hummingbird, yams]),
    (
        "Notifier", "notifier",
        [
            "Acknowledgement", "ConfigFiles", "Directory", "MyNumber", "ClientSupport", "ServiceClient", "PostgresMigrations", "WardCalendar", hummingbird, yams,
            crypto,
            .product(name: "Mustache", package: "swift-mustache"),
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]
    ),
]

/// The web console (issue #15): a client of the services' HTTP APIs, with sessions of its own.
/// Kept out of the package literal: with them inside, the compiler could not type-check it in time.
let consoleTargets: [Target] = [
    .target(
        name: "WebConsole",
        dependencies: [
            "Acknowledgement", "ServiceRuntime", "ServiceClient", "Contracts", "Directory", "Postgres", "PostgresMigrations", "MyNumber", "WardCalendar", logging, lifecycle, hummingbird,
            crypto, .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
            .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
            .product(name: "HummingbirdOTP", package: "hummingbird-auth"),
            .product(name: "Mustache", package: "swift-mustache"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
        ],
        path: "Services/WebConsole/Sources/WebConsole",
        resources: [.copy("Resources")],
        swiftSettings: swiftSettings
    ),
    .executableTarget(
        name: "web-console",
        dependencies: ["WebConsole", "ServiceRuntime", logging],
        path: "Services/WebConsole/Sources/web-console",
        swiftSettings: swiftSettings
    ),
    .testTarget(
        name: "WebConsoleTests",
        dependencies: [
            "WebConsole", "Acknowledgement", "ISMSTesting", "ServiceClient", "Directory", "Postgres", "PostgresMigrations", hummingbird,
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "HummingbirdOTP", package: "hummingbird-auth"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            "ServiceRuntime",
        ],
        swiftSettings: swiftSettings
    ),
]

let package = Package(
    name: "isms",
    platforms: [.macOS(.v15)],
    products: services.map { .executable(name: $0.executable, targets: [$0.executable]) } + [
        .executable(name: "isms", targets: ["isms"]),
        .executable(name: "web-console", targets: ["web-console"]),
        .executable(name: "isms-bench", targets: ["isms-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0", traits: ["JSON"]),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
    ],
    targets: [
        // C libraries, found through pkg-config; the apt providers tell SwiftPM what to suggest.
        .systemLibrary(
            name: "CRabbitMQ",
            path: "Shared/CRabbitMQ",
            pkgConfig: "librabbitmq",
            providers: [.apt(["librabbitmq-dev"])]
        ),
        .systemLibrary(
            name: "CLibPQ",
            path: "Shared/CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        .target(name: "ClientSupport", path: "Shared/ClientSupport", swiftSettings: swiftSettings),
        // Outgoing HTTP (webhooks, `isms` calling the services, readiness polls): one client per process.
        .target(
            name: "ServiceClient",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"), .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Shared/ServiceClient",
            swiftSettings: swiftSettings
        ),
        .target(name: "AMQP", dependencies: ["CRabbitMQ", "ClientSupport", logging], path: "Shared/AMQP", swiftSettings: swiftSettings),
        .target(name: "Postgres", dependencies: ["CLibPQ", "ClientSupport", "Gregorian", logging], path: "Shared/Postgres", swiftSettings: swiftSettings),
        .target(name: "PostgresMigrations", dependencies: ["Postgres", logging], path: "Shared/PostgresMigrations", swiftSettings: swiftSettings),
        .target(
            name: "Contracts",
            dependencies: ["Gregorian"],
            path: "Shared/Contracts",
            resources: [.copy("Schemas")],
            swiftSettings: swiftSettings
        ),
        .target(name: "MyNumber", path: "Shared/MyNumber", swiftSettings: swiftSettings),
        // Day arithmetic of the Gregorian calendar: the one copy the wire, PostgreSQL and the ward's days share.
        .target(name: "Gregorian", path: "Shared/Gregorian", swiftSettings: swiftSettings),
        // The signed link that acknowledges a case: the notifier signs it, triage verifies it.
        .target(name: "ConfigFiles", path: "Shared/ConfigFiles", swiftSettings: swiftSettings),
        .target(name: "Acknowledgement", dependencies: [crypto], path: "Shared/Acknowledgement", swiftSettings: swiftSettings),
        .target(name: "WardCalendar", dependencies: ["Gregorian"], path: "Shared/WardCalendar", swiftSettings: swiftSettings),
        .target(
            name: "ServiceRuntime",
            dependencies: [
                "AMQP", "Postgres", "PostgresMigrations", "Contracts", "ClientSupport", "Directory", "MyNumber", logging, metrics, lifecycle, hummingbird, crypto,
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Configuration", package: "swift-configuration"),
            ],
            path: "Shared/ServiceRuntime",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Directory",
            dependencies: ["ConfigFiles", "Contracts", "Postgres", "PostgresMigrations", yams, crypto],
            path: "Shared/Directory",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ISMSTesting",
            dependencies: ["ServiceRuntime", "ServiceClient", "AMQP", "Postgres", "Contracts", logging],
            path: "Shared/ISMSTesting",
            swiftSettings: swiftSettings
        ),
    ]
        + services.flatMap { service($0.library, executable: $0.executable, dependencies: $0.dependencies) }
        + consoleTargets
        + [
            .executableTarget(
                name: "isms",
                dependencies: services.map { .target(name: $0.library) } + [
                    "WebConsole", "ServiceRuntime", "ServiceClient", "ConfigFiles", "Contracts", "Directory", "AMQP", "Postgres", argumentParser, logging,
                ],
                path: "Services/ISMSCommand",
                swiftSettings: swiftSettings
            ),
            // The benchmark of issue #8 (`make bench`, release build): ceilings, hops, latency, memory.
            .executableTarget(
                name: "isms-bench",
                dependencies: [
                    "IncidentIntake", "CSIRTTriage", "Notifier", "ServiceRuntime", "ServiceClient", "Contracts", "Directory", "AMQP", "Postgres", "ClientSupport",
                    "PostgresMigrations", "WardCalendar", logging, hummingbird, .product(name: "Configuration", package: "swift-configuration"),
                    .product(name: "Prometheus", package: "swift-prometheus"),
                    // The console part: invitations as `isms user invite` makes them, TOTP codes as an authenticator app.
                    "WebConsole", .product(name: "HummingbirdOTP", package: "hummingbird-auth"),
                ],
                path: "Services/ISMSBench",
                swiftSettings: swiftSettings
            ),
            .testTarget(name: "ClientSupportTests", dependencies: ["ClientSupport"], swiftSettings: swiftSettings),
            .testTarget(name: "ServiceClientTests", dependencies: ["ServiceClient"], swiftSettings: swiftSettings),
            .testTarget(name: "AMQPTests", dependencies: ["AMQP", "ISMSTesting"], swiftSettings: swiftSettings),
            .testTarget(name: "PostgresTests", dependencies: ["Postgres", "ISMSTesting"], swiftSettings: swiftSettings),
            // The AMQP mapping and the topology are the runtime's; their tests live with the contracts' fixtures.
            .testTarget(name: "ContractsTests", dependencies: ["Contracts", "ServiceRuntime", "AMQP"], exclude: ["Fixtures"], swiftSettings: swiftSettings),
            .testTarget(name: "MyNumberTests", dependencies: ["MyNumber"], swiftSettings: swiftSettings),
            .testTarget(name: "WardCalendarTests", dependencies: ["WardCalendar", "Gregorian"], swiftSettings: swiftSettings),
            .testTarget(name: "DirectoryTests", dependencies: ["Directory", "Postgres", "PostgresMigrations", "ISMSTesting", logging], swiftSettings: swiftSettings),
            .testTarget(
                name: "ServiceRuntimeTests",
                dependencies: [
                    "ServiceRuntime", "ISMSTesting", "PostgresMigrations", "Directory", "MyNumber", hummingbird,
                    .product(name: "HummingbirdTesting", package: "hummingbird"),
                    .product(name: "Configuration", package: "swift-configuration"),
                    .product(name: "Prometheus", package: "swift-prometheus"),
                ],
                swiftSettings: swiftSettings
            ),
            .testTarget(
                name: "CSIRTTriageTests",
                dependencies: [
                    "CSIRTTriage", "Acknowledgement", "ServiceRuntime", "Contracts", "Directory", "WardCalendar", "Postgres", "PostgresMigrations", "AMQP",
                    "ISMSTesting",
                    logging, hummingbird,
                    .product(name: "HummingbirdTesting", package: "hummingbird"),
                    .product(name: "Configuration", package: "swift-configuration"),
                    .product(name: "Prometheus", package: "swift-prometheus"),
                ],
                swiftSettings: swiftSettings
            ),
            .testTarget(
                name: "ContractorMonitorTests",
                dependencies: [
                    "ContractorMonitor", "ServiceRuntime", "ServiceClient", "ISMSTesting", "Directory", "Contracts", "Postgres", "PostgresMigrations", "AMQP",
                    hummingbird, .product(name: "HummingbirdTesting", package: "hummingbird"),
                    .product(name: "Configuration", package: "swift-configuration"),
                    .product(name: "Prometheus", package: "swift-prometheus"),
                ],
                swiftSettings: swiftSettings
            ),
            .testTarget(
                name: "AuditSchedulerTests",
                dependencies: [
                    "AuditScheduler", "ISMSTesting", "Directory", "WardCalendar", "Postgres", "PostgresMigrations", "ServiceRuntime", "Contracts", logging,
                    hummingbird, .product(name: "HummingbirdTesting", package: "hummingbird"),
                ],
                swiftSettings: swiftSettings
            ),
            .testTarget(
                name: "NotifierTests",
                dependencies: [
                    "Notifier", "Acknowledgement", "ServiceRuntime", "ISMSTesting", "Directory", "Contracts", "Postgres", "PostgresMigrations", "MyNumber", logging,
                    hummingbird, .product(name: "HummingbirdTesting", package: "hummingbird"),
                ],
                exclude: ["Support"],
                swiftSettings: swiftSettings
            ),
            .testTarget(
                name: "IncidentIntakeTests",
                dependencies: [
                    "IncidentIntake", "ISMSTesting", "ServiceClient", "Directory",
                    .product(name: "Configuration", package: "swift-configuration"),
                    .product(name: "Prometheus", package: "swift-prometheus"),
                ],
                swiftSettings: swiftSettings
            ),
        ]
)
