import Foundation

/// A NumPy `.npy` array (format versions 1–3, NumPy's `format.py`): little-endian or byte-sized
/// integers and floats, C order. Values are read as Double; `isInteger` tells whether the file
/// stored integers (pixels then count 0…255).
public struct NPYArray: Equatable, Sendable {
    public let shape: [Int]
    public let values: [Double]
    public let isInteger: Bool

    /// The largest array accepted (elements), checked before anything is allocated.
    public static let maxElements = 1 << 28

    public init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw DataError(path: path, "cannot read the file") }
        try self.init(bytes: [UInt8](data), name: path)
    }

    public init(bytes b: [UInt8], name: String = "<memory>") throws {
        guard b.count >= 10, Array(b[0..<6]) == [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59] else {
            throw DataError(path: name, "not a NumPy .npy file (no \\x93NUMPY magic)")
        }
        let major = Int(b[6])
        let (lengthBytes, start) = major == 1 ? (2, 10) : (4, 12)
        guard major >= 1 && major <= 3, b.count >= start else { throw DataError(path: name, ".npy version \(major) is not supported") }
        let headerLength = (0..<lengthBytes).reduce(0) { $0 | Int(b[8 + $1]) << (8 * $1) }
        guard start + headerLength <= b.count else { throw DataError(path: name, "truncated .npy header") }
        let header = String(decoding: b[start..<(start + headerLength)], as: UTF8.self)
        func field(_ key: String) -> String? {
            guard let r = header.range(of: "'\(key)':") else { return nil }
            return String(header[r.upperBound...]).trimmingCharacters(in: .whitespaces)
        }
        guard let descrField = field("descr"), let quote = descrField.dropFirst().firstIndex(of: "'") else {
            throw DataError(path: name, ".npy header without a dtype")
        }
        let descr = String(descrField[descrField.index(after: descrField.startIndex)..<quote])
        if field("fortran_order")?.hasPrefix("True") == true { throw DataError(path: name, "Fortran-ordered .npy arrays are not supported; save with C order") }
        guard let shapeField = field("shape"), let open = shapeField.firstIndex(of: "("),
              let close = shapeField[open...].firstIndex(of: ")") else {
            throw DataError(path: name, ".npy header without a shape")
        }
        let dims = shapeField[shapeField.index(after: open)..<close].split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let shape = try dims.map { d -> Int in
            guard let v = Int(d), v >= 0 else { throw DataError(path: name, ".npy shape entry '\(d)' is not a size") }
            return v
        }
        // The product of the sizes, stopped past the limit (a lying header's sizes may overflow Int).
        let count = shape.reduce(1) { p, d in
            let (q, overflow) = p.multipliedReportingOverflow(by: d)
            return p > Self.maxElements || overflow ? Self.maxElements + 1 : q
        }
        guard count <= Self.maxElements else { throw DataError(path: name, ".npy array of \(shape) is too large") }
        let kinds: [String: (size: Int, integer: Bool)] = [
            "u1": (1, true), "i1": (1, true), "u2": (2, true), "i2": (2, true), "u4": (4, true), "i4": (4, true),
            "u8": (8, true), "i8": (8, true), "f4": (4, false), "f8": (8, false)]
        let order = descr.first, code = String(descr.dropFirst())
        guard let kind = kinds[code], order == "<" || order == "|" || (order == "=" && kind.size == 1) else {
            throw DataError(path: name, ".npy dtype '\(descr)' is not supported (little-endian integers or float32/float64)")
        }
        let body = start + headerLength
        guard b.count - body == count * kind.size else {
            throw DataError(path: name, ".npy data has \(b.count - body) bytes, the header's \(shape) of '\(descr)' needs \(count * kind.size)")
        }
        values = b[body...].withUnsafeBytes { raw -> [Double] in
            (0..<count).map { i in
                let o = i * kind.size
                switch code {
                case "u1": return Double(raw[o])
                case "i1": return Double(Int8(bitPattern: raw[o]))
                case "u2": return Double(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: UInt16.self)))
                case "i2": return Double(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: Int16.self)))
                case "u4": return Double(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: UInt32.self)))
                case "i4": return Double(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: Int32.self)))
                case "u8": return Double(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: UInt64.self)))
                case "i8": return Double(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: Int64.self)))
                case "f4": return Double(Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: UInt32.self))))
                default: return Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: UInt64.self)))
                }
            }
        }
        self.shape = shape
        isInteger = kind.integer
    }
}
