/// ADMM without gradients (Taylor, Burmeister, Xu, Singh, Patel, Goldstein, "Training neural
/// networks without gradients: a scalable ADMM approach", ICML 2016), for ReLU networks with a
/// linear output layer.
///
/// The penalised problem the paper's Algorithm 1 minimises (samples as columns there, as rows here): weights W_l,
/// activations a_l and pre-activations z_l are split, and
///
///     J = ℓ(z_L, y) + ⟨z_L, λ⟩ + β‖z_L − W_L a_{L−1}‖²
///         + Σ_{l<L} [ γ‖a_l − h(z_l)‖² + β‖z_l − W_l a_{l−1}‖² ]
///
/// block by block (Algorithm 1; each sub-problem solved globally in closed form): for l = 1 … L−1
///
///     W_l ← z_l a_{l−1}^†                                        (least squares)
///     a_l ← (βW_{l+1}ᵀW_{l+1} + γI)⁻¹ (βW_{l+1}ᵀ z_{l+1} + γ h(z_l))  (a linear solve)
///     z_l ← argmin_z γ‖a_l − h(z)‖² + β‖z − W_l a_{l−1}‖²          (per entry)
///
/// then W_L ← z_L a_{L−1}^†, z_L ← argmin_z ℓ(z, y) + ⟨z, λ⟩ + β‖z − W_L a_{L−1}‖², and the
/// Bregman / multiplier update λ ← λ + β(z_L − W_L a_{L−1}) on the output layer only (the
/// paper's "Lagrange multiplier updates"). Section and equation numbers are not cited: the paper's
/// text was not at hand, only its Algorithm 1 as summarised in the README.
///
/// Choices the paper leaves open (README): biases as an extra column of ones in every a_{l−1}
/// (W̃ = [W, b]; the a-update then uses z_{l+1} − b_{l+1}); the pseudo-inverse as the ridge-
/// regularised least squares with a small relative ε (`ridge`); ℓ is the one-hot squared error
/// ½‖z − y‖² (the paper's experiments use a binary hinge loss; with ten classes the squared loss
/// keeps the z_L update in closed form, z_L = (y − λ + 2βm)/(1 + 2β)); z, a start from a forward
/// pass of the initialised network and λ = 0; one ADMM iteration per step on the whole
/// training set (the method is full-batch: its variables live per sample).
public final class ADMMTrainer<Scalar: NNScalar>: Trainer {
    public let network: Network<Scalar>
    public let configuration: LiftedConfiguration
    public var method: String { "admm" }
    public var hyperparameters: [String: Double] { configuration.hyperparameters(.admm) }

    let run: LiftedRun<Scalar>
    var net: LiftedNetwork<Scalar> { run.net }
    /// z_l (index l = 1 … L; 0 unused), a_l (0 = the data, 1 … L−1), λ.
    var z: [Tensor<Scalar>] = []
    var a: [Tensor<Scalar>] = []
    var lambda = Tensor<Scalar>(zeros: [0])
    var systems: [AugmentedSystem<Scalar>] = []
    var scratch = Tensor<Scalar>(zeros: [0])
    var product = Tensor<Scalar>(zeros: [0])
    var gram = Tensor<Scalar>(zeros: [0])
    /// Completed iterations.
    var iterations = 0
    /// Called after every block update with its name (tests check J block by block).
    var afterBlock: ((String) -> Void)?

    /// An ADMM trainer for a ReLU (or linear) network with a linear output layer.
    public init(network: Network<Scalar>, configuration: LiftedConfiguration = LiftedConfiguration()) throws {
        try configuration.validate()
        self.network = network
        self.configuration = configuration
        run = LiftedRun(net: try LiftedNetwork(network: network, method: "admm", allowed: [.relu]), configuration: configuration)
    }

    /// Bytes per sample of the variables: z, a per hidden level, z_L, λ and Y, the input copy, scratch.
    public var bytesPerSample: Double {
        net.bytesPerSample(hidden: 2, output: 3, scratch: 4)
    }

    public func step(inputs: Tensor<Scalar>, labels: [Int32]) throws -> StepReport {
        if try run.begin(inputs: inputs, labels: labels, bytesPerSample: bytesPerSample, what: "z, a per layer and λ") {
            initialize()
        }
        let before = run.reportBeforeUpdate()
        try iterate()
        try run.finish()
        var extra: [String: Double] = ["admm_iteration": Double(iterations)]
        if configuration.diagnostics { diagnostics(into: &extra) }
        return StepReport(loss: before.loss, accuracy: before.accuracy, extra: extra)
    }

    public func importState(_ state: [String: [Double]]) throws { try run.refuseResume(state) }

    /// z, a from a forward pass of the current network; λ = 0.
    func initialize() {
        guard let data = run.data else { return }
        let f = net.forward(data.inputs)
        z = f.z
        a = Array(f.a.prefix(net.depth))
        lambda = Tensor(zeros: [data.labels.count, net.sizes[net.depth]])
        systems = Array(repeating: AugmentedSystem(), count: net.depth)
        iterations = 0
    }

    /// One pass of Algorithm 1.
    func iterate() throws {
        guard let data = run.data else { return }
        let L = net.depth, n = data.labels.count
        let beta = configuration.admmBeta, gamma = configuration.admmGamma
        let ones = net.ones(n)
        for l in 1..<L {
            try updateWeights(layer: l - 1)
            afterBlock?("W\(l)")
            // a_l ← (β(z_{l+1} − 1bᵀ)W_{l+1} + γh(z_l)) (βW_{l+1}ᵀW_{l+1} + γI)⁻¹
            LiftedBLAS.backProject(z[l + 1], packed: net.weights[l], ones: ones, scale: Scalar(beta), into: &a[l])
            scratch.assign(z[l])
            net.phi(&scratch)
            a[l].add(scratch, scaledBy: Scalar(gamma))
            LiftedBLAS.weightGram(packed: net.weights[l], scale: beta, shift: gamma, into: &gram)
            try LiftedBLAS.factor(&gram, method: "admm", what: "the a-update of level \(l)")
            LiftedBLAS.solveRight(&a[l], factor: gram)
            afterBlock?("a\(l)")
            // z_l ← argmin γ‖a_l − h(z)‖² + β‖z − W_l a_{l−1}‖²
            net.affine(a[l - 1], layer: l - 1, into: &product)
            reluProx(level: l, gamma: gamma, beta: beta)
            afterBlock?("z\(l)")
        }
        try updateWeights(layer: L - 1)
        afterBlock?("W\(L)")
        // z_L ← (Y − λ + 2βm)/(1 + 2β), m = W_L a_{L−1}
        net.affine(a[L - 1], layer: L - 1, into: &product)
        let c = Scalar(1 / (1 + 2 * beta))
        z[L].assign(data.targets)
        z[L].add(lambda, scaledBy: -1)
        z[L].add(product, scaledBy: Scalar(2 * beta))
        z[L].scale(by: c)
        afterBlock?("z\(L)")
        if iterations >= configuration.admmWarmStart {
            // λ ← λ + β(z_L − W_L a_{L−1})
            lambda.add(z[L], scaledBy: Scalar(beta))
            lambda.add(product, scaledBy: Scalar(-beta))
        }
        iterations += 1
    }

    /// W̃ of layer k (Taylor's W_{k+1}) by least squares on its input a_k and target z_{k+1}.
    /// The data's system (layer 0) is factored once.
    func updateWeights(layer k: Int) throws {
        let ones = net.ones(a[k].rows)
        if !(k == 0 && systems[0].valid) {
            try systems[k].factorize(a[k], ones: ones, rho: 1, alpha: 0, ridge: configuration.ridge, relativeRidge: true,
                                     method: "admm", layer: net.names[k])
        }
        systems[k].solve(target: z[k + 1], input: a[k], ones: ones, rho: 1, alpha: 0, weights: &net.weights[k])
    }

    /// z_l ← reluProx(a_l, `product`) per entry.
    func reluProx(level l: Int, gamma: Double, beta: Double) {
        let count = z[l].count
        a[l].data.withUnsafeBufferPointer { pa in
            product.data.withUnsafeBufferPointer { pm in
                z[l].data.withUnsafeMutableBufferPointer { pz in
                    LiftedKernels.reluProx(a: pa.baseAddress!, m: pm.baseAddress!, gamma: Scalar(gamma), beta: Scalar(beta),
                                    into: pz.baseAddress!, count: count)
                }
            }
        }
    }

    /// J per sample (`admm_objective`), its parts, and the residuals.
    func diagnostics(into extra: inout [String: Double]) {
        let o = objective()
        let n = Double(run.samples)
        extra["admm_objective"] = o.total / n
        extra["admm_output_loss"] = o.loss / n
        extra["admm_multiplier_term"] = o.multiplier / n
        var activation = 0.0
        for l in 1..<net.depth {
            scratch.assign(z[l]); net.phi(&scratch)
            activation += LiftedBLAS.squaredDistance(a[l], scratch, scratch: &product)
        }
        extra["admm_activation_residual"] = (activation / n).squareRoot()
        run.residualMetrics(targets: Array(z.dropFirst()), inputs: a, into: &extra)
    }

    /// J = ½‖z_L − y‖² + ⟨z_L, λ⟩ + β Σ‖z_l − W̃_l ã_{l−1}‖² + γ Σ‖a_l − h(z_l)‖², summed over samples.
    func objective() -> (total: Double, loss: Double, multiplier: Double) {
        guard let data = run.data else { return (.nan, .nan, .nan) }
        let L = net.depth
        let beta = configuration.admmBeta, gamma = configuration.admmGamma
        var j = 0.0
        let loss = 0.5 * LiftedBLAS.squaredDistance(z[L], data.targets, scratch: &scratch)
        let mult = LiftedBLAS.inner(z[L], lambda)
        j += loss + mult
        for l in 1...L {
            net.affine(a[l - 1], layer: l - 1, into: &product)
            j += beta * LiftedBLAS.squaredDistance(z[l], product, scratch: &scratch)
            if l < L {
                product.assign(z[l]); net.phi(&product)
                j += gamma * LiftedBLAS.squaredDistance(a[l], product, scratch: &scratch)
            }
        }
        return (j, loss, mult)
    }
}
