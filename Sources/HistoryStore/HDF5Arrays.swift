import CHDF5

/// Plain arrays in HDF5 files beside histories: `lpom surf --targets FILE.h5:DATASET` reads one,
/// `--save FILE.h5` writes its results. Values pass as Double (HDF5 converts stored integers and
/// floats); datasets are created chunked along the first axis, as the history's own.
public enum HDF5Arrays {
    /// One array to write: name, shape (first axis rows), values row-major.
    public struct Array: Sendable {
        public var name: String, shape: [Int], values: [Double]
        public init(_ name: String, shape: [Int], values: [Double]) { self.name = name; self.shape = shape; self.values = values }
    }

    /// The names of the datasets at the root of `path`.
    public static func datasetNames(path: String) throws -> [String] {
        H5.prepare()
        do {
            let file = try H5Location.openFile(path: path, writable: false, locking: false)
            return try file.childNames().filter { try file.isDataset($0) }
        } catch let e as H5Failure { throw HistoryError(path, e.description) }
    }

    /// Reads dataset `name`: its shape, values and whether it stores integers.
    public static func read(path: String, dataset name: String) throws -> (shape: [Int], values: [Double], isInteger: Bool) {
        H5.prepare()
        do {
            let file = try H5Location.openFile(path: path, writable: false, locking: false)
            guard try file.hasLink(name), try file.isDataset(name) else {
                throw HistoryError(path, "no dataset '\(name)' (datasets: \(try datasetNames(path: path).joined(separator: ", ")))")
            }
            let d = try file.openDataset(name)
            guard let shape = H5.ints(try d.shape().dims), !shape.isEmpty else { throw HistoryError(path, "dataset '\(name)' has no rows") }
            let (kind, _) = try d.elementType()
            guard kind == .integer || kind == .float else { throw HistoryError(path, "dataset '\(name)' holds neither integers nor floats") }
            let values = shape[0] == 0 ? [] : try d.readRows(start: 0, count: shape[0], as: Double.self)
            return (shape, values, kind == .integer)
        } catch let e as H5Failure { throw HistoryError(path, e.description) }
    }

    /// Writes `arrays` into a new file at `path` (replacing it).
    public static func write(path: String, _ arrays: [Array]) throws {
        H5.prepare()
        do {
            let file = try H5Location.createFile(path: path)
            for a in arrays {
                precondition(a.shape.reduce(1, *) == a.values.count, "HDF5Arrays: \(a.name) shape \(a.shape) for \(a.values.count) values")
                let d = try file.createRowDataset(a.name, of: Double.self, rowShape: Swift.Array(a.shape.dropFirst()),
                                                  rowsPerChunk: max(1, min(a.shape[0], 1024)), fill: 0, directWrites: false, compress: true)
                try d.setRowCount(a.shape[0])
                if a.shape[0] > 0 { try d.writeRows(start: 0, count: a.shape[0], values: a.values) }
            }
            try file.flush()
        } catch let e as H5Failure { throw HistoryError(path, e.description) }
    }
}
