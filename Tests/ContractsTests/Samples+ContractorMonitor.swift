import Contracts

extension Samples {
    /// One sample envelope per message type this service originates; each must equal its
    /// golden fixture in Fixtures/<routing key>.json (regenerate with ISMS_UPDATE_GOLDEN=1).
    static func contractorMonitorSamples() throws -> [(type: MessageType, envelope: RawEnvelope)] {
        []
    }
}
