import Foundation

/// A safetensors file (the format PyTorch users pass weights around in): an 8-byte little-endian
/// header length, a JSON header `{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {…}}`
/// padded with spaces to a multiple of 8 bytes, then the tensors' raw little-endian bytes back to back
/// in the header's order. Written directly (no library); `python/lpom_history` and the
/// `safetensors` package read it.
struct SafeTensorsWriter {
    enum Values { case float32([Float]), int64([Int64]) }
    private var tensors: [(name: String, shape: [Int], values: Values)] = []
    /// String metadata (`__metadata__`).
    var metadata: [String: String] = [:]

    mutating func add(_ name: String, shape: [Int], _ values: [Float]) { tensors.append((name, shape, .float32(values))) }
    mutating func add(_ name: String, shape: [Int], _ values: [Int64]) { tensors.append((name, shape, .int64(values))) }

    /// The file's bytes.
    func bytes() throws -> Data {
        var header: [String: Any] = [:]
        var body = Data()
        for t in tensors {
            let begin = body.count
            let dtype: String
            switch t.values {
            case .float32(let v):
                dtype = "F32"
                Self.appendLittleEndian(v.map(\.bitPattern), to: &body)
            case .int64(let v):
                dtype = "I64"
                Self.appendLittleEndian(v, to: &body)
            }
            header[t.name] = ["dtype": dtype, "shape": t.shape, "data_offsets": [begin, body.count]]
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        out.append(body)
        return out
    }

    /// Appends the raw bytes of `v`, little-endian (one copy on little-endian hosts).
    private static func appendLittleEndian<T: FixedWidthInteger>(_ v: [T], to body: inout Data) {
        #if _endian(little)
        v.withUnsafeBytes { body.append(contentsOf: $0) }
        #else
        v.map(\.littleEndian).withUnsafeBytes { body.append(contentsOf: $0) }
        #endif
    }

    func write(to path: String) throws {
        let d = try bytes()
        guard FileManager.default.createFile(atPath: path, contents: d) else {
            throw CommandError("\(path): cannot write the safetensors file")
        }
    }
}
