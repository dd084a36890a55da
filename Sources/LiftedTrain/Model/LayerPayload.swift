import Foundation

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
        let data = try JSONEncoder().encode(value)
        guard case .object(let fields) = try JSONDecoder().decode(JSONValue.self, from: data) else {
            throw ModelError("a layer payload must encode as a JSON object")
        }
        self.fields = fields
    }

    /// The fields decoded as `T`.
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder().decode(T.self, from: try JSONEncoder().encode(JSONValue.object(fields)))
    }
}

/// A JSON value, for the fields `LiftedTrain` carries without knowing their meaning. Integers
/// and other numbers compare by value (`1` equals `1.0`).
public enum JSONValue: Codable, Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int.self) { self = .int(i) }
        else if let d = try? c.decode(Double.self) { self = .double(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .int(let i): try c.encode(i)
        case .double(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.int(let x), .int(let y)): return x == y
        case (.double(let x), .double(let y)): return x == y
        case (.int(let x), .double(let y)), (.double(let y), .int(let x)): return Double(x) == y
        case (.string(let x), .string(let y)): return x == y
        case (.array(let x), .array(let y)): return x == y
        case (.object(let x), .object(let y)): return x == y
        default: return false
        }
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
