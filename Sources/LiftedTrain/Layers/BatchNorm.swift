/// Batch normalisation (Ioffe & Szegedy 2015) over the channels of `[n, C, H, W]` or the
/// features of `[n, C]`, as PyTorch's `nn.BatchNorm1d/2d`:
///
/// train: x̂ = (x − μ_B) / √(σ²_B + eps), y = γ x̂ + β, with the batch mean and biased variance,
/// and running_mean ← (1 − m) running_mean + m μ_B, running_var ← (1 − m) running_var + m σ²_B·M/(M−1);
/// eval: y = γ (x − running_mean) / √(running_var + eps) + β.
///
/// With `useRunningStatistics`, `forward(training: true)` normalises with the running statistics
/// too (and leaves them alone) while keeping what `backward` needs: the eval-mode backward
/// dx = dy · γ/√(running_var + eps), dγ = Σ dy x̂, dβ = Σ dy — for gradients through a trained
/// network with respect to its input (generator inversion).
///
/// γ, β are parameters `name.weight`, `name.bias`; the running statistics are buffers
/// `name.running_mean`, `name.running_var` (saved with every history snapshot).
public final class BatchNorm<Scalar: NNScalar>: Layer {
    public let spec: LayerSpec
    /// Channels (features) and pixels per channel (1 for 2-D input).
    public let channels: Int, plane: Int
    /// ε added to the variance and the running-statistics momentum m.
    public let eps: Double, momentum: Double
    let store: ParameterStore<Scalar>
    let buffers: ParameterStore<Scalar>
    let gamma: Int, beta: Int, runningMean: Int, runningVar: Int
    private var xhat: [Scalar] = []
    private var invStd: [Double] = []
    private var batch = 0
    private var cachedEval = false
    /// Normalise with the running statistics even in `forward(training: true)` (see above).
    public var useRunningStatistics = false
    /// Splits the samples over the context's workers.
    public let context: ComputeContext

    /// A batch-norm layer with γ = 1, β = 0, running mean 0 and running variance 1.
    public init(name: String, channels: Int, plane: Int = 1, eps: Double = 1e-5, momentum: Double = 0.1,
                store: ParameterStore<Scalar>, buffers: ParameterStore<Scalar>, context: ComputeContext = .serial) {
        self.context = context
        spec = LayerSpec(type: "batchnorm", name: name, channels: channels, eps: eps, momentum: momentum)
        self.channels = channels; self.plane = plane; self.eps = eps; self.momentum = momentum
        self.store = store; self.buffers = buffers
        gamma = store.register(name + ".weight", Tensor(repeating: 1, shape: [channels]))
        beta = store.register(name + ".bias", Tensor(zeros: [channels]))
        runningMean = buffers.register(name + ".running_mean", Tensor(zeros: [channels]))
        runningVar = buffers.register(name + ".running_var", Tensor(repeating: 1, shape: [channels]))
    }

    public func forward(_ x: Tensor<Scalar>, training: Bool) -> Tensor<Scalar> {
        let (c, hw) = (channels, plane)
        let n = x.count / (c * hw)
        precondition(n * c * hw == x.count, "BatchNorm: input \(x.shape) does not have \(c) channels of \(hw)")
        var y = Tensor<Scalar>(shape: x.shape, data: Scalar.uninitializedArray(count: x.count))
        let g = store.values[gamma].data, bt = store.values[beta].data
        var inv = [Double](repeating: 0, count: c)
        if training && !useRunningStatistics {
            // Batch statistics: the per-channel sums, then x̂ = a x + d and y = γ x̂ + β in one pass.
            let (sum, sq) = x.data.withUnsafeBufferPointer { px in
                channelSums(samples: n) { first, count, s, ss in
                    BatchNormKernels.moments(px.baseAddress! + first * c * hw, n: count, c: c, hw: hw, sum: s, sumSquares: ss)
                }
            }
            var a = Scalar.filledArray(0, count: c), d = a
            var rm = buffers.values[runningMean].data, rv = buffers.values[runningVar].data
            BatchNormKernels.batchStatistics(sum: sum, sumSquares: sq, count: Double(n * hw), channels: c, eps: eps,
                                             momentum: momentum, runningMean: &rm, runningVar: &rv, invStd: &inv, a: &a, d: &d)
            buffers.values[runningMean].data = rm
            buffers.values[runningVar].data = rv
            var xh = Scalar.uninitializedArray(count: x.count)
            x.data.withUnsafeBufferPointer { px in
            xh.withUnsafeMutableBufferPointer { ph in
            y.data.withUnsafeMutableBufferPointer { py in
                let (xs, hs, ys) = (px.baseAddress!, ph.baseAddress!, py.baseAddress!)
                context.run(n, minimumPerPart: Self.minimumSamples(hw: hw, c: c)) { _, r in
                    let o = r.lowerBound * c * hw
                    BatchNormKernels.forwardChunk(xs + o, n: r.count, c: c, hw: hw, a: a, d: d, gamma: g, beta: bt,
                                                  xhat: hs + o, y: ys + o)
                }
            }}}
            cachedEval = false; xhat = xh; invStd = inv; batch = n
            return y
        }
        let rm = buffers.values[runningMean].data, rv = buffers.values[runningVar].data
        var scale = Scalar.filledArray(0, count: c), shift = scale
        BatchNormKernels.evalCoefficients(runningMean: rm, runningVar: rv, gamma: g, beta: bt, channels: c, eps: eps,
                                          invStd: &inv, scale: &scale, shift: &shift)
        affine(x.data, n: n, scale: scale, shift: shift, into: &y.data)
        if training {
            // Eval statistics with a backward pass: x̂ = (x − running_mean)/√(running_var + eps) is
            // needed only for dγ, so a frozen store skips it.
            cachedEval = true; invStd = inv; batch = n
            if store.frozen { xhat = [] } else {
                var a = Scalar.filledArray(0, count: c), d = a
                for ch in 0..<c { a[ch] = Scalar(inv[ch]); d[ch] = Scalar(-Double(rm[ch]) * inv[ch]) }
                var xh = Scalar.uninitializedArray(count: x.count)
                affine(x.data, n: n, scale: a, shift: d, into: &xh)
                xhat = xh
            }
        }
        return y
    }

    /// Train-mode backward: dγ = Σ dy x̂, dβ = Σ dy,
    /// dx = γ/(σ M) (M dy − Σ dy − x̂ Σ dy x̂) with M = n·H·W.
    public func backward(_ dy: Tensor<Scalar>, needInput: Bool) -> Tensor<Scalar>? {
        if cachedEval { return evalBackward(dy, needInput: needInput) }
        let (c, hw, n) = (channels, plane, batch)
        let (sumDy, sumDyXhat) = parameterGradients(dy)
        guard needInput else { return nil }
        var a = Scalar.filledArray(0, count: c), b = a, d = a
        BatchNormKernels.backwardCoefficients(gamma: store.values[gamma].data, invStd: invStd, sumDy: sumDy, sumDyXhat: sumDyXhat,
                                              count: Double(n * hw), channels: c, a: &a, b: &b, d: &d)
        var dx = Tensor<Scalar>(shape: dy.shape, data: Scalar.uninitializedArray(count: dy.count))
        dy.data.withUnsafeBufferPointer { pdy in
        xhat.withUnsafeBufferPointer { ph in
        dx.data.withUnsafeMutableBufferPointer { pdx in
            let (gs, hs, ds) = (pdy.baseAddress!, ph.baseAddress!, pdx.baseAddress!)
            context.run(n, minimumPerPart: Self.minimumSamples(hw: hw, c: c)) { _, r in
                let o = r.lowerBound * c * hw
                BatchNormKernels.backwardChunk(gs + o, hs + o, n: r.count, c: c, hw: hw, a: a, b: b, d: d, dx: ds + o)
            }
        }}}
        return dx
    }

    /// Σ dy and Σ dy x̂ per channel, stored as dβ and dγ.
    private func parameterGradients(_ dy: Tensor<Scalar>) -> (sumDy: [Double], sumDyXhat: [Double]) {
        let (c, hw) = (channels, plane)
        let (sumDy, sumDyXhat) = dy.data.withUnsafeBufferPointer { pdy in
            xhat.withUnsafeBufferPointer { ph in
                let (gs, hs) = (pdy.baseAddress!, ph.baseAddress!)
                return channelSums(samples: batch) { first, count, s, sx in
                    BatchNormKernels.gradientSums(gs + first * c * hw, hs + first * c * hw, n: count, c: c, hw: hw,
                                                  sumDy: s, sumDyXhat: sx)
                }
            }
        }
        store.grads[gamma].data = Scalar.fromDoubles(sumDyXhat)
        store.grads[beta].data = Scalar.fromDoubles(sumDy)
        return (sumDy, sumDyXhat)
    }

    /// Eval-mode backward (running statistics are constants): dx = dy · γ/√(running_var + eps),
    /// dγ = Σ dy x̂, dβ = Σ dy (the last two skipped for a frozen store).
    private func evalBackward(_ dy: Tensor<Scalar>, needInput: Bool) -> Tensor<Scalar>? {
        let (c, hw, n) = (channels, plane, batch)
        precondition(dy.count == n * c * hw, "BatchNorm.backward: dy \(dy.shape) for batch \(n)")
        if !store.frozen { _ = parameterGradients(dy) }
        guard needInput else { return nil }
        let g = store.values[gamma].data
        var a = Scalar.filledArray(0, count: c)
        for ch in 0..<c { a[ch] = Scalar(Double(g[ch]) * invStd[ch]) }
        var dx = Tensor<Scalar>(shape: dy.shape, data: Scalar.uninitializedArray(count: dy.count))
        affine(dy.data, n: n, scale: a, shift: Scalar.filledArray(0, count: c), into: &dx.data)
        return dx
    }

    /// Two per-channel sums over `n` samples: `kernel(first, count, a, b)` writes the sums of
    /// samples first..<first+count into a[0..<C] and b[0..<C]. Each part of a split (ComputeContext.run)
    /// has its own slots; the parts are added in order.
    private func channelSums(samples n: Int, _ kernel: (Int, Int, UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>) -> Void)
        -> ([Double], [Double]) {
        let c = channels
        let parts = context.parts(n, minimumPerPart: Self.minimumSamples(hw: plane, c: c))
        var partial = [Double](repeating: 0, count: 2 * c * parts)
        partial.withUnsafeMutableBufferPointer { pp in
            let ps = pp.baseAddress!
            context.run(n, parts: parts) { part, r in kernel(r.lowerBound, r.count, ps + 2 * c * part, ps + 2 * c * part + c) }
        }
        var a = [Double](repeating: 0, count: c), b = a
        for part in 0..<parts {
            for ch in 0..<c { a[ch] += partial[2 * c * part + ch]; b[ch] += partial[2 * c * part + c + ch] }
        }
        return (a, b)
    }

    /// Samples per part of a parallel split: at least ~64K elements, so a part outweighs the
    /// cost of handing it to another thread.
    static func minimumSamples(hw: Int, c: Int) -> Int { max(1, (1 << 16) / max(1, hw * c)) }

    /// y[s, c, :] = x[s, c, :] · scale[c] + shift[c] for the `n` samples of `x`, over sample
    /// ranges run at once (ComputeContext.run).
    private func affine(_ x: [Scalar], n: Int, scale: [Scalar], shift: [Scalar], into y: inout [Scalar]) {
        let (c, hw) = (channels, plane)
        x.withUnsafeBufferPointer { px in
        y.withUnsafeMutableBufferPointer { py in
            let (xs, ys) = (px.baseAddress!, py.baseAddress!)
            context.run(n, minimumPerPart: Self.minimumSamples(hw: hw, c: c)) { _, r in
                let o = r.lowerBound * c * hw
                ImageKernels.channelAffine(xs + o, n: r.count, c: c, hw: hw, scale: scale, shift: shift, y: ys + o)
            }
        }}
    }
}
