import AMQP
import Contracts
import Foundation
import ServiceRuntime
import Testing

@Suite struct TopologyTests {
    private let workQueues = [
        "incident-intake.commands", "csirt-triage.events", "notifier.events", "audit-scheduler.events", "contractor-monitor.events",
    ]

    @Test func exchanges() {
        let exchanges = Topology.all.exchanges
        #expect(exchanges.map(\.name) == ["isms.commands", "isms.events", "isms.dead-letter"])
        #expect(exchanges.map(\.kind) == [.direct, .topic, .direct])
        #expect(exchanges.allSatisfy { $0.durable && !$0.autoDelete && !$0.internal })
    }

    @Test func everyWorkQueueIsAQuorumQueueWithDeadLetteringAndBackPressure() throws {
        let topology = Topology.all(options: TopologyOptions(deliveryLimit: 7, maxLength: 5000))
        for name in workQueues {
            let queue = try #require(topology.queues.first { $0.name == name })
            #expect(queue.durable && !queue.exclusive && !queue.autoDelete)
            #expect(
                queue.arguments == [
                    "x-queue-type": "quorum",
                    "x-delivery-limit": 7,
                    "x-dead-letter-exchange": "isms.dead-letter",
                    "x-dead-letter-routing-key": .string(name),
                    "x-dead-letter-strategy": "at-least-once",
                    "x-overflow": "reject-publish",
                    "x-max-length": 5000,
                ]
            )
            let deadLetterQueue = try #require(topology.queues.first { $0.name == "\(name).dlq" })
            #expect(deadLetterQueue.arguments == ["x-queue-type": "quorum"])
            #expect(topology.bindings.contains(AMQPBinding(queue: "\(name).dlq", exchange: "isms.dead-letter", routingKey: name)))
        }
        #expect(topology.queues.count == workQueues.count * 2)
        #expect(Topology.all.queues.first?.arguments["x-delivery-limit"] == 5)
        #expect(Topology.all.queues.first?.arguments["x-max-length"] == 1_000_000)
    }

    @Test func bindings() {
        let bindings = Set(Topology.all.bindings.filter { $0.exchange != "isms.dead-letter" })
        #expect(
            bindings == [
                AMQPBinding(queue: "incident-intake.commands", exchange: "isms.commands", routingKey: "incident-report.submit.v1"),
                AMQPBinding(queue: "csirt-triage.events", exchange: "isms.events", routingKey: "incident.reported.v1"),
                AMQPBinding(queue: "csirt-triage.events", exchange: "isms.events", routingKey: "contractor.violation.detected.v1"),
                AMQPBinding(queue: "csirt-triage.events", exchange: "isms.events", routingKey: "incident-report.original-viewed.v1"),
                AMQPBinding(queue: "notifier.events", exchange: "isms.events", routingKey: "#"),
                AMQPBinding(queue: "audit-scheduler.events", exchange: "isms.events", routingKey: "directory.changed.v1"),
                AMQPBinding(queue: "audit-scheduler.events", exchange: "isms.events", routingKey: "incident.lessons-recorded.v1"),
                AMQPBinding(queue: "audit-scheduler.events", exchange: "isms.events", routingKey: "contractor.contract-changed.v1"),
                AMQPBinding(queue: "contractor-monitor.events", exchange: "isms.events", routingKey: "directory.changed.v1"),
            ]
        )
        // One dead-letter binding per work queue.
        #expect(Topology.all.bindings.filter { $0.exchange == "isms.dead-letter" }.count == BusLayout.workQueues.count)
    }

    @Test func everyCommandAndEventReachesAQueue() {
        for type in MessageTypes.all {
            guard let route = type.route else { continue }
            #expect(
                Topology.all.bindings.contains { $0.exchange == route.exchange && Self.topic($0.routingKey, matches: route.routingKey) },
                "\(type) is unroutable"
            )
        }
    }

    @Test func everyCommandHasExactlyOneConsumingQueue() {
        for type in MessageTypes.all where type.kind == .command {
            let queues = Topology.all.bindings.filter { $0.exchange == BusLayout.commandsExchange && $0.routingKey == type.routingKey }
            #expect(queues.count == 1, "\(type) goes to \(queues.map(\.queue))")
        }
    }

    @Test func topicPatternsMatchLikeRabbitMQ() {
        #expect(Self.topic("#", matches: "incident.reported.v1"))
        #expect(Self.topic("incident.*.v1", matches: "incident.reported.v1"))
        #expect(!Self.topic("incident.*", matches: "incident.reported.v1"))
        #expect(Self.topic("incident.#", matches: "incident.reported.v1"))
        #expect(!Self.topic("duty.#", matches: "incident.reported.v1"))
    }

    /// AMQP topic matching: `*` is one word, `#` zero or more.
    static func topic(_ pattern: String, matches key: String) -> Bool {
        func match(_ pattern: ArraySlice<Substring>, _ key: ArraySlice<Substring>) -> Bool {
            guard let head = pattern.first else { return key.isEmpty }
            if head == "#" {
                return (0...key.count).contains { match(pattern.dropFirst(), key.dropFirst($0)) }
            }
            guard let word = key.first, head == "*" || head == word else { return false }
            return match(pattern.dropFirst(), key.dropFirst())
        }
        return match(ArraySlice(pattern.split(separator: ".", omittingEmptySubsequences: false)), ArraySlice(key.split(separator: ".", omittingEmptySubsequences: false)))
    }

    @Test func eachServiceDeclaresWhatItUses() {
        let intake = Topology.forService(.incidentIntake)
        #expect(intake.consumes == ["incident-intake.commands"])
        #expect(intake.exchanges.map(\.name) == ["isms.commands", "isms.events", "isms.dead-letter"])
        #expect(intake.queues.map(\.name) == ["incident-intake.commands", "incident-intake.commands.dlq"])
        #expect(intake.bindings.count == 2)

        for (service, queue) in [
            (ServiceName.csirtTriage, "csirt-triage.events"), (.notifier, "notifier.events"),
            (.auditScheduler, "audit-scheduler.events"), (.contractorMonitor, "contractor-monitor.events"),
        ] {
            let topology = Topology.forService(service)
            #expect(topology.consumes == [queue])
            #expect(topology.exchanges.map(\.name) == ["isms.events", "isms.dead-letter"])
            #expect(topology.queues.map(\.name) == [queue, "\(queue).dlq"])
            #expect(Set(topology.bindings.map(\.queue)) == [queue, "\(queue).dlq"])
        }

        let cli = Topology.forService(.isms)
        #expect(cli.consumes == [])
        #expect(cli.exchanges == Topology.all.exchanges && cli.queues == Topology.all.queues && cli.bindings == Topology.all.bindings)

        // Every service's declarations agree with the whole (declaring twice must be idempotent).
        for service in ServiceName.allCases {
            let part = Topology.forService(service, options: TopologyOptions(deliveryLimit: 3))
            let whole = Topology.all(options: TopologyOptions(deliveryLimit: 3))
            #expect(part.queues.allSatisfy(whole.queues.contains))
            #expect(part.exchanges.allSatisfy(whole.exchanges.contains))
            #expect(part.bindings.allSatisfy(whole.bindings.contains))
        }
    }

    @Test func theShippedDefinitionsFileIsWhatTheCodeDeclares() throws {
        let url = Paths.repository.appendingPathComponent("deploy/rabbitmq/definitions.json")
        let generated = Topology.definitionsJSON()
        if Paths.updateGolden {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(generated.utf8).write(to: url)
        }
        let shipped = String(decoding: try Data(contentsOf: url), as: UTF8.self)
        #expect(shipped == generated, "deploy/rabbitmq/definitions.json is stale: run `isms topology export` or ISMS_UPDATE_GOLDEN=1")
    }

    @Test func definitionsFileShape() throws {
        let document = try JSONValue(parsing: Topology.definitionsJSON(vhost: "isms"))
        #expect(document["vhosts"] == [["name": "isms"]])
        let queues = try #require(document["queues"]?.arrayValue)
        #expect(queues.compactMap { $0["name"]?.stringValue } == queues.compactMap { $0["name"]?.stringValue }.sorted())
        let intake = try #require(queues.first { $0["name"] == "incident-intake.commands" })
        #expect(intake["vhost"] == "isms")
        #expect(intake["durable"] == true)
        #expect(intake["arguments"]?["x-delivery-limit"] == 5)
        #expect(intake["arguments"]?["x-queue-type"] == "quorum")
        let exchanges = try #require(document["exchanges"]?.arrayValue)
        #expect(exchanges.first { $0["name"] == "isms.events" }?["type"] == "topic")
        let bindings = try #require(document["bindings"]?.arrayValue)
        #expect(bindings.count == Topology.all.bindings.count)
        #expect(bindings.allSatisfy { $0["destination_type"] == "queue" })
    }
}

@Suite struct AsyncAPITests {
    private var document: String {
        get throws {
            String(decoding: try Data(contentsOf: Paths.repository.appendingPathComponent("docs/asyncapi.yaml")), as: UTF8.self)
        }
    }

    @Test func everyMessageTypeAndQueueIsDescribed() throws {
        let text = try document
        #expect(text.hasPrefix("asyncapi: 3.0.0"))
        for type in MessageTypes.all {
            #expect(text.contains(type.wireName), "docs/asyncapi.yaml does not describe \(type.wireName)")
            #expect(text.contains(type.routingKey))
            #expect(text.contains("Shared/Contracts/Schemas/\(type.schemaFile)"), "docs/asyncapi.yaml does not reference \(type.schemaFile)")
        }
        for queue in Topology.all.queues {
            #expect(text.contains(queue.name), "docs/asyncapi.yaml does not describe queue \(queue.name)")
        }
        for exchange in Topology.all.exchanges {
            #expect(text.contains(exchange.name))
        }
    }
}
