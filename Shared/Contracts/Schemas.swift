public import Foundation

/// The JSON Schemas of the contracts, shipped as the module's `Schemas` resource folder: one per
/// message type for its `data`, and `envelope.schema.json` for the CloudEvents envelope.
public enum Schemas {
    /// The file name of the envelope schema.
    public static let envelopeFile = "envelope.schema.json"

    /// The folder holding the schema files.
    public static var directory: URL? {
        Bundle.module.url(forResource: "Schemas", withExtension: nil)
    }

    /// The schema of a message type's `data`.
    public static func schema(for type: MessageType) throws(ContractError) -> JSONSchema {
        try schema(named: type.schemaFile)
    }

    /// The schema of the envelope.
    public static func envelope() throws(ContractError) -> JSONSchema {
        try schema(named: envelopeFile)
    }

    /// A schema by file name.
    public static func schema(named file: String) throws(ContractError) -> JSONSchema {
        guard let loaded = loaded[file] else {
            throw ContractError(.invalidJSON, attribute: file, detail: "no schema file \(file) in the Contracts resources")
        }
        return try loaded.get()
    }

    /// Every violation of the envelope schema and of the schema of its type's `data`. Pointers
    /// into `data` are relative to `data` (`/reporter/sectionCode`), as a rejection reports them;
    /// envelope violations point at the attribute (`/time`) and come first.
    public static func violations(in envelope: RawEnvelope) throws(ContractError) -> (envelope: [SchemaViolation], data: [SchemaViolation]) {
        guard let type = envelope.messageType else {
            throw ContractError(.typeMismatch, attribute: "type", detail: "\(envelope.type) is not a known message type")
        }
        var attributes = envelope
        // The envelope schema only needs to see that data is there; data has a schema of its own.
        attributes.data = envelope.data.map { _ in Array("null".utf8) }
        let envelopeViolations = JSONSchemaValidator(schema: try Self.envelope()).validate(jsonBytes: try attributes.jsonBytes())
        var dataViolations: [SchemaViolation] = []
        if let data = envelope.data {
            dataViolations = JSONSchemaValidator(schema: try schema(for: type)).validate(jsonBytes: data)
        }
        return (envelopeViolations, dataViolations)
    }

    // Loaded once, on first use; every file is parsed up front so a broken resource shows at once.
    private static let loaded: [String: Result<JSONSchema, ContractError>] = {
        guard let directory, let files = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return [:] }
        var schemas: [String: Result<JSONSchema, ContractError>] = [:]
        for file in files where file.hasSuffix(".schema.json") {
            schemas[file] = Result { () throws(ContractError) -> JSONSchema in
                guard let bytes = FileManager.default.contents(atPath: directory.appendingPathComponent(file).path) else {
                    throw ContractError(.invalidJSON, attribute: file, detail: "cannot read \(file)")
                }
                return try JSONSchema(jsonBytes: bytes)
            }
        }
        return schemas
    }()
}
