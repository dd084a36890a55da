import Foundation
@_exported import JSONValues

/// The `training` attribute of a history (HISTORY-FORMAT.md): how the run was made — method,
/// data, hyperparameters, schedule, its extensions and the provenance of every session that
/// wrote it. Writers build one and store `json()`; readers (`eval`, `inspect`, `ntk`, `surf`,
/// `train --resume`) call `decode(_:)`.
///
/// Plain data only (strings, numbers, arrays, dictionaries), so the history code needs no
/// numerics type. Every field is optional: files written by earlier versions, by
/// `scripts/make_history_h5py.py` or by hand lack most of them. Keys this version does not
/// know are kept in `other` and written back unchanged.
public struct TrainingRecord: Codable, Equatable, Sendable {
    /// `sgd`, `adam`, `lpom`, `ggn`; generative runs: `vae`, `gan`, `wgan`, `wgan-gp`.
    public var method: String?
    /// `mnist`, `fashion-mnist`, `teacher-student`, or another writer's name.
    public var dataset: String?
    /// Seed of the initialisation and of the shuffling streams.
    public var seed: UInt64?
    /// Passes over the training set, including every extension (the run's true length).
    public var epochs: Int?
    public var batchSize: Int?
    /// The loss minimised (`cross-entropy`, `squared-error`, `mse`).
    public var loss: String?
    /// Learning-rate schedule (`constant`, `cosine`, `step`), restarted at every extension.
    public var schedule: String?
    public var snapshotEvery: Int?
    /// The trainer's hyperparameters (learning rate, momentum, β's, LPOM's settings as numbers …).
    public var hyperparameters: [String: Double]?
    /// The command line that started the run; information only (`--resume` reads the typed fields).
    public var argv: [String]?
    /// Weight initialisation (JSON key `init`).
    public var initialization: String?
    /// Training images used (0: all).
    public var trainLimit: Int?
    /// Test images evaluated after every epoch (0: all).
    public var testLimit: Int?
    /// Training images held out as the validation set: the last N of the training file
    /// (`--validation N`; 0 or absent: none).
    public var validation: Int?
    /// `mlp` or a recurrence architecture (the model JSON describes the network itself).
    public var arch: String?
    /// Convolution algorithm of image networks (`auto`, `im2col`).
    public var convAlgorithm: String?
    /// `classification` or `regression`.
    public var task: String?
    /// The teacher–student regression task, enough to rebuild its data.
    public var teacherStudent: TeacherStudent?
    /// What the regression targets are (a sentence).
    public var targets: String?
    /// LPOM's full settings (`LPOMConfiguration` as JSON), also the ones `hyperparameters` leaves out.
    public var lpomConfiguration: JSONValue?
    /// Optimizer steps per epoch (checked when resuming).
    public var stepsPerEpoch: Int?
    /// Every `--resume --epochs E` that lengthened the run, in order.
    public var extensions: [Extension]?
    /// One entry for the session that started the run and one for every resumed session.
    public var provenance: [Provenance]?

    // Generative runs (`--model`; HISTORY-FORMAT.md "Generative runs").
    /// The `--model` name (`dcgan` for method `gan`).
    public var model: String?
    /// Latent size k.
    public var latent: Int?
    /// Generator architecture (`paper`, `fc`).
    public var architecture: String?
    /// Generator updates.
    public var steps: Int?
    public var initStd: Double?
    /// `uniform` or `normal`.
    public var latentPrior: String?
    public var latentBounds: [Double]?
    public var optimizer: String?
    /// Hidden width of the `fc` generator.
    public var hidden: Int?
    /// Model JSON of the VAE's encoder (not stored in the file).
    public var encoder: JSONValue?
    /// Model JSON of the GAN's discriminator (not stored in the file).
    public var discriminator: JSONValue?

    /// Keys this version does not know, as read (written back by `json()`).
    public var other: [String: JSONValue] = [:]

    /// The teacher–student task of a regression run (`LiftedTrain.TeacherStudentTask`).
    public struct TeacherStudent: Codable, Equatable, Sendable {
        public var inputDim: Int?
        public var teacherWidth: Int?
        public var samples: Int?
        public var testSamples: Int?
        public var dataSeed: UInt64?
        public var description: String?

        /// A task description.
        public init(inputDim: Int, teacherWidth: Int, samples: Int, testSamples: Int, dataSeed: UInt64, description: String) {
            self.inputDim = inputDim; self.teacherWidth = teacherWidth; self.samples = samples
            self.testSamples = testSamples; self.dataSeed = dataSeed; self.description = description
        }

        enum CodingKeys: String, CodingKey {
            case inputDim = "input_dim", teacherWidth = "teacher_width", samples, testSamples = "test_samples"
            case dataSeed = "data_seed", description
        }
    }

    /// A lengthening of the run by `--resume --epochs`: from `fromStep` (the previous length in
    /// steps) the schedule starts a new segment over the added steps; steps before it are unchanged.
    public struct Extension: Codable, Equatable, Sendable {
        /// First step of the new schedule segment (the run's length before the extension).
        public var fromStep: Int
        /// Epochs before and after.
        public var previousEpochs: Int
        public var epochs: Int
        /// The last snapshot's step when the extension was asked for (≤ `fromStep`).
        public var resumedAtStep: Int
        /// ISO 8601 UTC.
        public var date: String

        /// An extension.
        public init(fromStep: Int, previousEpochs: Int, epochs: Int, resumedAtStep: Int, date: String) {
            self.fromStep = fromStep; self.previousEpochs = previousEpochs; self.epochs = epochs
            self.resumedAtStep = resumedAtStep; self.date = date
        }

        enum CodingKeys: String, CodingKey {
            case fromStep = "from_step", previousEpochs = "previous_epochs", epochs, resumedAtStep = "resumed_at_step", date
        }
    }

    /// Where, when and with what one session of the run was computed.
    public struct Provenance: Codable, Equatable, Sendable {
        /// `start` or `resume`.
        public var event: String
        /// The step the session started from (0, or the snapshot it resumed).
        public var fromStep: Int
        /// ISO 8601 UTC.
        public var date: String
        public var host: String
        public var lpomVersion: String
        /// `git rev-parse HEAD` of the source tree lpom was built from, or `unknown`.
        public var gitCommit: String
        /// Whether that tree had uncommitted changes to tracked files (nil: unknown).
        public var gitDirty: Bool?
        /// Threads of the run (OpenBLAS threads, or workers of image networks).
        public var threads: Int
        /// OpenBLAS's kernel name (`openblas_get_corename`).
        public var blasKernel: String
        /// OpenBLAS's build description with its version (`openblas_get_config`).
        public var openblas: String
        /// Every data file read, with its SHA-256.
        public var dataFiles: [DataFile]?
        /// MPI ranks of a distributed session (absent: one process).
        public var ranks: Int?
        /// How a distributed session split the work: `data` or `layers` (absent: not split).
        public var parallel: String?
        /// The X-phase exchange of layer-parallel LPOM: `sync` or `async`.
        public var exchange: String?

        /// A provenance entry.
        public init(event: String, fromStep: Int, date: String, host: String, lpomVersion: String, gitCommit: String,
                    gitDirty: Bool?, threads: Int, blasKernel: String, openblas: String, dataFiles: [DataFile]?) {
            self.event = event; self.fromStep = fromStep; self.date = date; self.host = host
            self.lpomVersion = lpomVersion; self.gitCommit = gitCommit; self.gitDirty = gitDirty; self.threads = threads
            self.blasKernel = blasKernel; self.openblas = openblas; self.dataFiles = dataFiles
        }

        enum CodingKeys: String, CodingKey {
            case event, fromStep = "from_step", date, host, lpomVersion = "lpom_version", gitCommit = "git_commit"
            case gitDirty = "git_dirty", threads, blasKernel = "blas_kernel", openblas, dataFiles = "data_files"
            case ranks, parallel, exchange
        }
    }

    /// A data file as read: path as given, size and SHA-256 (hex) of its bytes (the `.gz` as stored).
    public struct DataFile: Codable, Equatable, Sendable {
        public var path: String
        public var bytes: Int
        public var sha256: String

        /// A data file entry.
        public init(path: String, bytes: Int, sha256: String) { self.path = path; self.bytes = bytes; self.sha256 = sha256 }
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case method, dataset, seed, epochs, batchSize = "batch_size", loss, schedule, snapshotEvery = "snapshot_every"
        case hyperparameters, argv, initialization = "init", trainLimit = "train_limit", testLimit = "test_limit", validation, arch
        case convAlgorithm = "conv_algorithm", task, teacherStudent = "teacher_student", targets
        case lpomConfiguration = "lpom_configuration", stepsPerEpoch = "steps_per_epoch", extensions, provenance
        case model, latent, architecture, steps, initStd = "init_std", latentPrior = "latent_prior"
        case latentBounds = "latent_bounds", optimizer, hidden, encoder, discriminator
    }

    /// An empty record.
    public init() {}

    /// Reads a `training` attribute. Throws `HistoryError`-style one-line messages naming the
    /// key that is malformed (e.g. `the training record's 'seed' is not a UInt64`).
    public static func decode(_ json: String, path: String = "training") throws -> TrainingRecord {
        let data = Data(json.utf8)
        do {
            var record = try JSONDecoder().decode(TrainingRecord.self, from: data)
            let all = try JSONDecoder().decode([String: JSONValue].self, from: data)
            let known = Set(CodingKeys.allCases.map(\.rawValue))
            record.other = all.filter { !known.contains($0.key) }
            return record
        } catch let error as DecodingError {
            throw HistoryError(path, "the training record " + Self.describe(error, data: data))
        } catch {
            throw HistoryError(path, "the training record is not a JSON object (\(error))")
        }
    }

    /// The JSON text of the record: the typed fields (sorted keys, numbers exact — a seed may
    /// need all 64 bits), then the keys of `other`.
    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let known = Set(CodingKeys.allCases.map(\.rawValue))
        guard let typed = try? encoder.encode(self), var text = String(data: typed, encoding: .utf8) else { return "{}" }
        let extra = other.filter { !known.contains($0.key) }
        guard !extra.isEmpty, let more = try? encoder.encode(extra), let tail = String(data: more, encoding: .utf8) else { return text }
        text.removeLast()   // "}"
        return text + (text.count > 1 ? "," : "") + tail.dropFirst()
    }

    /// The first step of each learning-rate schedule segment: 0, then every extension's `fromStep`.
    public var scheduleSegments: [Int] { [0] + (extensions ?? []).map(\.fromStep) }

    /// The first known key whose value alone does not decode (swift-foundation reports a number
    /// out of range, e.g. a negative seed, as invalid JSON without naming the key).
    private static func culprit(_ data: Data) -> String? {
        guard let object = try? JSONDecoder().decode([String: JSONValue].self, from: data) else { return nil }
        let known = Set(CodingKeys.allCases.map(\.rawValue))
        for (key, value) in object.sorted(by: { $0.key < $1.key }) where known.contains(key) {
            guard let one = try? JSONEncoder().encode([key: value]) else { continue }
            if (try? JSONDecoder().decode(TrainingRecord.self, from: one)) == nil { return key }
        }
        return nil
    }

    private static func describe(_ error: DecodingError, data: Data) -> String {
        func path(_ c: DecodingError.Context) -> String {
            let p = c.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return p.isEmpty ? "" : "'\(p)' "
        }
        switch error {
        case .typeMismatch(_, let c) where c.codingPath.isEmpty: return "is not a JSON object"
        case .typeMismatch(let type, let c): return "\(path(c))is not a \(type)"
        case .valueNotFound(let type, let c): return "\(path(c))is null, expected a \(type)"
        case .keyNotFound(let key, let c): return "\(path(c))lacks '\(key.stringValue)'"
        case .dataCorrupted(let c) where c.codingPath.isEmpty:
            return culprit(data).map { "'\($0)' has a value of the wrong kind or out of range" } ?? "is not valid JSON (\(c.debugDescription))"
        case .dataCorrupted(let c): return "\(path(c))has an invalid value (\(c.debugDescription))"
        @unknown default: return "cannot be read (\(error))"
        }
    }
}
