import Foundation

/// A check of a file's HDF5 global heap collections, run before HDF5 opens it.
///
/// Variable-length strings — every history's `format`, `model` and `training` attributes — are
/// stored in global heap collections (HDF5 file format specification, "Global Heap": signature
/// `GCOL`, version 1, three reserved bytes, the collection size, then objects of a 2-byte index,
/// 2-byte reference count, 4 reserved bytes, a length-sized object size and the data padded to
/// 8 bytes; index 0 is the free space, whose size counts its own header). HDF5 1.10.8 parses a
/// collection without checking that its objects fit: an object of size 0 makes it loop forever,
/// and sizes running past the collection make it read and free wild memory (found by fuzzing
/// `lpom eval`, fuzz/HistoryFuzz.swift). HDF5 reads these strings before lpom can check
/// anything, so every collection is checked here first: its size must fit in the file and its
/// objects must tile it exactly.
///
/// Collections are found by their signature in a scan of the whole file (reading it once, about
/// a quarter of a second per GB from the page cache); a header counts as one when it has the
/// signature, version 1 and zero reserved bytes as HDF5 writes them, which random data matches
/// with probability 2^-64 per byte. A damaged collection whose version or reserved bytes were changed is not recognised
/// and is left to HDF5.
enum HDF5GlobalHeap {
    /// Bytes of a collection header: signature, version, reserved, size (8-byte lengths).
    static let signature: [UInt8] = Array("GCOL".utf8)

    /// Checks every global heap collection of the file at `path`; returns a description of the
    /// first damaged one, or nil if all are sound (or the file is not one this check reads).
    static func damage(path: String) throws -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        let fileSize = Int(try handle.seekToEnd())
        guard let lengthSize = try lengthSize(handle, fileSize: fileSize) else { return nil }
        // One buffer for the whole scan, filled by pread: a fresh 1 MiB buffer per block (as
        // `FileHandle.read` returns) costs a page fault per 4 KiB — 6 s of system time for a
        // 2.7 GB history, against ≈ 0.3 s copying into a buffer that stays mapped. Not mmap: a
        // file truncated by its writer while mapped would raise SIGBUS instead of an error.
        let block = 1 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: block + 16, alignment: 64)
        defer { buffer.deallocate() }
        let fd = handle.fileDescriptor
        _ = posix_fadvise(fd, 0, 0, Int32(POSIX_FADV_SEQUENTIAL))
        var offset = 0
        while offset < fileSize {
            // Overlapping by a header so that a signature across a block boundary is found.
            let count = try readFully(fd, into: buffer, at: offset)
            if count == 0 { break }
            for start in signatureOffsets(in: UnsafeRawBufferPointer(rebasing: buffer[0..<count])) where start < block {
                if let problem = try check(handle, at: offset + start, lengthSize: lengthSize, fileSize: fileSize) {
                    return problem
                }
            }
            offset += block
        }
        return nil
    }

    /// Bytes read at `offset` into `buffer` (fewer only at the end of the file).
    private static func readFully(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws -> Int {
        var done = 0
        while done < buffer.count {
            let n = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
            if n == 0 { break }
            if n < 0 {
                if errno == EINTR { continue }
                throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: String(cString: strerror(errno))])
            }
            done += n
        }
        return done
    }

    /// Offsets of the signature in `bytes`.
    private static func signatureOffsets(in bytes: UnsafeRawBufferPointer) -> [Int] {
        guard let base = bytes.baseAddress else { return [] }
        var found: [Int] = []
        var at = 0
        while at + signature.count <= bytes.count, let hit = memchr(base + at, Int32(signature[0]), bytes.count - at) {
            let position = base.distance(to: UnsafeRawPointer(hit))
            if position + signature.count <= bytes.count && memcmp(hit, signature, signature.count) == 0 {
                found.append(position)
            }
            at = position + 1
        }
        return found
    }

    /// The superblock's "size of lengths" (at offset 0 or a power of two from 512), or nil if
    /// there is no superblock or the size is not one this check decodes (2, 4 or 8).
    private static func lengthSize(_ handle: FileHandle, fileSize: Int) throws -> Int? {
        let magic: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]
        var at = 0
        while at + 16 <= fileSize {
            try handle.seek(toOffset: UInt64(at))
            let head = [UInt8](try handle.read(upToCount: 16) ?? Data())
            if head.count == 16 && Array(head[0..<8]) == magic {
                // Versions 0 and 1 keep the size at byte 14, versions 2 and 3 at byte 10.
                let size = Int(head[8] < 2 ? head[14] : head[10])
                return [2, 4, 8].contains(size) ? size : nil
            }
            at = at == 0 ? 512 : 2 * at
        }
        return nil
    }

    /// Checks the collection whose header may start at `start`; a description of the damage, or nil.
    private static func check(_ handle: FileHandle, at start: Int, lengthSize: Int, fileSize: Int) throws -> String? {
        let headerSize = 8 + lengthSize
        try handle.seek(toOffset: UInt64(start))
        let header = [UInt8](try handle.read(upToCount: headerSize) ?? Data())
        guard header.count == headerSize, header[4] == 1, header[5] == 0, header[6] == 0, header[7] == 0 else { return nil }
        let size = littleEndian(header[8...])
        guard size >= UInt64(headerSize), size <= UInt64(fileSize - start) else {
            return "global heap collection at byte \(start) claims \(size) bytes, but the file has \(fileSize - start) after it"
        }
        let collection = [UInt8](try handle.read(upToCount: Int(size) - headerSize) ?? Data())
        guard collection.count == Int(size) - headerSize else { return "global heap collection at byte \(start) is truncated" }
        // Objects must tile the collection exactly, as HDF5's parser assumes (H5HGcache.c).
        let objectHeader = 8 + lengthSize
        var p = 0
        while p < collection.count {
            if collection.count - p < objectHeader { break }  // too small for an object: free space
            let index = Int(collection[p]) | Int(collection[p + 1]) << 8
            let objectSize = littleEndian(collection[(p + 8)..<(p + 8 + lengthSize)])
            let room = UInt64(collection.count - p)
            // The size is compared before it is rounded up: near 2^64 the rounding would overflow.
            let need = objectSize > room ? room + 1 : index == 0 ? objectSize : UInt64(objectHeader) + (objectSize + 7) / 8 * 8
            guard need > 0, need <= room else {
                return "global heap collection at byte \(start): object \(index) at byte \(start + headerSize + p) "
                    + "claims \(objectSize) bytes, which do not fit the collection"
            }
            p += Int(need)
        }
        return nil
    }

    private static func littleEndian(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        bytes.reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }
}
