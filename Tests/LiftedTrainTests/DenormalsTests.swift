import Foundation
import XCTest
@testable import LiftedTrain

/// `Denormals`: flush-to-zero on the calling thread, inherited by threads created afterwards,
/// restored on request; a product of BLAS (sgemm) with a denormal operand flushes too.
final class DenormalsTests: XCTestCase {
    /// The smallest positive denormal, through a value the optimiser cannot fold.
    var tiny: Float { Float(bitPattern: UInt32(ProcessInfo.processInfo.environment["LPOM_NEVER_SET"] == nil ? 1 : 2)) }

    override func tearDown() { Denormals.setOnThisThread(flush: false) }

    func testFlushingMakesADenormalProductZeroAndKeepingRestoresIt() throws {
        #if !arch(x86_64)
        throw XCTSkip("flush-to-zero is set on x86-64 only")
        #else
        let one: Float = tiny == 0 ? 0 : 1
        Denormals.setOnThisThread(flush: false)
        XCTAssertFalse(Denormals.flushedOnThisThread)
        XCTAssertEqual(Denormals.description, "ieee")
        XCTAssertGreaterThan(tiny * one, 0, "IEEE arithmetic keeps a denormal")
        Denormals.setOnThisThread(flush: true)
        XCTAssertTrue(Denormals.flushedOnThisThread)
        XCTAssertEqual(Denormals.description, "flushed to zero")
        XCTAssertEqual(tiny * one, 0, "denormals-are-zero")
        // BLAS on this thread: a 1×1 product of a denormal with 1.
        let a = Tensor<Float>(shape: [1, 1], data: [tiny]), b = Tensor<Float>(shape: [1, 1], data: [one])
        XCTAssertEqual(matmul(a, b).data[0], 0)
        Denormals.setOnThisThread(flush: false)
        XCTAssertGreaterThan(matmul(a, b).data[0], 0)
        #endif
    }

    func testAThreadCreatedAfterwardsInheritsTheSetting() throws {
        #if !arch(x86_64)
        throw XCTSkip("flush-to-zero is set on x86-64 only")
        #else
        for flush in [true, false] {
            Denormals.setOnThisThread(flush: flush)
            let done = DispatchSemaphore(value: 0)
            nonisolated(unsafe) var seen: Bool?
            let t = Thread { seen = Denormals.flushedOnThisThread; done.signal() }
            t.start()
            done.wait()
            XCTAssertEqual(seen, flush)
        }
        #endif
    }
}
