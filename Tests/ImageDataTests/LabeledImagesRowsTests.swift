import XCTest
@testable import ImageData

/// `LabeledImages.rows`: the image part of the validation split.
final class LabeledImagesRowsTests: XCTestCase {
    func testRowsKeepPixelsAndLabelsOfTheRange() throws {
        let images = try LabeledImages(count: 4, rows: 1, cols: 2, pixels: [0, 1, 2, 3, 4, 5, 6, 7], labels: [9, 8, 7, 6])
        let last = images.rows(3 ..< 4)
        XCTAssertEqual(last.pixels, [6, 7])
        XCTAssertEqual(last.labels, [6])
        let middle = images.rows(1 ..< 3)
        XCTAssertEqual(middle.pixels, [2, 3, 4, 5])
        XCTAssertEqual(middle.labels, [8, 7])
    }
}
