/// Three-splitting block coordinate descent (Zeng, Lau, Lin, Yao, "Global convergence of
/// block coordinate descent in deep learning", ICML 2019), for ReLU networks with a linear
/// output layer.
///
/// The objective (the paper's three-splitting formulation with the squared loss and no
/// regularisers; samples are rows here):
///
///     F = ½‖V_N − Y‖² + Σ_{i=1..N} [ (γ/2)‖V_i − σ_i(U_i)‖² + (ρ/2)‖U_i − V_{i−1} W_iᵀ − 1b_iᵀ‖² ],
///
/// σ_N the identity (the output layer's V_N is its U_N up to the penalty). One iteration
/// (the paper's Algorithm 1, backward order, proximal weight α on the W, U and V_N blocks):
///
///     V_N ← argmin ½‖V − Y‖² + (γ/2)‖V − U_N‖² + (α/2)‖V − V_N⁻‖²
///     U_N ← argmin (γ/2)‖V_N − U‖² + (ρ/2)‖U − V_{N−1}W_Nᵀ − 1b_Nᵀ‖²
///     W̃_N ← argmin (ρ/2)‖U_N − Ṽ_{N−1}W̃ᵀ‖² + (α/2)‖W̃ − W̃_N⁻‖²
///     for i = N−1 … 1:
///       V_i ← argmin (γ/2)‖V − σ(U_i)‖² + (ρ/2)‖U_{i+1} − V W_{i+1}ᵀ − 1b_{i+1}ᵀ‖²   (a linear solve)
///       U_i ← argmin (γ/2)‖V_i − σ(U)‖² + (ρ/2)‖U − Ṽ_{i−1}W̃_iᵀ‖² + (α/2)‖U − U_i⁻‖²   (ReLU prox, per entry)
///       W̃_i ← argmin (ρ/2)‖U_i − Ṽ_{i−1}W̃ᵀ‖² + (α/2)‖W̃ − W̃_i⁻‖²
///
/// Every update is the exact minimiser of F plus its proximal term, so F does not increase
/// (the sufficient descent behind the paper's convergence analysis).
///
/// Choices (README): the proximal terms as in the authors' public MNIST code (α on W, U_i and
/// V_N; none on the hidden V_i and on U_N, whose blocks are already strongly convex); W and b
/// updated jointly as W̃ = [W, b] (the code updates them one after the other from the old
/// values; the joint update is the exact block minimiser the descent argument needs);
/// variables start from a forward pass of the initialised network (as in the code); full batch.
public final class BCDTrainer<Scalar: NNScalar>: Trainer {
    public let network: Network<Scalar>
    public let configuration: LiftedConfiguration
    public var method: String { "bcd" }
    public var hyperparameters: [String: Double] { configuration.hyperparameters(.bcd) }

    let run: LiftedRun<Scalar>
    var net: LiftedNetwork<Scalar> { run.net }
    /// U_i, V_i per level i = 1 … N (index 0: V_0 = the data; U_0 unused).
    var u: [Tensor<Scalar>] = []
    var v: [Tensor<Scalar>] = []
    var systems: [AugmentedSystem<Scalar>] = []
    var scratch = Tensor<Scalar>(zeros: [0])
    var product = Tensor<Scalar>(zeros: [0])
    var gram = Tensor<Scalar>(zeros: [0])
    var iterations = 0

    /// A BCD trainer for a ReLU (or linear) network with a linear output layer.
    public init(network: Network<Scalar>, configuration: LiftedConfiguration = LiftedConfiguration()) throws {
        try configuration.validate()
        self.network = network
        self.configuration = configuration
        run = LiftedRun(net: try LiftedNetwork(network: network, method: "bcd", allowed: [.relu]), configuration: configuration)
    }

    /// Bytes per sample: U and V per level, Y, the input copy and scratch.
    public var bytesPerSample: Double {
        net.bytesPerSample(hidden: 2, output: 3, scratch: 4)
    }

    public func step(inputs: Tensor<Scalar>, labels: [Int32]) throws -> StepReport {
        if try run.begin(inputs: inputs, labels: labels, bytesPerSample: bytesPerSample, what: "U and V per layer") {
            guard let data = run.data else { return StepReport(loss: .nan, accuracy: 0) }
            let f = net.forward(data.inputs)
            u = f.z; v = f.a
            systems = Array(repeating: AugmentedSystem(), count: net.depth)
            iterations = 0
        }
        let before = run.reportBeforeUpdate()
        try iterate()
        try run.finish()
        var extra: [String: Double] = ["bcd_iteration": Double(iterations)]
        if configuration.diagnostics {
            extra["bcd_objective"] = objective() / Double(run.samples)
            run.residualMetrics(targets: Array(u.dropFirst()), inputs: Array(v.dropLast()), into: &extra)
        }
        return StepReport(loss: before.loss, accuracy: before.accuracy, extra: extra)
    }

    public func importState(_ state: [String: [Double]]) throws { try run.refuseResume(state) }

    /// One iteration of Algorithm 1 (backward order).
    func iterate() throws {
        guard let data = run.data else { return }
        let N = net.depth
        let gamma = configuration.bcdGamma, rho = configuration.bcdRho, alpha = configuration.bcdAlpha
        let ones = net.ones(data.labels.count)
        // V_N ← (Y + γU_N + αV_N)/(1 + γ + α)
        v[N].scale(by: Scalar(alpha))
        v[N].add(data.targets)
        v[N].add(u[N], scaledBy: Scalar(gamma))
        v[N].scale(by: Scalar(1 / (1 + gamma + alpha)))
        // U_N ← (γV_N + ρM_N)/(γ + ρ)
        net.affine(v[N - 1], layer: N - 1, into: &product)
        u[N].assign(v[N])
        u[N].scale(by: Scalar(gamma))
        u[N].add(product, scaledBy: Scalar(rho))
        u[N].scale(by: Scalar(1 / (gamma + rho)))
        try updateWeights(layer: N - 1)
        for i in stride(from: N - 1, through: 1, by: -1) {
            // V_i ← (ρ(U_{i+1} − 1bᵀ)W_{i+1} + γσ(U_i)) (ρW_{i+1}ᵀW_{i+1} + γI)⁻¹
            LiftedBLAS.backProject(u[i + 1], packed: net.weights[i], ones: ones, scale: Scalar(rho), into: &v[i])
            scratch.assign(u[i]); net.phi(&scratch)
            v[i].add(scratch, scaledBy: Scalar(gamma))
            LiftedBLAS.weightGram(packed: net.weights[i], scale: rho, shift: gamma, into: &gram)
            try LiftedBLAS.factor(&gram, method: "bcd", what: "the V-update of level \(i)")
            LiftedBLAS.solveRight(&v[i], factor: gram)
            // U_i ← reluProx(V_i, (ρM_i + αU_i)/(ρ + α); γ, ρ + α)
            net.affine(v[i - 1], layer: i - 1, into: &product)
            product.scale(by: Scalar(rho / (rho + alpha)))
            product.add(u[i], scaledBy: Scalar(alpha / (rho + alpha)))
            let count = u[i].count
            v[i].data.withUnsafeBufferPointer { pv in
                product.data.withUnsafeBufferPointer { pm in
                    u[i].data.withUnsafeMutableBufferPointer { pu in
                        LiftedKernels.reluProx(a: pv.baseAddress!, m: pm.baseAddress!, gamma: Scalar(gamma), beta: Scalar(rho + alpha),
                                        into: pu.baseAddress!, count: count)
                    }
                }
            }
            try updateWeights(layer: i - 1)
        }
        iterations += 1
    }

    /// W̃ of layer k: the proximal least squares on input V_k and target U_{k+1}. With α > 0 the
    /// system ρṼᵀṼ + αI is positive definite without a ridge; with α = 0 the ridge applies.
    func updateWeights(layer k: Int) throws {
        let rho = configuration.bcdRho, alpha = configuration.bcdAlpha
        let ones = net.ones(v[k].rows)
        if !(k == 0 && systems[0].valid) {
            try systems[k].factorize(v[k], ones: ones, rho: rho, alpha: alpha, ridge: alpha > 0 ? 0 : configuration.ridge,
                                     relativeRidge: true, method: "bcd", layer: net.names[k])
        }
        systems[k].solve(target: u[k + 1], input: v[k], ones: ones, rho: rho, alpha: alpha, weights: &net.weights[k])
    }

    /// F, summed over samples.
    func objective() -> Double {
        guard let data = run.data else { return .nan }
        let N = net.depth
        let gamma = configuration.bcdGamma, rho = configuration.bcdRho
        var f = 0.5 * LiftedBLAS.squaredDistance(v[N], data.targets, scratch: &scratch)
        for i in 1...N {
            product.assign(u[i])
            if i < N { net.phi(&product) }
            f += gamma / 2 * LiftedBLAS.squaredDistance(v[i], product, scratch: &scratch)
            net.affine(v[i - 1], layer: i - 1, into: &product)
            f += rho / 2 * LiftedBLAS.squaredDistance(u[i], product, scratch: &scratch)
        }
        return f
    }
}
