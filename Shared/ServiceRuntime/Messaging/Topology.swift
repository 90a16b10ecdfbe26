public import AMQP
public import Contracts
import Foundation

/// Settings of every work queue.
public struct TopologyOptions: Sendable, Hashable {
    /// Deliveries of one message before the broker dead-letters it (`x-delivery-limit`;
    /// RabbitMQ 3.10 has no default, so an unset limit would redeliver a poison message forever).
    public var deliveryLimit: Int
    /// Messages a work queue holds before publishes are refused (`x-max-length` with
    /// `x-overflow=reject-publish`): back-pressure reaches publishers as nacks.
    public var maxLength: Int

    public init(deliveryLimit: Int = 5, maxLength: Int = 1_000_000) {
        self.deliveryLimit = deliveryLimit
        self.maxLength = maxLength
    }
}

/// The RabbitMQ topology: exchanges, quorum queues with their dead-letter queues, and bindings,
/// declared in this one place from the contracts' ``BusLayout``. Services apply their part
/// idempotently at start (``forService(_:options:)``); `isms topology export` writes all of it as
/// a definitions file (``definitionsJSON(options:vhost:)``).
public struct Topology: Sendable, Hashable {
    /// Exchanges to declare, before the queues.
    public var exchanges: [AMQPExchange]
    /// Queues to declare, before the bindings.
    public var queues: [AMQPQueue]
    /// Bindings to declare last.
    public var bindings: [AMQPBinding]
    /// The queues the service consumes from.
    public var consumes: [String]

    public init(exchanges: [AMQPExchange], queues: [AMQPQueue], bindings: [AMQPBinding], consumes: [String] = []) {
        self.exchanges = exchanges
        self.queues = queues
        self.bindings = bindings
        self.consumes = consumes
    }

    /// The whole topology with default options.
    public static var all: Topology { all(options: TopologyOptions()) }

    /// The whole topology.
    public static func all(options: TopologyOptions) -> Topology {
        build(BusLayout.workQueues, publishing: MessageTypes.all, options: options)
    }

    /// What a service declares at start: the exchanges it publishes to or consumes through, its
    /// work queue and dead-letter queue, and their bindings. `isms` declares everything (an
    /// operator may set up an empty broker with it) and consumes nothing.
    public static func forService(_ service: ServiceName, options: TopologyOptions = TopologyOptions()) -> Topology {
        if service == .isms { return all(options: options) }
        var topology = build(BusLayout.workQueues.filter { $0.consumer == service }, publishing: BusLayout.publishes(service), options: options)
        topology.consumes = BusLayout.workQueues.filter { $0.consumer == service }.map(\.name)
        return topology
    }

    private static func build(_ selected: [BusLayout.WorkQueue], publishing: [MessageType], options: TopologyOptions) -> Topology {
        let kinds: [(name: String, kind: AMQPExchangeKind)] = [
            (BusLayout.commandsExchange, .direct), (BusLayout.eventsExchange, .topic), (BusLayout.deadLetterExchange, .direct),
        ]
        var used: Set<String> = [BusLayout.deadLetterExchange]
        for type in selected.flatMap(\.messageTypes) + publishing {
            if let route = type.route { used.insert(route.exchange) }
        }
        var queues: [AMQPQueue] = []
        var bindings: [AMQPBinding] = []
        for workQueue in selected {
            let deadLetterQueue = BusLayout.deadLetterQueueName(for: workQueue.name)
            queues.append(
                AMQPQueue(
                    name: workQueue.name,
                    arguments: [
                        "x-queue-type": "quorum",
                        "x-delivery-limit": .int64(Int64(options.deliveryLimit)),
                        "x-dead-letter-exchange": .string(BusLayout.deadLetterExchange),
                        "x-dead-letter-routing-key": .string(workQueue.name),
                        // at-least-once dead-lettering keeps a message in its queue until the
                        // dead-letter queue confirms it; RabbitMQ requires reject-publish for it.
                        "x-dead-letter-strategy": "at-least-once",
                        "x-overflow": "reject-publish",
                        "x-max-length": .int64(Int64(options.maxLength)),
                    ]
                )
            )
            // A dead-letter queue has no dead-letter exchange of its own: it is the end of the line.
            queues.append(AMQPQueue(name: deadLetterQueue, arguments: ["x-queue-type": "quorum"]))
            for type in workQueue.messageTypes {
                guard let route = type.route else { continue }
                bindings.append(AMQPBinding(queue: workQueue.name, exchange: route.exchange, routingKey: route.routingKey))
            }
            for pattern in workQueue.eventPatterns {
                used.insert(BusLayout.eventsExchange)
                bindings.append(AMQPBinding(queue: workQueue.name, exchange: BusLayout.eventsExchange, routingKey: pattern))
            }
            bindings.append(AMQPBinding(queue: deadLetterQueue, exchange: BusLayout.deadLetterExchange, routingKey: workQueue.name))
        }
        let exchanges = kinds.filter { used.contains($0.name) }.map { AMQPExchange(name: $0.name, kind: $0.kind) }
        return Topology(exchanges: exchanges, queues: queues, bindings: bindings)
    }
}

// MARK: - Definitions file

extension Topology {
    /// The whole topology as a RabbitMQ definitions file (`rabbitmqctl import_definitions`, or
    /// `load_definitions` at boot): the vhost, exchanges, queues with their arguments, and
    /// bindings, each sorted by name, members sorted, two-space indentation, final newline.
    public static func definitionsJSON(options: TopologyOptions = TopologyOptions(), vhost: String = "/") -> String {
        all(options: options).definitionsJSON(vhost: vhost)
    }

    /// This topology as a RabbitMQ definitions file; see ``definitionsJSON(options:vhost:)``.
    public func definitionsJSON(vhost: String = "/") -> String {
        let exchanges: [JSONValue] = self.exchanges.sorted { $0.name < $1.name }.map { exchange in
            [
                "name": .string(exchange.name),
                "vhost": .string(vhost),
                "type": .string(exchange.kind.rawValue),
                "durable": .bool(exchange.durable),
                "auto_delete": .bool(exchange.autoDelete),
                "internal": .bool(exchange.internal),
                "arguments": .object(exchange.arguments.mapValues(Self.json)),
            ]
        }
        let queues: [JSONValue] = self.queues.sorted { $0.name < $1.name }.map { queue in
            [
                "name": .string(queue.name),
                "vhost": .string(vhost),
                "durable": .bool(queue.durable),
                "auto_delete": .bool(queue.autoDelete),
                "arguments": .object(queue.arguments.mapValues(Self.json)),
            ]
        }
        let bindings: [JSONValue] = self.bindings.sorted {
            ($0.exchange, $0.queue, $0.routingKey) < ($1.exchange, $1.queue, $1.routingKey)
        }.map { binding in
            [
                "source": .string(binding.exchange),
                "vhost": .string(vhost),
                "destination": .string(binding.queue),
                "destination_type": "queue",
                "routing_key": .string(binding.routingKey),
                "arguments": .object(binding.arguments.mapValues(Self.json)),
            ]
        }
        let document: JSONValue = [
            "vhosts": [["name": .string(vhost)]],
            "exchanges": .array(exchanges),
            "queues": .array(queues),
            "bindings": .array(bindings),
        ]
        return document.jsonString(pretty: true) + "\n"
    }

    private static func json(_ value: AMQPFieldValue) -> JSONValue {
        value.json { .integer(Int64($0.timeIntervalSince1970)) }
    }
}
