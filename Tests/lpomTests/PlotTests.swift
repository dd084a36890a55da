import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import lpom

/// The elements of an XML document in document order, read by Foundation's XMLParser (libxml2):
/// names, attributes and text. Throws when the text is not well-formed XML.
struct XMLElements {
    struct Element { var name: String; var attributes: [String: String]; var text = "" }
    private(set) var elements: [Element] = []

    init(_ text: String) throws {
        final class Delegate: NSObject, XMLParserDelegate {
            var elements: [Element] = []
            var open: [Int] = []
            func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                        attributes: [String: String]) {
                open.append(elements.count)
                elements.append(Element(name: name, attributes: attributes))
            }
            func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
                open.removeLast()
            }
            func parser(_ parser: XMLParser, foundCharacters string: String) {
                if let i = open.last { elements[i].text += string }
            }
        }
        let parser = XMLParser(data: Data(text.utf8))
        let delegate = Delegate()
        parser.delegate = delegate
        guard parser.parse() else {
            throw CommandError("not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "?") at line \(parser.lineNumber)")
        }
        elements = delegate.elements
    }

    /// The elements named `name`.
    func named(_ name: String) -> [Element] { elements.filter { $0.name == name } }
}

/// `LinePlot` (Plot.swift): the SVG parses as XML, has one polyline per series with one point
/// per finite (x, y), the legend names every series, markup in titles is escaped, and every
/// point lies inside the plot frame.
final class PlotTests: CLITestCase {
    func plot() -> LinePlot {
        var p = LinePlot(title: "loss <of> run & co", xLabel: "step", yLabel: "value")
        p.series.append(.init(name: "train loss", x: [0, 1, 2, 3, 4], y: [2.3, 1.1, 0.7, .nan, 0.4]))
        p.series.append(.init(name: "test accuracy <%>", x: [1, 3, .infinity], y: [0.5, 0.8, 0.9]))
        return p
    }

    /// The points of a polyline.
    func points(_ e: XMLElements.Element) -> [(Double, Double)] {
        (e.attributes["points"] ?? "").split(separator: " ").map { pair in
            let v = pair.split(separator: ",").map { Double($0)! }
            return (v[0], v[1])
        }
    }

    func testSVGParsesAndHoldsEverySeries() throws {
        let xml = try XMLElements(plot().svg(width: 640, height: 400))
        XCTAssertEqual(xml.elements.first?.name, "svg")
        XCTAssertEqual(xml.elements.first?.attributes["width"], "640")
        let texts = xml.named("text").map(\.text)
        XCTAssertTrue(texts.contains("loss <of> run & co"), "title unescaped by the parser: \(texts)")
        XCTAssertTrue(texts.contains("train loss"), "\(texts)")
        XCTAssertTrue(texts.contains("test accuracy <%>"), "\(texts)")
        XCTAssertTrue(texts.contains("step") && texts.contains("value"))
        let lines = xml.named("polyline")
        XCTAssertEqual(lines.count, 2)
        XCTAssertEqual(points(lines[0]).count, 4, "the NaN point is skipped")
        XCTAssertEqual(points(lines[1]).count, 2, "the infinite x is skipped")
        XCTAssertNotEqual(lines[0].attributes["stroke"], lines[1].attributes["stroke"])
        // Every point inside the frame (the second <rect>: x 70…620, y 40…350).
        let frame = xml.named("rect")[1].attributes
        let (fx, fy) = (Double(frame["x"]!)!, Double(frame["y"]!)!)
        let (fw, fh) = (Double(frame["width"]!)!, Double(frame["height"]!)!)
        for (x, y) in lines.flatMap(points) {
            XCTAssertTrue(x >= fx && x <= fx + fw && y >= fy && y <= fy + fh, "(\(x), \(y)) outside the frame")
        }
        // x grows left to right; a lower y value is drawn lower (larger SVG y).
        let train = points(lines[0])
        XCTAssertEqual(train.map(\.0), train.map(\.0).sorted())
        XCTAssertGreaterThan(train[2].1, train[1].1)
    }

    func testFixedRangeClampsAndDegenerateDataStillParse() throws {
        var p = plot()
        p.yRange = (0, 1)
        let clamped = try XMLElements(p.svg())
        let frame = clamped.named("rect")[1].attributes
        let top = Double(frame["y"]!)!
        XCTAssertEqual(points(clamped.named("polyline")[0]).first?.1, top, "2.3 is drawn at the top of a 0…1 range")
        // No finite point at all, one point, no series: still a well-formed SVG.
        var empty = LinePlot(title: "empty", xLabel: "x", yLabel: "y")
        _ = try XMLElements(empty.svg())
        empty.series.append(.init(name: "one", x: [3], y: [3]))
        _ = try XMLElements(empty.svg())
        empty.series.append(.init(name: "nan", x: [.nan], y: [.nan]))
        XCTAssertEqual(try XMLElements(empty.svg()).named("polyline").count, 2)
    }

    func testWriteCreatesFoldersAndRefusesAnUnwritablePath() throws {
        let path = dir + "/plots/deeper/curves.svg"
        try plot().write(to: path)
        XCTAssertEqual(try XMLElements(String(contentsOfFile: path, encoding: .utf8)).named("polyline").count, 2)
        try "x".write(toFile: dir + "/file", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try plot().write(to: dir + "/file/curves.svg"))
    }
}
