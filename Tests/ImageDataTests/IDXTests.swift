import Foundation
import XCTest
@testable import ImageData
import TestSupport

/// IDX reading and data-set loading, on the committed fixtures `data/fixtures/tiny/`
/// (first 200 train / 100 test examples, made by `scripts/make_fixtures.py`) and on
/// corrupt files written to a temporary folder. Golden pixel sums were computed with numpy
/// from the same fixture files.
final class IDXTests: XCTestCase {
    private static let fixtures = TestPaths.tinyData

    private var tmp: URL!

    override func setUpWithError() throws {
        tmp = FileManager.default.temporaryDirectory
            .appendingPathComponent("IDXTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: tmp)
    }

    // MARK: Helpers

    /// Writes `bytes` to `<tmp>/<name>` (creating folders) and returns the path.
    @discardableResult
    private func write(_ bytes: [UInt8], _ name: String) throws -> String {
        let url = tmp.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(),
                                                withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
        return url.path
    }

    /// An IDX ubyte file: magic 00 00 08 NN, big-endian sizes, then `payload`.
    private func idx(_ dims: [UInt32], _ payload: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0, 0, 0x08, UInt8(dims.count)]
        for d in dims { out += [UInt8(d >> 24), UInt8(d >> 16 & 0xff), UInt8(d >> 8 & 0xff), UInt8(d & 0xff)] }
        return out + payload
    }

    private func fixtureBytes(_ name: DatasetName, _ file: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(Self.fixtures)/\(name.rawValue)/\(file)")))
    }

    /// Asserts that `body` throws a `DataError` whose message names `path` and contains `words`.
    private func assertDataError<T>(_ body: @autoclosure () throws -> T, path: String,
                                    _ words: String, file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try body()
            XCTFail("no error; expected one about \(path) mentioning \"\(words)\"", file: file, line: line)
        } catch let error as DataError {
            XCTAssertTrue(error.description.contains(path), "\(error) does not name \(path)", file: file, line: line)
            XCTAssertTrue(error.description.contains(words), "\(error) does not say \"\(words)\"", file: file, line: line)
            XCTAssertFalse(error.description.contains("\n"), "\(error) is not one line", file: file, line: line)
        } catch {
            XCTFail("\(error) is not a DataError", file: file, line: line)
        }
    }

    // MARK: Fixtures

    func testParsesGzipFixture() throws {
        let images = try IDXFile(path: "\(Self.fixtures)/mnist/train-images-idx3-ubyte.gz")
        XCTAssertEqual(images.dims, [200, 28, 28])
        XCTAssertEqual(images.bytes.count, 200 * 784)
        XCTAssertEqual(images.bytes[0..<784].reduce(0) { $0 + Int($1) }, 27525)
        XCTAssertEqual(images.bytes.reduce(0) { $0 + Int($1) }, 5_070_120)
        let labels = try IDXFile(path: "\(Self.fixtures)/mnist/t10k-labels-idx1-ubyte.gz")
        XCTAssertEqual(labels.dims, [100])
    }

    func testLoadsMNISTFixture() throws {
        let data = try ImageDataset.load(.mnist, directory: Self.fixtures)
        XCTAssertEqual(data.name, .mnist)
        XCTAssertEqual([data.train.count, data.train.rows, data.train.cols], [200, 28, 28])
        XCTAssertEqual(data.test.count, 100)
        XCTAssertEqual(data.train.pixels.count, 200 * 784)
        XCTAssertEqual(Array(data.train.labels.prefix(10)), [5, 0, 4, 1, 9, 2, 1, 3, 1, 4])
        XCTAssertEqual(Array(data.test.labels.prefix(10)), [7, 2, 1, 0, 4, 1, 4, 9, 5, 9])
    }

    func testLoadsFashionMNISTFixture() throws {
        let data = try ImageDataset.load(.fashionMNIST, directory: Self.fixtures)
        XCTAssertEqual(Array(data.train.labels.prefix(10)), [9, 0, 0, 3, 0, 2, 7, 2, 5, 5])
        XCTAssertEqual(Array(data.test.labels.prefix(10)), [9, 2, 1, 1, 6, 1, 4, 6, 5, 7])
        XCTAssertEqual(data.train.pixels[0..<784].reduce(0) { $0 + Int($1) }, 76247)
        XCTAssertEqual(data.train.pixels.reduce(0) { $0 + Int($1) }, 11_409_065)
    }

    func testRawCopyLoadsTheSameAsGzip() throws {
        let gz = try ImageDataset.load(.mnist, directory: Self.fixtures)
        for stem in ["train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                     "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"] {
            let parsed = try IDXFile(path: "\(Self.fixtures)/mnist/\(stem).gz")
            try write(idx(parsed.dims.map { UInt32($0) }, parsed.bytes), "mnist/\(stem)")
        }
        let raw = try ImageDataset.load(.mnist, directory: tmp.path)
        XCTAssertEqual(raw, gz)
    }

    func testPrefersGzipOverRaw() throws {
        let labels = try fixtureBytes(.mnist, "t10k-labels-idx1-ubyte.gz")
        let path = try write(labels, "t10k-labels-idx1-ubyte.gz")
        try write([1, 2, 3], "t10k-labels-idx1-ubyte")
        XCTAssertEqual(try IDXFile(path: path).dims, [100])
    }

    func testConcatenatedGzipMembersReadAsOne() throws {
        let whole = idx([6], [0, 1, 2, 3, 4, 5])
        let path = try write(try gzipCompress(Array(whole[0..<7])) + gzipCompress(Array(whole[7...])),
                             "two-members.gz")
        XCTAssertEqual(try IDXFile(path: path).bytes, [0, 1, 2, 3, 4, 5])
    }

    // MARK: Corrupt files

    func testWrongMagic() throws {
        let notIDX = try write([0x12, 0x34, 0x08, 0x01, 0, 0, 0, 1, 7], "wrong-magic")
        assertDataError(try IDXFile(path: notIDX), path: notIDX, "bad magic")
        let floats = try write([0, 0, 0x0d, 0x01, 0, 0, 0, 1, 0, 0, 0, 0], "float-type")
        assertDataError(try IDXFile(path: floats), path: floats, "type code 0x0d")
        let noDims = try write([0, 0, 0x08, 0x00], "no-dims")
        assertDataError(try IDXFile(path: noDims), path: noDims, "zero dimensions")
    }

    func testTruncatedHeader() throws {
        let short = try write([0, 0, 0x08], "short-magic")
        assertDataError(try IDXFile(path: short), path: short, "truncated IDX header")
        let sizes = try write([0, 0, 0x08, 0x03, 0, 0, 0, 1, 0, 0], "short-sizes")
        assertDataError(try IDXFile(path: sizes), path: sizes, "truncated IDX header")
    }

    func testTruncatedPayload() throws {
        let path = try write(idx([10], [1, 2, 3, 4, 5]), "truncated")
        assertDataError(try IDXFile(path: path), path: path, "truncated payload: 5 bytes")
        let gz = try write(try gzipCompress(idx([2, 2, 2], [1, 2, 3])), "truncated.gz")
        assertDataError(try IDXFile(path: gz), path: gz, "truncated payload: 3 bytes")
    }

    func testTrailingBytes() throws {
        let path = try write(idx([3], [1, 2, 3, 4]), "trailing")
        assertDataError(try IDXFile(path: path), path: path, "trailing bytes")
        let gz = try write(try gzipCompress(idx([3], [1, 2, 3, 4])), "trailing.gz")
        assertDataError(try IDXFile(path: gz), path: gz, "trailing bytes")
        let garbage = try write(try gzipCompress(idx([3], [1, 2, 3])) + [0, 0, 0], "garbage-after.gz")
        assertDataError(try IDXFile(path: garbage), path: garbage, "trailing data after the gzip stream")
    }

    func testTruncatedGzipStream() throws {
        let full = try fixtureBytes(.mnist, "train-images-idx3-ubyte.gz")
        let half = try write(Array(full.prefix(full.count / 2)), "half.gz")
        assertDataError(try IDXFile(path: half), path: half, "truncated gzip stream")
        // Every payload byte is there; only the CRC-32 and length trailer is missing.
        let noTrailer = try write(Array(full.dropLast(8)), "no-trailer.gz")
        assertDataError(try IDXFile(path: noTrailer), path: noTrailer, "truncated gzip stream")
        let magicOnly = try write([0x1f, 0x8b], "magic-only.gz")
        assertDataError(try IDXFile(path: magicOnly), path: magicOnly, "gzip")
    }

    func testCorruptGzipChecksum() throws {
        var bytes = try gzipCompress(idx([4], [1, 2, 3, 4]))
        bytes[bytes.count - 8] ^= 0xff
        let path = try write(bytes, "bad-crc.gz")
        assertDataError(try IDXFile(path: path), path: path, "corrupt gzip data")
    }

    func testAbsurdDimsFailBeforeAllocating() throws {
        let huge = idx([1 << 30, 1 << 30, 28], [0, 0, 0, 0])
        let raw = try write(huge, "absurd")
        assertDataError(try IDXFile(path: raw), path: raw, "absurd dimensions")
        let gz = try write(try gzipCompress(huge), "absurd.gz")
        assertDataError(try IDXFile(path: gz), path: gz, "absurd dimensions")
        let overflow = try write(idx([.max, .max, .max], []), "overflow")
        assertDataError(try IDXFile(path: overflow), path: overflow, "absurd dimensions")
        let zero = try write(idx([0, 28, 28], []), "zero-dim")
        assertDataError(try IDXFile(path: zero), path: zero, "dimension 0 is 0")
    }

    func testEmptyFile() throws {
        let path = try write([], "empty")
        assertDataError(try IDXFile(path: path), path: path, "empty file")
    }

    func testMissingFile() throws {
        let path = tmp.appendingPathComponent("nope").path
        assertDataError(try IDXFile(path: path), path: path, "cannot open")
        let folder = tmp.appendingPathComponent("mnist/train-images-idx3-ubyte.gz").path
        assertDataError(try ImageDataset.load(.mnist, directory: tmp.path), path: folder,
                        "bash data/setup.sh")
    }

    func testImageAndLabelCountsMustAgree() throws {
        let images = try write(idx([3, 2, 2], [UInt8](repeating: 9, count: 12)), "images")
        let labels = try write(idx([2], [1, 2]), "labels")
        assertDataError(try LabeledImages(imagesPath: images, labelsPath: labels), path: labels,
                        "2 labels but 3 images")
    }

    func testLabelsMustBeBelowTen() throws {
        let images = try write(idx([3, 2, 2], [UInt8](repeating: 9, count: 12)), "images")
        let labels = try write(idx([3], [1, 10, 2]), "labels")
        assertDataError(try LabeledImages(imagesPath: images, labelsPath: labels), path: labels,
                        "label 10 at index 1")
    }

    func testImagesMustBeThreeDimensional() throws {
        let images = try write(idx([12], [UInt8](repeating: 9, count: 12)), "flat")
        let labels = try write(idx([12], [UInt8](repeating: 1, count: 12)), "labels")
        assertDataError(try LabeledImages(imagesPath: images, labelsPath: labels), path: images,
                        "expected 3-D images")
        assertDataError(try LabeledImages(imagesPath: labels, labelsPath: images), path: labels,
                        "expected 3-D images")
    }

    func testInMemoryInitChecksSizes() throws {
        XCTAssertNoThrow(try LabeledImages(count: 1, rows: 2, cols: 2, pixels: [1, 2, 3, 4], labels: [3]))
        XCTAssertThrowsError(try LabeledImages(count: 2, rows: 2, cols: 2, pixels: [1, 2, 3, 4], labels: [3, 4]))
        XCTAssertThrowsError(try LabeledImages(count: 1, rows: .max, cols: 3, pixels: [], labels: [0]))
    }
}
