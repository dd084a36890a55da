import Foundation
@_exported import JSONValues

/// The fields of an external layer type (`LayerKind.external`) as JSON values: what the model
/// JSON holds beside `type` and the built-in fields. The extension that builds the layer decodes
/// them into its own typed description (`decode(_:)`) and makes them from it (`init(encoding:)`);
/// `LiftedTrain` only carries them from the JSON to the extension and back.
public struct LayerPayload: Equatable, Sendable {
    /// The fields by JSON key.
    public var fields: [String: JSONValue]

    /// A payload of the given fields.
    public init(fields: [String: JSONValue]) { self.fields = fields }

    /// The fields of `value`'s JSON object (its keys must not be those of the built-in fields,
    /// such as `name` or `type`, which `LayerSpec` keeps itself).
    public init<T: Encodable>(encoding value: T) throws {
        guard case .object(let fields) = try JSONValue(encoding: value) else {
            throw ModelError("a layer payload must encode as a JSON object")
        }
        self.fields = fields
    }

    /// The fields decoded as `T`.
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONValue.object(fields).decoded(as: T.self)
    }
}

/// Any JSON key (the payload's keys are not known in advance).
struct PayloadKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(_ key: String) { stringValue = key }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
