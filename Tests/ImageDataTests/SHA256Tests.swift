import Foundation
import XCTest
@testable import ImageData

/// `SHA256` against the example vectors of FIPS 180-2 (Appendix B) and NIST's CAVP
/// "SHA256ShortMsg" set, streaming in awkward pieces, and a file digest against `sha256sum`.
final class SHA256Tests: XCTestCase {
    func testFIPSExampleVectors() {
        XCTAssertEqual(SHA256.hex(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex([UInt8]()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        // 56 bytes: the padding needs a second block.
        XCTAssertEqual(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        // CAVP SHA256ShortMsg, Len = 8: 0xd3.
        XCTAssertEqual(SHA256.hex([0xd3]), "28969cdfa74a12c82f3bad960b0b000aca2ac329deea5c2328ebc6f2ba9802c1")
    }

    func testOneMillionAInPiecesOfEverySize() {
        let expected = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        let message = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        XCTAssertEqual(SHA256.hex(message), expected)
        for piece in [1, 63, 64, 65, 1000] {
            var h = SHA256()
            var start = 0
            while start < message.count {
                let end = min(message.count, start + piece)
                h.update(Array(message[start..<end]))
                start = end
            }
            XCTAssertEqual(h.finalize().map { String(format: "%02x", $0) }.joined(), expected, "pieces of \(piece)")
        }
    }

    /// Every length around the block boundaries, against values computed by `sha256sum`
    /// (printf 'a%.0s' $(seq n) | sha256sum) for 55, 56, 63, 64 and 119 bytes of 'a'.
    func testLengthsAroundThePaddingBoundary() {
        let expected: [Int: String] = [
            55: "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318",
            56: "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a",
            63: "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34",
            64: "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb",
            119: "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb",
        ]
        for (n, hex) in expected {
            XCTAssertEqual(SHA256.hex([UInt8](repeating: UInt8(ascii: "a"), count: n)), hex, "\(n) bytes")
        }
    }

    func testFileDigestMatchesSha256sum() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let (hex, bytes) = try SHA256.file(root.path + "/data/fixtures/tiny/mnist/train-images-idx3-ubyte.gz")
        XCTAssertEqual(hex, "979cdc94026378e2c20fc3981a909bf127d537f940ee890f806d69e404645f56")
        XCTAssertEqual(bytes, 31513)
        XCTAssertThrowsError(try SHA256.file(root.path + "/no/such/file")) { XCTAssertTrue("\($0)".contains("cannot be read"), "\($0)") }
    }
}
