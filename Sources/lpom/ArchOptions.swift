import ArchFromOpt
import ArgumentParser
import LiftedTrain

/// `--arch` values: today's multilayer perceptron or a network generated from an optimizer recurrence.
enum ArchChoice: String, ExpressibleByArgument, CaseIterable {
    case mlp, plain, resnet, hbnet, agdnet, densenet, admmnet, dmrnet

    var architecture: Architecture? { Architecture(rawValue: rawValue) }
}

/// The block T(x) of a recurrence network.
extension ConvolutionAlgorithm: ExpressibleByArgument {}

enum BlockChoice: String, ExpressibleByArgument, CaseIterable {
    case conv, dense
}

/// Options choosing the architecture (`lpom train --arch …`).
struct ArchOptions: ParsableArguments {
    @Option(help: "Architecture: mlp (--layers), plain (GD), resnet, hbnet (heavy ball), agdnet (Nesterov), densenet, admmnet (ADMM) or dmrnet.")
    var arch: ArchChoice = .mlp

    @Option(parsing: .number, help: "Number of blocks T in the recurrence (--arch other than mlp).")
    var depth: Int = 3

    @Option(parsing: .number, help: "Channels (conv blocks) or features (dense blocks) of every recurrence state.")
    var width: Int = 32

    @Option(help: "Block T(x): conv (3×3 conv + batch norm + ReLU on images) or dense (dense + batch norm + ReLU).")
    var block: BlockChoice = .conv

    @Flag(help: "Make the recurrence coefficients trainable parameters (initialised at the optimizer's values).")
    var learnableCoefficients = false

    @Option(help: "Convolution algorithm: auto (Winograd F(2×2,3×3) for 3×3 stride-1 'same' convolutions of even planes with ≥ 8 channels in and out, im2col otherwise) or im2col (everywhere). Both compute the same convolution.")
    var convAlgorithm: ConvolutionAlgorithm = .auto

    func validate() throws {
        guard arch != .mlp else { return }
        guard depth >= 1 else {
            throw ValidationError("--depth must be at least 1 (the number of blocks T of the \(arch.rawValue) recurrence), got \(depth)")
        }
        guard depth <= 200 else { throw ValidationError("--depth \(depth) is too large (at most 200)") }
        guard width >= 1 else { throw ValidationError("--width must be at least 1 channel/feature, got \(width)") }
        let limit = block == .conv ? 1024 : 4096
        guard width <= limit else {
            throw ValidationError("--width \(width) does not fit: \(block.rawValue) blocks take at most \(limit) \(block == .conv ? "channels" : "features")")
        }
    }

    /// Short tag for default history names.
    var tag: String { "\(arch.rawValue)-\(block.rawValue)-d\(depth)-w\(width)\(learnableCoefficients ? "-learn" : "")" }

    /// The model for images of `inputShape` ([channels, height, width]) and `classes` classes, or
    /// nil for `--arch mlp`.
    func model(inputShape: [Int], classes: Int) throws -> ModelSpec? {
        guard let a = arch.architecture else { return nil }
        do {
            return try a.model(inputShape: block == .conv ? inputShape : [inputShape.reduce(1, *)], classes: classes,
                               depth: depth, width: width, convolutional: block == .conv, learnable: learnableCoefficients)
        } catch let e as ModelError {
            throw ValidationError("--arch \(arch.rawValue): \(e.description)")
        }
    }
}
