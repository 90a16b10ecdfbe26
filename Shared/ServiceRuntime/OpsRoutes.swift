public import Hummingbird
public import Postgres
public import Prometheus
import Foundation



/// `/healthz`, `/readyz` and `/metrics` (brief §7), added to a service's router.
public enum OpsRoutes {
    public static func add<Context: RequestContext>(
        to router: Router<Context>,
        readiness: Readiness,
        database: PostgresPool,
        registry: PrometheusCollectorRegistry
    ) {
        router.get("/healthz") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"status":"alive"}"#)))
        }
        router.get("/readyz") { _, _ in
            // The database is asked on each probe: a pool that lost its server learns it here too.
            readiness.set(.database, await database.isReachable())
            let snapshot = readiness.snapshot
            let ready = readiness.isReady
            let body: [String: Any] = [
                "ready": ready,
                "broker": snapshot[.broker] ?? false,
                "database": snapshot[.database] ?? false,
                "topology": snapshot[.topology] ?? false,
                "shuttingDown": snapshot[.shuttingDown] ?? false,
            ]
            let data = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data()
            return Response(
                status: ready ? .ok : .serviceUnavailable,
                headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: data))
            )
        }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer()))
            )
        }
    }
}
