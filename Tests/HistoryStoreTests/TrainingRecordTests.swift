import Foundation
import XCTest
@testable import HistoryStore
import LiftedTrain

/// `TrainingRecord` reads every history written before it existed: the committed fixtures
/// (h5py-written, and `lpom-0.1.0-sgd.h5` written by lpom 0.1.0 before the record was typed) and
/// the training JSON lpom 0.1.0 wrote for every kind of run (`lpom-0.1.0-training.json`:
/// sgd, adam, lpom, ggn teacher–student, bottom-half ink, resnet, vae, wgan-gp).
final class TrainingRecordTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path + "/data/fixtures"

    func testCommittedFixtureHistoriesDecode() throws {
        let h5py = try HistoryReader(path: Self.fixtures + "/h5py-history.h5").trainingRecord()
        XCTAssertEqual(h5py.method, "sgd")
        XCTAssertEqual(h5py.seed, 1234)
        XCTAssertEqual(h5py.snapshotEvery, 40)
        XCTAssertNil(h5py.epochs)
        XCTAssertEqual(h5py.other["lr"], .double(0.1), "a key this version does not know is kept")
        XCTAssertTrue(h5py.json().contains("\"lr\":0.1"), h5py.json())

        let generator = try HistoryReader(path: Self.fixtures + "/h5py-generator.h5").trainingRecord()
        XCTAssertEqual(generator.method, "gan")
        XCTAssertEqual(generator.seed, 2024)

        let old = try HistoryReader(path: Self.fixtures + "/lpom-0.1.0-sgd.h5").trainingRecord()
        XCTAssertEqual(old.method, "sgd")
        XCTAssertEqual(old.dataset, "mnist")
        XCTAssertEqual(old.epochs, 2)
        XCTAssertEqual(old.batchSize, 50)
        XCTAssertEqual(old.trainLimit, 100)
        XCTAssertEqual(old.schedule, "cosine")
        XCTAssertEqual(old.initialization, "auto")
        XCTAssertEqual(old.hyperparameters?["momentum"], 0.9)
        XCTAssertEqual(old.argv?.first, "--method")
        XCTAssertNil(old.provenance, "written before provenance was recorded")
        XCTAssertTrue(old.other.isEmpty, "every key lpom 0.1.0 wrote is a typed field: \(old.other.keys)")
        XCTAssertNil(try HistoryReader(path: Self.fixtures + "/lpom-0.1.0-sgd.h5").resumeState())
    }

    func testTrainingJSONOfEveryKindWrittenBylpom010Decodes() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.fixtures + "/lpom-0.1.0-training.json"))
        let samples = try JSONDecoder().decode([String: String].self, from: data)
        XCTAssertEqual(Set(samples.keys), ["sgd", "adam", "lpom", "ggn", "ink", "resnet", "vae", "wgan"])
        for (kind, json) in samples {
            let r = try TrainingRecord.decode(json)
            XCTAssertTrue(r.other.isEmpty, "\(kind): unknown keys \(r.other.keys)")
            XCTAssertNotNil(r.method, kind)
            XCTAssertNotNil(r.hyperparameters, kind)
            XCTAssertNotNil(r.argv, kind)
            // The typed record writes back the same JSON object.
            XCTAssertEqual(try JSONValue(parsing: r.json()), try JSONValue(parsing: json), kind)
        }
        let ggn = try TrainingRecord.decode(samples["ggn"]!)
        XCTAssertEqual(ggn.task, "regression")
        XCTAssertEqual(ggn.teacherStudent?.teacherWidth, 20)
        XCTAssertEqual(ggn.teacherStudent?.dataSeed, 0)
        let vae = try TrainingRecord.decode(samples["vae"]!)
        XCTAssertEqual(vae.latent, 3)
        XCTAssertEqual(vae.latentPrior, "normal")
        guard case .object(let encoder)? = vae.encoder else { return XCTFail("the VAE's encoder is a model JSON object") }
        XCTAssertNotNil(encoder["layers"])
        let wgan = try TrainingRecord.decode(samples["wgan"]!)
        XCTAssertEqual(wgan.latentBounds, [-1, 1])
        XCTAssertEqual(wgan.hyperparameters?["gp_lambda"], 0.25)
        XCTAssertEqual(try TrainingRecord.decode(samples["resnet"]!).arch, "resnet")
    }

    func testRoundTripOfTheNewFields() throws {
        var r = TrainingRecord()
        r.method = "adam"
        r.seed = UInt64.max
        r.epochs = 20
        r.extensions = [.init(fromStep: 6000, previousEpochs: 10, epochs: 20, resumedAtStep: 5400, date: "2025-01-01T00:00:00Z")]
        r.provenance = [.init(event: "start", fromStep: 0, date: "2025-01-01T00:00:00Z", host: "h", lpomVersion: "0.1.0",
                              gitCommit: "unknown", gitDirty: nil, threads: 1, blasKernel: "Haswell", openblas: "OpenBLAS 0.3.26",
                              dataFiles: [.init(path: "/d/mnist/x.gz", bytes: 3, sha256: String(repeating: "a", count: 64))])]
        r.lpomConfiguration = try JSONValue(encoding: LPOMConfiguration())
        let back = try TrainingRecord.decode(r.json())
        XCTAssertEqual(back, r)
        XCTAssertEqual(try back.lpomConfiguration?.decoded(as: LPOMConfiguration.self), LPOMConfiguration())
        XCTAssertEqual(back.scheduleSegments, [0, 6000])
        XCTAssertTrue(r.json().contains("\"from_step\":6000"), r.json())
    }

    func testMalformedRecordsGiveOneLineNamingTheKey() {
        for (json, key) in [(#"{"seed": -1}"#, "seed"), (#"{"epochs": "ten"}"#, "epochs"),
                            (#"{"hyperparameters": {"lr": "fast"}}"#, "hyperparameters.lr"), ("[1, 2]", "JSON object")] {
            XCTAssertThrowsError(try TrainingRecord.decode(json, path: "f.h5")) { e in
                XCTAssertTrue("\(e)".hasPrefix("f.h5: the training record"), "\(e)")
                XCTAssertTrue("\(e)".contains(key), "\(e) does not name \(key)")
                XCTAssertFalse("\(e)".contains("\n"), "\(e)")
            }
        }
    }
}
