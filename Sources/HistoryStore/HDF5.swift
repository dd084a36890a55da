import CHDF5

// The one file that talks to the HDF5 C API. Every call's return value is checked; a
// failure becomes an `H5Failure` carrying HDF5's own innermost message, and the
// (per-thread) HDF5 error stack is cleared before the Swift error is thrown.

/// A failed HDF5 call: what was being done, plus HDF5's innermost message when it gave one.
struct H5Failure: Error, CustomStringConvertible {
    /// One line, without the file name (the caller adds it).
    let description: String
}

/// Namespace for process-wide HDF5 helpers.
enum H5 {
    /// Silences HDF5's automatic error printing on the calling thread. HDF5's thread-safe
    /// build keeps that setting per thread, so every public entry point calls this.
    static func prepare() { lpom_h5_silence() }

    /// Builds a failure for `what`, appending HDF5's innermost message, and clears the stack.
    static func failure(_ what: String) -> H5Failure {
        var buffer = [CChar](repeating: 0, count: 512)
        let found = lpom_h5_innermost_error(&buffer, buffer.count)
        let bytes = buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }
        let detail = String(decoding: bytes, as: UTF8.self)
        return H5Failure(description: found != 0 && !detail.isEmpty ? "\(what): \(detail)" : what)
    }

    /// Throws if an `herr_t` reports failure.
    static func check(_ status: herr_t, _ what: @autoclosure () -> String) throws {
        if status < 0 { throw failure(what()) }
    }

    /// Throws if an `hid_t` is invalid; returns it otherwise.
    static func check(id: hid_t, _ what: @autoclosure () -> String) throws -> hid_t {
        if id < 0 { throw failure(what()) }
        return id
    }

    /// Whether `path` starts with an HDF5 signature, or HDF5's message when it cannot tell.
    static func isHDF5(path: String) -> Result<Bool, H5Failure> {
        let answer = H5Fis_hdf5(path)
        if answer < 0 { return .failure(failure("cannot check the HDF5 signature")) }
        return .success(answer > 0)
    }

    /// Clears this thread's HDF5 error stack (after failures that are not reported).
    static func clearErrors() { lpom_h5_clear() }

    /// `H5P_DEFAULT` as an `hid_t`.
    static var defaultPlist: hid_t { lpom_H5P_DEFAULT() }

    /// Converts HDF5 dimensions to `Int`, refusing values that do not fit.
    static func ints(_ dims: [hsize_t]) -> [Int]? {
        var result: [Int] = []
        for d in dims {
            guard let i = Int(exactly: d) else { return nil }
            result.append(i)
        }
        return result
    }
}

/// An element type stored in a history: the native memory type used to read and write it.
protocol H5Element {
    /// Zero.
    init()
    /// The native HDF5 memory type for this Swift type.
    static var memoryType: hid_t { get }
    /// The little-endian file type used when creating datasets of it.
    static var fileType: hid_t { get }
}

extension Float: H5Element {
    static var memoryType: hid_t { lpom_H5T_NATIVE_FLOAT() }
    static var fileType: hid_t { lpom_H5T_IEEE_F32LE() }
}

extension Double: H5Element {
    static var memoryType: hid_t { lpom_H5T_NATIVE_DOUBLE() }
    static var fileType: hid_t { lpom_H5T_IEEE_F64LE() }
}

extension Int64: H5Element {
    static var memoryType: hid_t { lpom_H5T_NATIVE_INT64() }
    static var fileType: hid_t { lpom_H5T_STD_I64LE() }
}

/// An owned HDF5 identifier, closed exactly once (explicitly or at deinit).
final class H5Handle {
    /// What kind of identifier this is, which decides the close function.
    enum Kind { case file, group, dataset, dataspace, datatype, attribute, plist, object }

    /// The raw identifier; valid while `isOpen`.
    let id: hid_t
    /// The identifier's kind.
    let kind: Kind
    /// False once closed.
    private(set) var isOpen = true

    /// Takes ownership of `id`.
    init(_ id: hid_t, _ kind: Kind) {
        self.id = id
        self.kind = kind
    }

    /// Closes the identifier; later calls do nothing. Returns HDF5's status.
    @discardableResult
    func close() -> herr_t {
        guard isOpen else { return 0 }
        isOpen = false
        switch kind {
        case .file: return H5Fclose(id)
        case .group: return H5Gclose(id)
        case .dataset: return H5Dclose(id)
        case .dataspace: return H5Sclose(id)
        case .datatype: return H5Tclose(id)
        case .attribute: return H5Aclose(id)
        case .plist: return H5Pclose(id)
        case .object: return H5Oclose(id)
        }
    }

    deinit { close() }
}

/// The class of a dataset's or attribute's element type.
enum H5TypeClass: Equatable {
    case integer, float, string, other
}

/// Inspects a datatype identifier (not owned).
private func describeType(_ type: hid_t) throws -> (H5TypeClass, Int) {
    let cls = H5Tget_class(type)
    if cls == H5T_NO_CLASS { throw H5.failure("cannot get the datatype class") }
    let size = H5Tget_size(type)
    if size == 0 { throw H5.failure("cannot get the datatype size") }
    if cls == H5T_INTEGER || cls == H5T_FLOAT {
        // HDF5 1.10.8 converts a number type of any declared size and reads past its buffers when
        // a damaged file declares, say, a 64-bit integer 2568 bytes wide (found by fuzzing).
        let precision = Int(H5Tget_precision(type)), offset = Int(H5Tget_offset(type))
        guard [1, 2, 4, 8].contains(size), precision > 0, offset >= 0, precision + offset <= 8 * size else {
            throw H5Failure(description: "a \(size)-byte number type with \(precision) bits at offset \(offset); damaged file?")
        }
    }
    switch cls {
    case H5T_INTEGER: return (.integer, size)
    case H5T_FLOAT: return (.float, size)
    case H5T_STRING: return (.string, size)
    default: return (.other, size)
    }
}

/// A value read from an attribute.
enum H5AttributeValue {
    case string(String)
    case integer(Int64)
    /// Any other type or a non-scalar shape, described in a few words.
    case other(String)
}

/// A file or group: something that holds links, attributes, groups and datasets.
final class H5Location {
    /// The owned identifier.
    let handle: H5Handle

    init(_ handle: H5Handle) { self.handle = handle }

    // MARK: Files

    /// File-access settings shared by readers and writers: format bounds from the earliest
    /// (so a new file gets superblock v0, or v2 when paged, never v3, whose "open for writing"
    /// flag makes HDF5 refuse a file left by a killed writer) to 1.10, and file locking as asked
    /// (ignored where the file system does not support it).
    private static func fileAccess(locking: Bool) throws -> H5Handle {
        let fapl = H5Handle(try H5.check(id: H5Pcreate(lpom_H5P_FILE_ACCESS()), "cannot create file-access list"), .plist)
        try H5.check(H5Pset_libver_bounds(fapl.id, H5F_LIBVER_EARLIEST, H5F_LIBVER_V110), "cannot set format bounds")
        try H5.check(H5Pset_file_locking(fapl.id, locking, true), "cannot set file locking")
        return fapl
    }

    /// Creates (truncates) a file: superblock version 0, or with `paged`, version 2 and paged
    /// aggregation of file space (4 KiB pages; metadata and small raw data are packed into
    /// separate pages, and no metadata entry smaller than a page crosses a page boundary).
    static func createFile(path: String, paged: Bool = false) throws -> H5Location {
        let fapl = try fileAccess(locking: true)
        let fcpl = H5Handle(try H5.check(id: H5Pcreate(lpom_H5P_FILE_CREATE()), "cannot create file-creation list"), .plist)
        if paged {
            try H5.check(H5Pset_file_space_strategy(fcpl.id, H5F_FSPACE_STRATEGY_PAGE, false, 1), "cannot set paged aggregation")
            try H5.check(H5Pset_file_space_page_size(fcpl.id, 4096), "cannot set the file-space page size")
        }
        let id = try H5.check(id: H5Fcreate(path, lpom_H5F_ACC_TRUNC(), fcpl.id, fapl.id), "cannot create the file")
        return H5Location(H5Handle(id, .file))
    }

    /// Makes objects created from now on in this file use the HDF5 1.10 object formats
    /// (version-2 object headers with checksums, link messages, extensible-array chunk
    /// indexes); the superblock keeps the version it was created with.
    func useObjectFormatsOf110() throws {
        try H5.check(H5Fset_libver_bounds(handle.id, H5F_LIBVER_V110, H5F_LIBVER_V110), "cannot set format bounds")
    }

    /// Opens an existing file read-only or read-write, with or without file locking.
    static func openFile(path: String, writable: Bool, locking: Bool) throws -> H5Location {
        let fapl = try fileAccess(locking: locking)
        let flags = writable ? lpom_H5F_ACC_RDWR() : lpom_H5F_ACC_RDONLY()
        let id = try H5.check(id: H5Fopen(path, flags, fapl.id), "HDF5 cannot open it")
        return H5Location(H5Handle(id, .file))
    }

    /// Writes all buffered data and metadata of the file to the operating system.
    func flush() throws {
        try H5.check(H5Fflush(handle.id, H5F_SCOPE_LOCAL), "cannot flush the file")
    }

    // MARK: Links

    /// Whether a direct child link `name` exists.
    func hasLink(_ name: String) throws -> Bool {
        let answer = H5Lexists(handle.id, name, H5.defaultPlist)
        if answer < 0 { throw H5.failure("cannot look up '\(name)'") }
        return answer > 0
    }

    /// Names of the direct children, in name order (byte order, as HDF5's name index sorts).
    ///
    /// The links are visited in the order they are stored (`H5_ITER_NATIVE`) and sorted here:
    /// asking HDF5 for name order instead makes it build a table of a group's links from the
    /// link count the file states, and HDF5 1.10.8 frees uninitialised table entries when the
    /// stored links are fewer (a double free found by fuzzing `lpom eval`). One pass also
    /// replaces a lookup per link.
    func childNames() throws -> [String] {
        final class Names { var list: [String] = [] }
        let names = Names()
        var position: hsize_t = 0
        let status = withExtendedLifetime(names) {
            H5Literate(handle.id, H5_INDEX_NAME, H5_ITER_NATIVE, &position, { _, name, _, context in
                guard let name, let context else { return -1 }
                Unmanaged<Names>.fromOpaque(context).takeUnretainedValue().list.append(String(cString: name))
                return 0
            }, Unmanaged.passUnretained(names).toOpaque())
        }
        try H5.check(status, "cannot list a group")
        return names.list.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// Whether the child `name` is a group (false for datasets and other objects).
    func isGroup(_ name: String) throws -> Bool {
        try objectType(name) == H5I_GROUP
    }

    /// Whether the child `name` is a dataset.
    func isDataset(_ name: String) throws -> Bool {
        try objectType(name) == H5I_DATASET
    }

    private func objectType(_ name: String) throws -> H5I_type_t {
        let object = H5Handle(try H5.check(id: H5Oopen(handle.id, name, H5.defaultPlist), "cannot open '\(name)'"), .object)
        let type = H5Iget_type(object.id)
        if type == H5I_BADID { throw H5.failure("cannot get the type of '\(name)'") }
        return type
    }

    /// Creates a child group. With `roomForLinks`, a group in the 1.10 format reserves space
    /// in its object header for that many links, so adding them later rewrites the header in
    /// place rather than moving links to new storage.
    func createGroup(_ name: String, roomForLinks: Int? = nil) throws -> H5Location {
        let gcpl = H5Handle(try H5.check(id: H5Pcreate(lpom_H5P_GROUP_CREATE()), "cannot create group-creation list"), .plist)
        if let links = roomForLinks {
            try H5.check(H5Pset_link_phase_change(gcpl.id, UInt32(links), 6), "cannot set compact link storage of '\(name)'")
            try H5.check(H5Pset_est_link_info(gcpl.id, UInt32(links), 24), "cannot reserve link space in '\(name)'")
        }
        let id = try H5.check(id: H5Gcreate2(handle.id, name, H5.defaultPlist, gcpl.id, H5.defaultPlist),
                              "cannot create group '\(name)'")
        return H5Location(H5Handle(id, .group))
    }

    /// Opens a child group.
    func openGroup(_ name: String) throws -> H5Location {
        let id = try H5.check(id: H5Gopen2(handle.id, name, H5.defaultPlist), "cannot open group '\(name)'")
        return H5Location(H5Handle(id, .group))
    }

    // MARK: Datasets

    /// Creates a dataset of shape `[0, *rowShape]`, extendable along axis 0, chunked
    /// `rowsPerChunk` rows at a time. `directWrites` disables the chunk cache so that
    /// whole-chunk writes go straight to the file; `compress` adds shuffle + deflate at
    /// `deflateLevel`. A chunk spans the whole row unless `chunkRowShape` (same rank as `rowShape`,
    /// each entry 1 … the row's) gives a smaller block.
    func createRowDataset<T: H5Element>(_ name: String, of: T.Type, rowShape: [Int], rowsPerChunk: Int,
                                        fill: T, directWrites: Bool, compress: Bool, deflateLevel: UInt32 = 1,
                                        chunkRowShape: [Int]? = nil) throws -> H5Dataset {
        let rank = Int32(rowShape.count + 1)
        var dims: [hsize_t] = [0] + rowShape.map { hsize_t($0) }
        var maxDims: [hsize_t] = [lpom_H5S_UNLIMITED()] + rowShape.map { hsize_t($0) }
        var chunk: [hsize_t] = [hsize_t(rowsPerChunk)] + (chunkRowShape ?? rowShape).map { hsize_t($0) }
        let space = H5Handle(try H5.check(id: H5Screate_simple(rank, &dims, &maxDims), "cannot create dataspace for '\(name)'"), .dataspace)
        let dcpl = H5Handle(try H5.check(id: H5Pcreate(lpom_H5P_DATASET_CREATE()), "cannot create dataset-creation list"), .plist)
        try H5.check(H5Pset_chunk(dcpl.id, rank, &chunk), "cannot set chunking of '\(name)'")
        var fillValue = fill
        try withUnsafeMutablePointer(to: &fillValue) { pointer in
            try H5.check(H5Pset_fill_value(dcpl.id, T.memoryType, UnsafeRawPointer(pointer)), "cannot set fill value of '\(name)'")
        }
        if compress {
            try H5.check(H5Pset_shuffle(dcpl.id), "cannot set shuffle on '\(name)'")
            try H5.check(H5Pset_deflate(dcpl.id, deflateLevel), "cannot set deflate on '\(name)'")
        }
        let dapl = try H5Dataset.accessList(directWrites: directWrites)
        let id = try H5.check(id: H5Dcreate2(handle.id, name, T.fileType, space.id, H5.defaultPlist, dcpl.id, dapl.id),
                              "cannot create dataset '\(name)'")
        return H5Dataset(H5Handle(id, .dataset), name: name)
    }

    /// Opens a child dataset.
    func openDataset(_ name: String, directWrites: Bool = false, chunkCacheBytes: Int? = nil) throws -> H5Dataset {
        let dapl = try H5Dataset.accessList(directWrites: directWrites, chunkCacheBytes: chunkCacheBytes)
        let id = try H5.check(id: H5Dopen2(handle.id, name, dapl.id), "cannot open dataset '\(name)'")
        return H5Dataset(H5Handle(id, .dataset), name: name)
    }

    // MARK: Attributes

    /// Number of attributes on this object.
    func attributeCount() throws -> Int {
        let n = H5Aget_num_attrs(handle.id)
        guard n >= 0 else { throw H5.failure("cannot count the attributes") }
        return Int(n)
    }

    /// Whether an attribute `name` exists on this object.
    func hasAttribute(_ name: String) throws -> Bool {
        let answer = H5Aexists(handle.id, name)
        if answer < 0 { throw H5.failure("cannot look up attribute '\(name)'") }
        return answer > 0
    }

    /// Writes a scalar, variable-length UTF-8 string attribute (what h5py writes for `str`).
    func writeAttribute(_ name: String, string value: String) throws {
        let type = H5Handle(try H5.check(id: H5Tcopy(lpom_H5T_C_S1()), "cannot copy string type"), .datatype)
        try H5.check(H5Tset_size(type.id, lpom_H5T_VARIABLE()), "cannot make a variable-length string type")
        try H5.check(H5Tset_cset(type.id, H5T_CSET_UTF8), "cannot set UTF-8")
        let space = H5Handle(try H5.check(id: lpom_H5S_SCALAR_create(), "cannot create scalar dataspace"), .dataspace)
        let attr = H5Handle(try H5.check(id: H5Acreate2(handle.id, name, type.id, space.id, H5.defaultPlist, H5.defaultPlist),
                                         "cannot create attribute '\(name)'"), .attribute)
        try value.withCString { pointer in
            var p: UnsafePointer<CChar>? = pointer
            try H5.check(H5Awrite(attr.id, type.id, &p), "cannot write attribute '\(name)'")
        }
    }

    /// Writes a scalar 64-bit integer attribute.
    func writeAttribute(_ name: String, integer value: Int64) throws {
        let space = H5Handle(try H5.check(id: lpom_H5S_SCALAR_create(), "cannot create scalar dataspace"), .dataspace)
        let attr = H5Handle(try H5.check(id: H5Acreate2(handle.id, name, Int64.fileType, space.id, H5.defaultPlist, H5.defaultPlist),
                                         "cannot create attribute '\(name)'"), .attribute)
        var v = value
        try H5.check(H5Awrite(attr.id, Int64.memoryType, &v), "cannot write attribute '\(name)'")
    }

    /// Reads a one-element attribute as a string or an integer; anything else is `.other`.
    func readAttribute(_ name: String) throws -> H5AttributeValue {
        let attr = H5Handle(try H5.check(id: H5Aopen(handle.id, name, H5.defaultPlist), "cannot open attribute '\(name)'"), .attribute)
        let space = H5Handle(try H5.check(id: H5Aget_space(attr.id), "cannot get the shape of attribute '\(name)'"), .dataspace)
        let points = H5Sget_simple_extent_npoints(space.id)
        if points < 0 { throw H5.failure("cannot get the size of attribute '\(name)'") }
        let type = H5Handle(try H5.check(id: H5Aget_type(attr.id), "cannot get the type of attribute '\(name)'"), .datatype)
        let (cls, size) = try describeType(type.id)
        guard points == 1 else { return .other("an array of \(points) elements") }
        switch cls {
        case .integer:
            var v: Int64 = 0
            try H5.check(H5Aread(attr.id, Int64.memoryType, &v), "cannot read attribute '\(name)'")
            return .integer(v)
        case .string:
            let variable = H5Tis_variable_str(type.id)
            if variable < 0 { throw H5.failure("cannot inspect attribute '\(name)'") }
            let memType = H5Handle(try H5.check(id: H5Tcopy(lpom_H5T_C_S1()), "cannot copy string type"), .datatype)
            try H5.check(H5Tset_cset(memType.id, H5Tget_cset(type.id)), "cannot set string encoding")
            if variable > 0 {
                try H5.check(H5Tset_size(memType.id, lpom_H5T_VARIABLE()), "cannot make a variable-length string type")
                var pointer: UnsafeMutablePointer<CChar>? = nil
                try H5.check(H5Aread(attr.id, memType.id, &pointer), "cannot read attribute '\(name)'")
                guard let p = pointer else { return .string("") }
                let text = String(cString: p)
                H5free_memory(p)
                return .string(text)
            }
            try H5.check(H5Tset_size(memType.id, size), "cannot size a string type")
            var bytes = [UInt8](repeating: 0, count: size)
            try H5.check(H5Aread(attr.id, memType.id, &bytes), "cannot read attribute '\(name)'")
            return .string(String(decoding: bytes.prefix(while: { $0 != 0 }), as: UTF8.self))
        case .float: return .other("a floating-point number")
        case .other: return .other("of an unsupported type")
        }
    }
}

/// A dataset whose rows (indices along axis 0) are read and written.
final class H5Dataset {
    /// The owned identifier.
    let handle: H5Handle
    /// The link name, for messages.
    let name: String

    init(_ handle: H5Handle, name: String) {
        self.handle = handle
        self.name = name
    }

    /// A dataset-access list; with `directWrites` the raw-data chunk cache is off, with
    /// `chunkCacheBytes` it holds up to that many bytes of decompressed chunks (HDF5 allocates
    /// it as chunks are read; the default is 1 MiB).
    static func accessList(directWrites: Bool, chunkCacheBytes: Int? = nil) throws -> H5Handle {
        let dapl = H5Handle(try H5.check(id: H5Pcreate(lpom_H5P_DATASET_ACCESS()), "cannot create dataset-access list"), .plist)
        if directWrites {
            try H5.check(H5Pset_chunk_cache(dapl.id, 0, 0, 1.0), "cannot disable the chunk cache")
        } else if let bytes = chunkCacheBytes {
            try H5.check(H5Pset_chunk_cache(dapl.id, 10_007, max(0, bytes), 1.0), "cannot size the chunk cache")
        }
        return dapl
    }

    /// The element type's class and size in bytes.
    func elementType() throws -> (H5TypeClass, Int) {
        let type = H5Handle(try H5.check(id: H5Dget_type(handle.id), "cannot get the type of '\(name)'"), .datatype)
        return try describeType(type.id)
    }

    /// Current dimensions and maximum dimensions (`H5S_UNLIMITED` where unbounded).
    func shape() throws -> (dims: [hsize_t], maxDims: [hsize_t]) {
        let space = H5Handle(try H5.check(id: H5Dget_space(handle.id), "cannot get the shape of '\(name)'"), .dataspace)
        let rank = H5Sget_simple_extent_ndims(space.id)
        if rank < 0 { throw H5.failure("cannot get the rank of '\(name)'") }
        var dims = [hsize_t](repeating: 0, count: Int(rank))
        var maxDims = [hsize_t](repeating: 0, count: Int(rank))
        if rank > 0 {
            try H5.check(H5Sget_simple_extent_dims(space.id, &dims, &maxDims), "cannot get the dimensions of '\(name)'")
        }
        return (dims, maxDims)
    }

    /// The chunk's shape (one entry per axis), or nil if the dataset is not chunked.
    func chunkShape() throws -> [Int]? {
        let dcpl = H5Handle(try H5.check(id: H5Dget_create_plist(handle.id), "cannot get the creation list of '\(name)'"), .plist)
        guard H5Pget_layout(dcpl.id) == H5D_CHUNKED else { return nil }
        var chunk = [hsize_t](repeating: 0, count: 32)
        let rank = H5Pget_chunk(dcpl.id, 32, &chunk)
        guard rank >= 1, rank <= 32, let dims = H5.ints(Array(chunk.prefix(Int(rank)))), dims.allSatisfy({ $0 > 0 }) else {
            throw H5.failure("cannot get the chunk shape of '\(name)'")
        }
        return dims
    }

    /// Rows per chunk along axis 0, or nil if the dataset is not chunked.
    func rowsPerChunk() throws -> Int? {
        try chunkShape()?.first
    }

    /// Whether every chunk holding row `row` is allocated in the file (always true for
    /// non-chunked layouts). A missing chunk would read back as the fill value.
    func rowIsStored(_ row: Int) throws -> Bool {
        guard let chunkDims = try chunkShape() else { return true }
        let dims = try shape().dims
        guard chunkDims.count == dims.count else { throw H5.failure("cannot get the chunk shape of '\(name)'") }
        let chunk = chunkDims.map { hsize_t($0) }
        // Chunks along the other axes: a row of our files is one chunk; other writers may split it.
        let grid = dims.indices.dropFirst().map { Int((dims[$0] + chunk[$0] - 1) / chunk[$0]) }
        // A row in more than 2^16 chunks is refused before HDF5 reads it (HDF5 keeps a few hundred
        // bytes per chunk of a read); the product can overflow beside a zero-sized axis.
        var total = 1
        for g in grid {
            let (p, overflow) = total.multipliedReportingOverflow(by: max(g, 1))
            guard !overflow, p <= 1 << 16 else {
                throw H5Failure(description: "'\(name)' stores a row in more than \(1 << 16) chunks (chunk \(chunk)); damaged file?")
            }
            total = p
        }
        var offset = [hsize_t](repeating: 0, count: dims.count)
        offset[0] = hsize_t(row) / chunk[0] * chunk[0]
        for index in 0..<total {
            var rest = index
            for axis in stride(from: dims.count - 1, through: 1, by: -1) {
                let n = max(grid[axis - 1], 1)
                offset[axis] = hsize_t(rest % n) * chunk[axis]
                rest /= n
            }
            var mask: UInt32 = 0
            var address: haddr_t = 0
            var size: hsize_t = 0
            try H5.check(H5Dget_chunk_info_by_coord(handle.id, &offset, &mask, &address, &size),
                         "cannot look up a chunk of '\(name)'")
            if size == 0 { return false }
        }
        return true
    }

    /// Sets the number of rows (grows or shrinks axis 0).
    func setRowCount(_ rows: Int) throws {
        var dims = try shape().dims
        guard !dims.isEmpty else { throw H5Failure(description: "'\(name)' is a scalar") }
        dims[0] = hsize_t(rows)
        try H5.check(H5Dset_extent(handle.id, &dims), "cannot resize '\(name)'")
    }

    /// Selects rows `start..<start+count` (all of every other axis) in the file and a matching memory space.
    private func rowSelection(start: Int, count: Int) throws -> (file: H5Handle, memory: H5Handle, elements: Int) {
        let file = H5Handle(try H5.check(id: H5Dget_space(handle.id), "cannot get the shape of '\(name)'"), .dataspace)
        let rank = H5Sget_simple_extent_ndims(file.id)
        if rank < 1 { throw H5Failure(description: "'\(name)' has no rows") }
        var dims = [hsize_t](repeating: 0, count: Int(rank))
        try H5.check(H5Sget_simple_extent_dims(file.id, &dims, nil), "cannot get the dimensions of '\(name)'")
        var offset = [hsize_t](repeating: 0, count: Int(rank))
        offset[0] = hsize_t(start)
        var counts = dims
        counts[0] = hsize_t(count)
        try H5.check(H5Sselect_hyperslab(file.id, H5S_SELECT_SET, &offset, nil, &counts, nil), "cannot select rows of '\(name)'")
        var elements = 1
        for c in counts {
            let (product, overflow) = elements.multipliedReportingOverflow(by: Int(clamping: c))
            if overflow { throw H5Failure(description: "'\(name)' is too large") }
            elements = product
        }
        // The memory space has the selection's own shape: HDF5 then copies contiguously
        // instead of walking two differently shaped selections.
        let memory = H5Handle(try H5.check(id: H5Screate_simple(rank, &counts, nil), "cannot create a memory dataspace"), .dataspace)
        return (file, memory, elements)
    }

    /// Writes `values` into rows `start..<start+count`; `values.count` must equal the selection size.
    func writeRows<T: H5Element>(start: Int, count: Int, values: [T]) throws {
        let (file, memory, elements) = try rowSelection(start: start, count: count)
        guard elements == values.count else {
            throw H5Failure(description: "'\(name)': \(values.count) values for \(elements) elements")
        }
        try values.withUnsafeBufferPointer { buffer in
            try H5.check(H5Dwrite(handle.id, T.memoryType, memory.id, file.id, H5.defaultPlist, buffer.baseAddress),
                         "cannot write '\(name)'")
        }
    }

    /// Reads rows `start..<start+count`, converting to `T`.
    func readRows<T: H5Element>(start: Int, count: Int, as: T.Type) throws -> [T] {
        let (file, memory, elements) = try rowSelection(start: start, count: count)
        var values = [T](repeating: T(), count: elements)
        try values.withUnsafeMutableBufferPointer { buffer in
            try H5.check(H5Dread(handle.id, T.memoryType, memory.id, file.id, H5.defaultPlist, buffer.baseAddress),
                         "cannot read '\(name)'")
        }
        return values
    }
}
