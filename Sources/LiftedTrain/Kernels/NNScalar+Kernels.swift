/// The per-element operations of every `NNScalar`, written once: each forwards to a generic
/// kernel of this room that is compiled for `Float` and `Double` (`@specialized`), so a call
/// from generic layer code costs one type check and then runs the concrete loop.
extension NNScalar {
    /// Applies φ in place.
    public static func activationForward(_ kind: ActivationKind, alpha: Self, _ x: UnsafeMutableBufferPointer<Self>) {
        Kernels.activationForward(kind, alpha: alpha, x)
    }
    /// dy ← dy ⊙ φ′(z), given the pre-activation z and the output y = φ(z).
    public static func activationBackward(_ kind: ActivationKind, alpha: Self, z: UnsafeBufferPointer<Self>,
                                          y: UnsafeBufferPointer<Self>, dy: UnsafeMutableBufferPointer<Self>) {
        Kernels.activationBackward(kind, alpha: alpha, z: z, y: y, dy: dy)
    }
    /// y ← φ(x) into a separate buffer of the same size.
    public static func activationForward(_ kind: ActivationKind, alpha: Self, from x: UnsafeBufferPointer<Self>,
                                         into y: UnsafeMutableBufferPointer<Self>) {
        Kernels.activationForward(kind, alpha: alpha, from: x, into: y)
    }
    /// dx ← dy ⊙ φ′(z) into a separate buffer of the same size.
    public static func activationBackward(_ kind: ActivationKind, alpha: Self, z: UnsafeBufferPointer<Self>,
                                          y: UnsafeBufferPointer<Self>, dy: UnsafeBufferPointer<Self>,
                                          into dx: UnsafeMutableBufferPointer<Self>) {
        Kernels.activationBackward(kind, alpha: alpha, z: z, y: y, dy: dy, into: dx)
    }
    /// Row-wise softmax cross-entropy on logits `[b, c]`; writes ∂(mean loss)/∂logits into `grad`
    /// (may alias nothing) and returns (summed loss, number of correct argmax predictions).
    public static func softmaxCrossEntropy(logits: UnsafeBufferPointer<Self>, labels: UnsafeBufferPointer<Int32>,
                                           classes: Int, grad: UnsafeMutableBufferPointer<Self>?, scale: Self) -> (Double, Int) {
        Kernels.softmaxCrossEntropy(logits: logits, labels: labels, classes: classes, grad: grad, scale: scale)
    }
    /// Adam update of one parameter buffer (see `Adam`).
    public static func adamStep(p: UnsafeMutableBufferPointer<Self>, g: UnsafeBufferPointer<Self>,
                                m: UnsafeMutableBufferPointer<Self>, v: UnsafeMutableBufferPointer<Self>,
                                lr: Self, beta1: Self, beta2: Self, eps: Self, correction1: Self, correction2: Self) {
        Kernels.adamStep(p: p, g: g, m: m, v: v, lr: lr, beta1: beta1, beta2: beta2, eps: eps,
                         correction1: correction1, correction2: correction2)
    }
    /// z ← x ⊙ y element-wise (z may alias x or y).
    public static func multiply(_ x: UnsafeBufferPointer<Self>, _ y: UnsafeBufferPointer<Self>,
                                into z: UnsafeMutableBufferPointer<Self>) {
        Kernels.multiply(x, y, into: z)
    }
    /// Largest |x_i| (0 for an empty buffer); NaN if any element is NaN.
    public static func maxAbs(_ x: UnsafeBufferPointer<Self>) -> Self { Kernels.maxAbs(x) }
    /// out ← (1 − θ) x + θ c over `count` elements (out may alias x); returns
    /// (Σ (c − x)², Σ (out − x)², Σ x²) — the relaxed fixed-point step and its change, in one pass.
    public static func relax(_ x: UnsafePointer<Self>, toward c: UnsafePointer<Self>, theta: Self,
                             into out: UnsafeMutablePointer<Self>, count: Int) -> (Double, Double, Double) {
        Kernels.relax(x, toward: c, theta: theta, into: out, count: count)
    }
    /// FISTA's gradient-mapping step in place: W⁺ = Y − s Δ, then Δ ← W⁺ − prev, prev ← W⁺;
    /// returns ⟨Δ, W⁺ − prev⟩ (the restart test) for the Δ and prev passed in.
    public static func gradientMappingStep(y: UnsafePointer<Self>, delta: UnsafeMutablePointer<Self>,
                                           prev: UnsafeMutablePointer<Self>, scale: Self, count: Int) -> Double {
        Kernels.gradientMappingStep(y: y, delta: delta, prev: prev, scale: scale, count: count)
    }
    /// Clamps every element to [lo, hi].
    public static func clamp(_ x: UnsafeMutableBufferPointer<Self>, lo: Self, hi: Self) { Kernels.clamp(x, lo: lo, hi: hi) }
    /// An array of `count` copies of `value` (a memset, not a generic per-element loop).
    public static func filledArray(_ value: Self, count: Int) -> [Self] { Kernels.filledArray(value, count: count) }
    /// An array of `count` elements whose values are unspecified, for outputs that are
    /// overwritten entirely (saves the zero fill).
    public static func uninitializedArray(count: Int) -> [Self] {
        [Self](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
    }
    /// Sets every element to `value`.
    public static func fill(_ x: UnsafeMutableBufferPointer<Self>, with value: Self) { Kernels.fill(x, with: value) }
    /// Converts from Float32 (history files); for `Float` this returns the same storage.
    public static func fromFloats(_ a: [Float]) -> [Self] { Kernels.converted(a) }
    /// Converts to Float32 (history files); for `Float` this returns the same storage.
    public static func toFloats(_ a: [Self]) -> [Float] { Kernels.converted(a) }
    /// Converts from Double (random draws); for `Double` this returns the same storage.
    public static func fromDoubles(_ a: [Double]) -> [Self] { Kernels.converted(a) }
    /// Converts to Double (diagnostics); for `Double` this returns the same storage.
    public static func toDoubles(_ a: [Self]) -> [Double] { Kernels.converted(a) }
    /// Converts pixel bytes to scalars, scaled by `scale`.
    public static func fromBytes(_ bytes: UnsafeBufferPointer<UInt8>, scale: Self, into out: UnsafeMutableBufferPointer<Self>) {
        Kernels.fromBytes(bytes, scale: scale, into: out)
    }
}
