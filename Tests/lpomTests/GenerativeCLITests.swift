import ArgumentParser
import Foundation
import HistoryStore
import LiftedHistory
import XCTest
import LiftedTrain
@testable import lpom

/// `lpom train --model …` end to end on the committed fixtures: the history holds the generator
/// only and rebuilds from the file alone.
final class GenerativeCLITests: CLITestCase {
    func train(_ args: [String]) throws -> GenerativeSummary {
        let all = ["--dataset", "fashion-mnist", "--data-dir", fixtures, "--quiet"] + args
        let cmd = try TrainCommand.parse(all)
        return try cmd.performGenerative(cmd.gen.model!, recording: all)
    }

    func testBadOptionsStopWithOneLine() {
        XCTAssertNil(parseError(["--model", "dcgan"]))
        XCTAssertTrue(parseError(["--model", "vae", "--latent", "0"])?.contains("--latent") ?? false)
        XCTAssertTrue(parseError(["--model", "vae", "--steps", "0"])?.contains("--steps") ?? false)
        XCTAssertNotNil(parseError(["--model", "gan3"]))
        XCTAssertTrue(parseError(["--model", "dcgan", "--method", "lpom"])?.contains("--method lpom") ?? false)
        XCTAssertTrue(parseError(["--model", "dcgan", "--epochs", "3"])?.contains("--steps") ?? false)
        XCTAssertTrue(parseError(["--model", "dcgan", "--lr", "0.1"])?.contains("--g-lr") ?? false)
        XCTAssertTrue(parseError(["--model", "wgan", "--n-critic", "0"])?.contains("--n-critic") ?? false)
        XCTAssertTrue(parseError(["--model", "vae", "--sample-grid", "x.jpg"])?.contains(".png") ?? false)
        XCTAssertTrue(parseError(["--model", "wgan", "--generator-forwards", "3"])?.contains("1 or 2") ?? false)
        XCTAssertTrue(parseError(["--model", "vae", "--generator-forwards", "2"])?.contains("GANs") ?? false)
    }

    func testFullyConnectedGANHistoryHoldsTheGeneratorOnly() throws {
        let h = dir + "/gan.h5", png = dir + "/s.png"
        let s = try train(["--model", "wgan-gp", "--generator", "fc", "--gen-hidden", "16", "--latent", "3", "--steps", "5",
                           "--snapshot-every", "2", "--batch-size", "20", "--history", h, "--seed", "4", "--sample-grid", png])
        XCTAssertEqual(s.snapshots, 4)
        let r = try HistoryReader(path: h)
        defer { r.close() }
        XCTAssertEqual(r.snapshotSteps, [0, 2, 4, 5])
        XCTAssertEqual(r.parameterShapes, ["layers.0.weight": [16, 3], "layers.0.bias": [16],
                                           "layers.2.weight": [784, 16], "layers.2.bias": [784]])
        XCTAssertEqual(try r.metricSteps(), [1, 2, 3, 4, 5])
        XCTAssertTrue(Set(r.metricNames).isSuperset(of: ["d_loss", "g_loss", "gradient_penalty", "wasserstein"]))
        let info = try JSONSerialization.jsonObject(with: Data(r.training.utf8)) as! [String: Any]
        XCTAssertEqual(info["method"] as? String, "wgan-gp")
        XCTAssertEqual(info["latent"] as? Int, 3)
        XCTAssertEqual(info["latent_prior"] as? String, "uniform")
        XCTAssertEqual(info["latent_bounds"] as? [Double], [-1, 1])
        XCTAssertEqual(info["architecture"] as? String, "fc")
        XCTAssertNotNil(info["discriminator"] as? [String: Any])
        let g = try Network<Float>.load(from: r, snapshot: -1)
        XCTAssertEqual(g.spec.inputShape, [3])
        let y = g.forward(Tensor(repeating: 0.5, shape: [2, 3]))
        XCTAssertEqual(y.count, 2 * 784)
        XCTAssertTrue(y.data.allSatisfy { $0 > 0 && $0 < 1 })
        // Snapshot 0 is the initialisation: N(0, 0.02²) weights, zero biases.
        let w0 = try r.parameter("layers.2.weight", snapshot: 0)
        let std = (w0.reduce(0) { $0 + Double($1 * $1) } / Double(w0.count)).squareRoot()
        XCTAssertEqual(std, 0.02, accuracy: 0.002)
        XCTAssertEqual(try r.parameter("layers.0.bias", snapshot: 0), [Float](repeating: 0, count: 16))
        XCTAssertNotEqual(try r.parameter("layers.0.bias", snapshot: 3), [Float](repeating: 0, count: 16))
        let bytes = try Data(contentsOf: URL(fileURLWithPath: png))
        XCTAssertEqual(Array(bytes.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
    }

    func testPaperVAEHistoryStoresBatchNormBuffers() throws {
        let h = dir + "/vae.h5"
        _ = try train(["--model", "vae", "--generator", "paper", "--latent", "2", "--steps", "2", "--snapshot-every", "0",
                       "--batch-size", "3", "--history", h])
        let r = try HistoryReader(path: h)
        defer { r.close() }
        XCTAssertEqual(r.snapshotSteps, [0, 2])
        XCTAssertEqual(r.parameterShapes["layers.0.weight"], [1024, 2])
        XCTAssertEqual(r.parameterShapes["layers.7.weight"], [128, 64, 4, 4])
        XCTAssertEqual(Set(r.bufferShapes.keys), ["layers.1.running_mean", "layers.1.running_var", "layers.4.running_mean",
                                                  "layers.4.running_var", "layers.8.running_mean", "layers.8.running_var"])
        XCTAssertEqual(r.bufferShapes["layers.4.running_mean"], [6272])
        XCTAssertTrue(r.parameterShapes.keys.allSatisfy { $0.hasPrefix("layers.") }, "no encoder parameters")
        XCTAssertEqual(r.parameterShapes.count, 14)  // 4 weight layers and 3 batch norms
        // The running statistics move with training: the last snapshot's differ from the initial zeros.
        XCTAssertEqual(try r.buffer("layers.8.running_mean", snapshot: 0), [Float](repeating: 0, count: 64))
        XCTAssertNotEqual(try r.buffer("layers.8.running_mean", snapshot: 1), [Float](repeating: 0, count: 64))
        let info = try JSONSerialization.jsonObject(with: Data(r.training.utf8)) as! [String: Any]
        XCTAssertEqual(info["method"] as? String, "vae")
        XCTAssertEqual(info["latent_prior"] as? String, "normal")
        XCTAssertNotNil(info["encoder"] as? [String: Any])
        let g = try Network<Float>.load(from: r, snapshot: 1)
        XCTAssertEqual(g.outputShape, [1, 28, 28])
    }

    func testDivergingRunStopsAndLeavesAReadableHistory() throws {
        let h = dir + "/nan.h5"
        XCTAssertThrowsError(try train(["--model", "vae", "--generator", "fc", "--gen-hidden", "8", "--latent", "2",
                                        "--steps", "50", "--snapshot-every", "1", "--batch-size", "20", "--lr", "1e30",
                                        "--history", h])) { e in
            XCTAssertTrue("\(e)".contains("diverged"), "\(e)")
            XCTAssertTrue("\(e)".contains("keeps"), "\(e)")
        }
        let r = try HistoryReader(path: h)
        defer { r.close() }
        XCTAssertGreaterThanOrEqual(r.snapshotCount, 1)
        XCTAssertNoThrow(try Network<Float>.load(from: r, snapshot: -1))
    }
}
