import XCTest
@testable import LiftedTrain

/// When lpom asks OpenBLAS for other kernels (`BLASKernelChoice`): only when OpenBLAS's choice has
/// no AVX2 while the CPU has it, and then the best family the CPU's flags allow.
final class BLASKernelChoiceTests: XCTestCase {
    let avx2: Set<String> = ["sse3", "avx", "avx2", "fma"]
    var avx512: Set<String> { avx2.union(["avx512f", "avx512vl", "avx512bw", "avx512dq", "avx512cd"]) }
    var bf16: Set<String> { avx512.union(["avx512_bf16"]) }

    func testAMisdetectedNewCPUGetsTheKernelsOfItsInstructionSet() {
        // Session 19's Xeon (family 6 model 207): OpenBLAS 0.3.21 took Prescott on an AVX-512 BF16 CPU.
        XCTAssertEqual(BLASKernelChoice.better(than: "Prescott", flags: bf16, vendor: "GenuineIntel"), "Cooperlake")
        XCTAssertEqual(BLASKernelChoice.better(than: "Prescott", flags: avx512, vendor: "GenuineIntel"), "SkylakeX")
        XCTAssertEqual(BLASKernelChoice.better(than: "Nehalem", flags: avx2, vendor: "GenuineIntel"), "Haswell")
        XCTAssertEqual(BLASKernelChoice.better(than: "Sandybridge", flags: avx2, vendor: "GenuineIntel"), "Haswell")
        XCTAssertEqual(BLASKernelChoice.better(than: "Barcelona", flags: avx2, vendor: "AuthenticAMD"), "Zen")
        XCTAssertEqual(BLASKernelChoice.better(than: "prescott", flags: bf16, vendor: "AuthenticAMD"), "Cooperlake")
    }

    func testAChoiceWithAVX2OrACPUWithoutItStands() {
        for kernel in ["Haswell", "Zen", "SkylakeX", "Cooperlake", "Excavator"] {
            XCTAssertNil(BLASKernelChoice.better(than: kernel, flags: bf16, vendor: "GenuineIntel"), kernel)
        }
        XCTAssertNil(BLASKernelChoice.better(than: "Prescott", flags: ["sse3", "avx"], vendor: "GenuineIntel"))   // a real Sandy Bridge-class CPU
        XCTAssertNil(BLASKernelChoice.better(than: "Prescott", flags: ["avx2"], vendor: "GenuineIntel"))          // AVX2 without FMA: not Haswell's
        XCTAssertNil(BLASKernelChoice.better(than: "SomethingNew", flags: bf16, vendor: "GenuineIntel"))          // a name it does not know
        XCTAssertNil(BLASKernelChoice.better(than: "Prescott", flags: [], vendor: ""))                             // no /proc/cpuinfo
    }

    func testThisCPUsFlagsAreRead() {
        #if os(Linux) && arch(x86_64)
        let (vendor, flags) = BLASKernelChoice.cpu()
        XCTAssertFalse(vendor.isEmpty)
        XCTAssertTrue(flags.contains("sse2"), "\(flags.sorted().prefix(10))")
        #endif
    }
}
