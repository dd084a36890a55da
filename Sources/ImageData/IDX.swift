import CZlib
import Foundation

/// One-line error naming the file and the problem.
public struct DataError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The message, `"<path>: <problem>"` for errors about a file.
    public let description: String

    /// An error with the given one-line message.
    public init(_ description: String) {
        self.description = description
    }

    init(path: String, _ problem: String) {
        self.description = "\(path): \(problem)"
    }
}

/// A parsed IDX file: dims and raw bytes (ubyte data only — type code 0x08).
///
/// The IDX format (LeCun et al., the MNIST release): bytes `00 00 08 NN` (type code 0x08 =
/// unsigned byte, `NN` dimensions), then `NN` big-endian 32-bit sizes, then the data in
/// row-major order, nothing after it.
public struct IDXFile: Equatable, Sendable {
    /// The sizes, outermost first: `[N, rows, cols]` for images, `[N]` for labels.
    public let dims: [Int]
    /// The data, `dims.reduce(1, *)` bytes in row-major order.
    public let bytes: [UInt8]

    /// The largest payload accepted, checked against the header before anything is allocated.
    public static let maxPayloadBytes = 1 << 31

    /// Reads a raw or gzip-compressed IDX file (gzip detected by the magic bytes 1f 8b,
    /// decompressed with zlib via CZlib, streaming inflate with a size cap). Validates magic
    /// (0x00000803 for 3-D images, 0x00000801 labels; generally 0x000008NN with NN dims), that
    /// the dims are positive and their product is sane (at most `maxPayloadBytes`) BEFORE
    /// allocating, and that the payload length equals the product exactly (truncated or
    /// trailing bytes → error).
    public init(path: String) throws {
        try self.init(raw: try FileReader(path: path))
    }

    /// Parses IDX data already in memory, raw or gzip-compressed, with the same checks (and the
    /// same code) as `init(path:)`; `name` stands for the path in error messages.
    public init(bytes: [UInt8], name: String = "<memory>") throws {
        try self.init(raw: MemoryReader(bytes, name: name))
    }

    private init(raw file: RawSource) throws {
        let path = file.path
        var source: ByteSource = file
        var magic = [UInt8](repeating: 0, count: 2)
        let peeked = try file.read(into: &magic)
        try file.rewind()
        if peeked == 2 && magic == [0x1f, 0x8b] {
            source = try GzipReader(file: file)
        }

        var header = [UInt8](repeating: 0, count: 4)
        let headerCount = try source.read(into: &header)
        if headerCount == 0 {
            throw DataError(path: path, "empty file, not an IDX file")
        }
        guard headerCount == 4 else {
            throw DataError(path: path, "truncated IDX header (\(headerCount) bytes)")
        }
        guard header[0] == 0, header[1] == 0 else {
            throw DataError(path: path, "bad magic 0x\(hex(header)), not an IDX file "
                + "(expected 0x000008NN)")
        }
        guard header[2] == 0x08 else {
            throw DataError(path: path, "unsupported IDX type code 0x\(hex([header[2]])) "
                + "(only unsigned bytes, 0x08, are supported)")
        }
        let rank = Int(header[3])
        guard rank > 0 else {
            throw DataError(path: path, "bad magic 0x\(hex(header)): zero dimensions")
        }

        var sizeBytes = [UInt8](repeating: 0, count: 4 * rank)
        guard try source.read(into: &sizeBytes) == sizeBytes.count else {
            throw DataError(path: path, "truncated IDX header (\(rank) dimensions announced)")
        }
        var dims: [Int] = []
        var product = 1
        for d in 0..<rank {
            let size = sizeBytes[4 * d..<4 * d + 4].reduce(0) { $0 << 8 | Int($1) }
            guard size > 0 else {
                throw DataError(path: path, "dimension \(d) is 0 (sizes must be positive)")
            }
            let (next, overflow) = product.multipliedReportingOverflow(by: size)
            guard !overflow, next <= Self.maxPayloadBytes else {
                throw DataError(path: path, "absurd dimensions \(dims + [size])… "
                    + "(more than \(Self.maxPayloadBytes) bytes)")
            }
            dims.append(size)
            product = next
        }

        // The header's size is not trusted with memory: the payload is read in 1 MiB blocks and
        // the array grows (at most to the announced size) only as bytes arrive, so a short file
        // announcing 2 GiB costs a block, not 2 GiB.
        var bytes: [UInt8] = []
        var block = [UInt8](repeating: 0, count: min(product, 1 << 20))
        while bytes.count < product {
            let want = min(block.count, product - bytes.count)
            let n = try block.withUnsafeMutableBytes { try source.read(into: .init(rebasing: $0[..<want])) }
            if bytes.capacity < bytes.count + n {
                bytes.reserveCapacity(min(product, max(2 * bytes.capacity, bytes.count + n)))
            }
            bytes.append(contentsOf: block[..<n])
            if n < want { break }
        }
        let got = bytes.count
        guard got == product else {
            throw DataError(path: path, "truncated payload: \(got) bytes, dims \(dims) need "
                + "\(product)")
        }
        var extra = [UInt8](repeating: 0, count: 4096)
        let trailing = try source.read(into: &extra)
        guard trailing == 0 else {
            throw DataError(path: path, "trailing bytes after the \(product)-byte payload "
                + "of dims \(dims)")
        }
        self.dims = dims
        self.bytes = bytes
    }
}

private func hex(_ bytes: [UInt8]) -> String {
    bytes.map { String(format: "%02x", $0) }.joined()
}

/// A stream of bytes that fills a buffer as far as it can.
private protocol ByteSource: AnyObject {
    /// Fills `buffer` from the stream; returns fewer bytes than asked only at the end.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

extension ByteSource {
    func read(into array: inout [UInt8]) throws -> Int {
        try array.withUnsafeMutableBytes { try read(into: $0) }
    }
}

/// The undecoded bytes of an IDX file (on disk or in memory): readable from the start again,
/// and named for error messages.
private protocol RawSource: ByteSource {
    /// The path, or the name given to data in memory.
    var path: String { get }
    /// Goes back to the first byte.
    func rewind() throws
}

/// Bytes in memory, read like a file.
private final class MemoryReader: RawSource {
    let path: String
    private let bytes: [UInt8]
    private var position = 0

    init(_ bytes: [UInt8], name: String) {
        self.bytes = bytes
        self.path = name
    }

    func rewind() throws { position = 0 }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(buffer.count, bytes.count - position)
        guard n > 0, let base = buffer.baseAddress else { return 0 }
        bytes.withUnsafeBytes { base.copyMemory(from: $0.baseAddress! + position, byteCount: n) }
        position += n
        return n
    }
}

/// A file read with stdio, closed when released.
private final class FileReader: RawSource {
    let path: String
    private let handle: UnsafeMutablePointer<FILE>

    init(path: String) throws {
        guard let handle = fopen(path, "rb") else {
            throw DataError(path: path, "cannot open (\(String(cString: strerror(errno))))")
        }
        self.path = path
        self.handle = handle
    }

    deinit {
        fclose(handle)
    }

    func rewind() throws {
        guard fseek(handle, 0, SEEK_SET) == 0 else {
            throw DataError(path: path, "cannot seek (\(String(cString: strerror(errno))))")
        }
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        var total = 0
        while total < buffer.count {
            let n = fread(base + total, 1, buffer.count - total, handle)
            total += n
            if n == 0 {
                if ferror(handle) != 0 {
                    throw DataError(path: path, "read error (\(String(cString: strerror(errno))))")
                }
                break
            }
        }
        return total
    }
}

/// Streaming gzip decompression (RFC 1952) with zlib's `inflate`, reading the file in chunks.
/// Concatenated gzip members are read as one stream, as `gzip -d` does; anything else after
/// the last member is an error. zlib checks each member's CRC-32 and length.
private final class GzipReader: ByteSource {
    private let file: RawSource
    private let stream: UnsafeMutablePointer<z_stream>
    private let input: UnsafeMutableRawBufferPointer
    private var inputEnded = false
    private var memberEnded = false

    init(file: RawSource) throws {
        self.file = file
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        input = .allocate(byteCount: 1 << 18, alignment: 1)
        // 15 + 16: a 32 KiB window and a gzip wrapper.
        let status = inflateInit2_(stream, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            stream.deallocate()
            input.deallocate()
            throw DataError(path: file.path, "zlib inflateInit2 failed (\(status))")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
        input.deallocate()
    }

    /// Refills zlib's input when it is empty; false at the end of the file.
    private func refill() throws -> Bool {
        if stream.pointee.avail_in > 0 { return true }
        if inputEnded { return false }
        let n = try file.read(into: input)
        if n < input.count { inputEnded = true }
        stream.pointee.next_in = input.baseAddress?.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_in = uInt(n)
        return n > 0
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        var produced = 0
        while produced < buffer.count {
            if memberEnded {
                guard try refill() else { return produced }
                guard stream.pointee.next_in.pointee == 0x1f else {
                    throw DataError(path: file.path, "trailing data after the gzip stream")
                }
                inflateReset(stream)
                memberEnded = false
            }
            guard try refill() else {
                throw DataError(path: file.path, "truncated gzip stream")
            }
            let room = min(buffer.count - produced, Int(UInt32.max))
            stream.pointee.next_out = (base + produced).assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = uInt(room)
            let status = inflate(stream, Z_NO_FLUSH)
            produced += room - Int(stream.pointee.avail_out)
            switch status {
            case Z_OK:
                continue
            case Z_STREAM_END:
                memberEnded = true
            case Z_BUF_ERROR where stream.pointee.avail_in == 0:
                continue
            default:
                let message = stream.pointee.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                throw DataError(path: file.path, "corrupt gzip data (\(message))")
            }
        }
        return produced
    }
}

/// Compresses `bytes` into one gzip member (zlib `deflate`, level 6). For writing test files.
func gzipCompress(_ bytes: [UInt8]) throws -> [UInt8] {
    // zlib keeps a pointer back to the z_stream, so it must not move between calls.
    let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    stream.initialize(to: z_stream())
    defer { stream.deallocate() }
    // 15 + 16: a 32 KiB window and a gzip wrapper; memLevel 8 is zlib's default.
    guard deflateInit2_(stream, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
                        zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
        throw DataError("zlib deflateInit2 failed")
    }
    defer { deflateEnd(stream) }
    var output = [UInt8](repeating: 0, count: Int(deflateBound(stream, uLong(bytes.count))))
    var input = bytes
    let status = input.withUnsafeMutableBufferPointer { src in
        output.withUnsafeMutableBufferPointer { dst in
            stream.pointee.next_in = src.baseAddress
            stream.pointee.avail_in = uInt(src.count)
            stream.pointee.next_out = dst.baseAddress
            stream.pointee.avail_out = uInt(dst.count)
            return deflate(stream, Z_FINISH)
        }
    }
    guard status == Z_STREAM_END else {
        throw DataError("zlib deflate failed (\(status))")
    }
    return Array(output.prefix(Int(stream.pointee.total_out)))
}
