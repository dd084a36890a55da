import ArchFromOpt
import Foundation
import HistoryStore
import ImageData
import LiftedHistory
import LiftedTrain
import Surfing

/// The training record of a history for the read-only commands (`eval`, `inspect`, `ntk`,
/// `surf`): the typed record, or an empty one when the attribute cannot be decoded (those
/// commands then ask for what they miss). `lpom train --resume` decodes strictly instead.
func trainingRecord(_ reader: HistoryReader) -> TrainingRecord {
    (try? reader.trainingRecord()) ?? TrainingRecord()
}

extension TrainingRecord {
    /// The image set the run read (nil for teacher–student and unknown data).
    var imageSet: DatasetName? { dataset.flatMap(DatasetName.init(rawValue:)) }
}

extension TrainCommand {
    /// The record of a new classifier or regression run: the options, the trainer's
    /// hyperparameters, LPOM's full configuration, the task and this session's provenance.
    func newRecord(trainer: any Trainer<Float>, argv: [String], stepsPerEpoch: Int, threads: Int,
                   dataFiles: [TrainingRecord.DataFile]) throws -> TrainingRecord {
        var r = TrainingRecord()
        r.method = trainer.method
        r.dataset = ggn.datasetLabel(dataset)
        r.seed = seed
        r.epochs = epochs ?? 10
        r.batchSize = batchSize ?? 100
        r.loss = trainingLoss.rawValue
        r.schedule = schedule.rawValue
        r.setSnapshotSpacing(snapshotEvery, stepsPerEpoch: stepsPerEpoch)
        r.setCompress(compress)
        r.hyperparameters = trainer.hyperparameters
        r.argv = argv
        r.initialization = initialization.rawValue
        r.trainLimit = data.trainLimit
        r.testLimit = data.testLimit
        r.validation = data.validation ?? 0
        r.arch = arch.arch.rawValue
        r.convAlgorithm = arch.convAlgorithm.rawValue
        r.stepsPerEpoch = stepsPerEpoch
        if method == .lpom { r.lpomConfiguration = try JSONValue(encoding: try lpom.configuration()) }
        ggn.record(task: &r, seed: seed)
        r.provenance = [sessionProvenance(event: "start", fromStep: 0, threads: threads, dataFiles: dataFiles)]
        return r
    }

    /// The record of a generative run (HISTORY-FORMAT.md, "Generative runs").
    func generativeRecord(setup: GenerativeSetup, trainer: any GenerativeTrainer<Float>, batchSize: Int, argv: [String],
                          threads: Int, dataFiles: [TrainingRecord.DataFile]) throws -> TrainingRecord {
        var r = TrainingRecord()
        r.method = setup.method.historyMethod
        r.model = setup.method.rawValue
        r.dataset = dataset.rawValue
        r.latent = setup.latent
        r.architecture = setup.architecture.rawValue
        r.steps = gen.steps
        r.setSnapshotSpacing(snapshotEvery, stepsPerEpoch: 0)
        r.setCompress(compress)
        r.batchSize = batchSize
        r.seed = seed
        r.initStd = setup.initStd
        r.latentPrior = setup.method.prior.rawValue
        r.hyperparameters = trainer.hyperparameters
        r.optimizer = "adam"
        r.argv = argv
        r.trainLimit = data.trainLimit
        let partner = try JSONDecoder().decode(JSONValue.self, from: Data(trainer.partner.spec.json().utf8))
        if setup.method == .vae { r.encoder = partner } else { r.discriminator = partner }
        if setup.method.prior == .uniform { r.latentBounds = [-1, 1] }
        if setup.architecture == .fc { r.hidden = setup.hidden }
        r.provenance = [sessionProvenance(event: "start", fromStep: 0, threads: threads, dataFiles: dataFiles)]
        return r
    }

    /// The trainer a history's record describes, on `network` (a resumed run). The rebuilt
    /// trainer's hyperparameters must equal the recorded ones exactly, so a setting this
    /// function does not restore cannot slip through.
    static func makeTrainer(record r: TrainingRecord, network: Network<Float>, path: String) throws -> any Trainer<Float> {
        let hp = r.hyperparameters ?? [:]
        func value(_ key: String) throws -> Double {
            guard let v = hp[key] else { throw CommandError("\(path): the training record's hyperparameters lack '\(key)'") }
            return v
        }
        guard let loss = r.loss.flatMap(LossKind.init(rawValue:)) else {
            throw CommandError("\(path): the training record names no loss this lpom knows ('\(r.loss ?? "")')")
        }
        let schedule = r.schedule.flatMap(LearningRateSchedule.init(rawValue:)) ?? .constant
        let trainer: any Trainer<Float>
        do {
            switch r.method {
            case "sgd":
                let sgd = SGD<Float>(learningRate: Float(try value("lr")), momentum: Float(try value("momentum")),
                                     nesterov: try value("nesterov") != 0, weightDecay: Float(try value("weight_decay")))
                trainer = GradientTrainer(network: network, loss: loss, optimizer: sgd, schedule: schedule)
            case "adam":
                let adam = Adam<Float>(learningRate: Float(try value("lr")), beta1: Float(try value("beta1")), beta2: Float(try value("beta2")),
                                       epsilon: Float(try value("eps")), weightDecay: Float(try value("weight_decay")))
                trainer = GradientTrainer(network: network, loss: loss, optimizer: adam, schedule: schedule)
            case "lpom":
                guard let c = r.lpomConfiguration else {
                    throw CommandError("\(path): an LPOM history written before lpom recorded LPOM's full settings (lpom_configuration); start a new run")
                }
                trainer = try LPOMTrainer<Float>(network: network, loss: loss, configuration: try c.decoded(as: LPOMConfiguration.self))
            case "ggn":
                trainer = GGNTrainer<Float>(network: network, damping: try value("damping"), stepSize: try value("ggn_step"))
            default:
                throw CommandError("\(path): --resume continues sgd, adam, lpom and ggn runs; this one's method is '\(r.method ?? "none")'")
            }
        } catch let e as TrainingError {
            throw CommandError("\(path): \(e.description)")
        } catch let e as ModelError {
            throw CommandError("\(path): \(e.description)")
        }
        if let key = Set(hp.keys).union(trainer.hyperparameters.keys).sorted().first(where: { hp[$0] != trainer.hyperparameters[$0] }) {
            throw CommandError("\(path): the rebuilt \(trainer.method) trainer has \(key) = \(trainer.hyperparameters[key].map { "\($0)" } ?? "none") but the history records \(hp[key].map { "\($0)" } ?? "none")")
        }
        return trainer
    }

    /// The training and test sets a record describes: the teacher–student task from its seed,
    /// or the image set under `data.directory` with `data`'s limits (bottom-half ink targets for
    /// regression).
    static func trainingSets(_ r: TrainingRecord, data: DataOptions, history: String) throws -> DataSplits {
        if let sets = try regressionData(record: r, data: data, history: history) { return sets }
        guard let name = r.imageSet else {
            throw CommandError("\(history): the training record names no data set lpom can load ('\(r.dataset ?? "")')")
        }
        return try data.splits(name, holdOut: r.validation ?? 0)
    }
}
