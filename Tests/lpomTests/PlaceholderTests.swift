import XCTest

/// Placeholder so the `lpomTests` target exists on the `history` branch; the CLI branch replaces it.
final class PlaceholderTests: XCTestCase {
    /// The target builds.
    func testBuilds() {}
}
