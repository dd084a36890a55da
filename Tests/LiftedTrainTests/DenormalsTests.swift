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

    /// A product split over OpenBLAS's two threads: every element of A·B is 256 products of
    /// 1e-21 by 1e-21 (denormal results, 2.56e-40 summed). Measured with OpenBLAS 0.3.21: the
    /// columns a pool thread computes are flushed when the caller flushes *or* when the pool
    /// thread was created by a flushing thread. `restartBLASPool` makes the pool's threads
    /// inherit the caller's setting: after a restart from a flushing thread every element is 0,
    /// and the pool thread's half stays flushed even for an IEEE caller — the mark that its
    /// threads were created anew (without the restart they would be the IEEE pool from before).
    func testBLASPoolThreadsStartedAgainInheritTheSetting() throws {
        #if !arch(x86_64)
        throw XCTSkip("flush-to-zero is set on x86-64 only")
        #else
        let n = 256, small: Float = 1e-21
        let a = Tensor<Float>(shape: [n, n], data: [Float](repeating: small, count: n * n))
        func zeros() -> Int { matmul(a, a).data.filter { $0 == 0 }.count }
        let saved = BLASThreads.current
        defer { BLASThreads.set(saved); Denormals.setOnThisThread(flush: false); Denormals.restartBLASPool() }
        BLASThreads.set(2)
        guard BLASThreads.current == 2 else { throw XCTSkip("OpenBLAS runs one thread here") }
        Denormals.setOnThisThread(flush: false)
        Denormals.restartBLASPool()
        XCTAssertEqual(zeros(), 0, "IEEE caller and pool: every element a denormal sum")
        Denormals.setOnThisThread(flush: true)
        Denormals.restartBLASPool()
        XCTAssertEqual(zeros(), n * n, "flushing caller and pool")
        Denormals.setOnThisThread(flush: false)
        XCTAssertGreaterThan(zeros(), 0, "the pool's threads were created by the flushing thread")
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
