import Foundation

/// Elementary functions the kernels need, for the concrete scalar types.
public protocol ElementaryScalar {
    /// eˣ
    static func _exp(_ x: Self) -> Self
    /// log x
    static func _log(_ x: Self) -> Self
    /// log(1 + x)
    static func _log1p(_ x: Self) -> Self
    /// tanh x
    static func _tanh(_ x: Self) -> Self
}
extension Float: ElementaryScalar {
    @inline(__always) public static func _exp(_ x: Float) -> Float { Foundation.exp(x) }
    @inline(__always) public static func _log(_ x: Float) -> Float { Foundation.log(x) }
    @inline(__always) public static func _log1p(_ x: Float) -> Float { Foundation.log1p(x) }
    @inline(__always) public static func _tanh(_ x: Float) -> Float { Foundation.tanh(x) }
}
extension Double: ElementaryScalar {
    @inline(__always) public static func _exp(_ x: Double) -> Double { Foundation.exp(x) }
    @inline(__always) public static func _log(_ x: Double) -> Double { Foundation.log(x) }
    @inline(__always) public static func _log1p(_ x: Double) -> Double { Foundation.log1p(x) }
    @inline(__always) public static func _tanh(_ x: Double) -> Double { Foundation.tanh(x) }
}

/// Per-element loops, written once and compiled for `Float` and `Double` (`@specialized`), so
/// each loop runs as straight-line concrete code even when called from generic layer code.
enum Kernels {
    @inline(__always)
    static func sigmoid<T: BinaryFloatingPoint & ElementaryScalar>(_ z: T) -> T {
        // Stable for large |z|: never exponentiates a positive number.
        if z >= 0 { return 1 / (1 + T._exp(-z)) }
        let e = T._exp(z)
        return e / (1 + e)
    }

    @specialized(where T == Float)
    @specialized(where T == Double)
    static func activationForward<T: BinaryFloatingPoint & ElementaryScalar>(
        _ kind: ActivationKind, alpha: T, _ x: UnsafeMutableBufferPointer<T>
    ) {
        guard let p = x.baseAddress else { return }
        let n = x.count
        switch kind {
        case .identity: return
        // In-place scalar selects compile to conditional stores that LLVM does not vectorise;
        // Float (the training type) takes explicit SIMD loops, Double the plain ones.
        case .relu:
            if T.self == Float.self { FloatSIMD.relu(UnsafeMutableRawPointer(p).assumingMemoryBound(to: Float.self), n); return }
            for i in 0..<n { let v = p[i]; p[i] = v > 0 ? v : 0 }
        case .leakyRelu:
            if T.self == Float.self {
                FloatSIMD.leakyRelu(UnsafeMutableRawPointer(p).assumingMemoryBound(to: Float.self), n, alpha: Float(alpha)); return
            }
            for i in 0..<n { let v = p[i]; p[i] = v > 0 ? v : alpha * v }
        case .sigmoid: for i in x.indices { x[i] = sigmoid(x[i]) }
        case .tanh: for i in x.indices { x[i] = T._tanh(x[i]) }
        case .elu: for i in x.indices { let z = x[i]; x[i] = z > 0 ? z : alpha * (T._exp(z) - 1) }
        case .softplus:
            // log(1 + eᶻ) = max(z, 0) + log1p(e^{-|z|})
            for i in x.indices { let z = x[i]; x[i] = max(z, 0) + T._log1p(T._exp(-abs(z))) }
        }
    }

    /// y ← φ(x) without first copying x into y (Float ReLU / leaky ReLU in one SIMD pass).
    @specialized(where T == Float)
    @specialized(where T == Double)
    static func activationForward<T: BinaryFloatingPoint & ElementaryScalar>(
        _ kind: ActivationKind, alpha: T, from x: UnsafeBufferPointer<T>, into y: UnsafeMutableBufferPointer<T>
    ) {
        guard let px = x.baseAddress, let py = y.baseAddress else { return }
        if T.self == Float.self && (kind == .relu || kind == .leakyRelu) {
            FloatSIMD.leakyRelu(UnsafeRawPointer(px).assumingMemoryBound(to: Float.self),
                                into: UnsafeMutableRawPointer(py).assumingMemoryBound(to: Float.self), x.count,
                                alpha: kind == .relu ? 0 : Float(alpha))
            return
        }
        UnsafeMutableRawPointer(py).copyMemory(from: px, byteCount: x.count * MemoryLayout<T>.stride)
        activationForward(kind, alpha: alpha, y)
    }

    /// dx ← dy ⊙ φ′(z) without first copying dy into dx.
    @specialized(where T == Float)
    @specialized(where T == Double)
    static func activationBackward<T: BinaryFloatingPoint & ElementaryScalar>(
        _ kind: ActivationKind, alpha: T, z: UnsafeBufferPointer<T>, y: UnsafeBufferPointer<T>,
        dy: UnsafeBufferPointer<T>, into dx: UnsafeMutableBufferPointer<T>
    ) {
        guard let pg = dy.baseAddress, let pd = dx.baseAddress, let pz = z.baseAddress else { return }
        if T.self == Float.self && (kind == .relu || kind == .leakyRelu) {
            FloatSIMD.reluBackward(UnsafeRawPointer(pg).assumingMemoryBound(to: Float.self),
                                   UnsafeRawPointer(pz).assumingMemoryBound(to: Float.self),
                                   into: UnsafeMutableRawPointer(pd).assumingMemoryBound(to: Float.self), dy.count,
                                   alpha: kind == .relu ? 0 : Float(alpha))
            return
        }
        UnsafeMutableRawPointer(pd).copyMemory(from: pg, byteCount: dy.count * MemoryLayout<T>.stride)
        activationBackward(kind, alpha: alpha, z: z, y: y, dy: dx)
    }

    @specialized(where T == Float)
    @specialized(where T == Double)
    static func activationBackward<T: BinaryFloatingPoint & ElementaryScalar>(
        _ kind: ActivationKind, alpha: T, z: UnsafeBufferPointer<T>, y: UnsafeBufferPointer<T>,
        dy: UnsafeMutableBufferPointer<T>
    ) {
        guard let pd = dy.baseAddress, let pz = z.baseAddress else { return }
        let n = dy.count
        switch kind {
        case .identity: return
        case .relu:
            if T.self == Float.self {
                FloatSIMD.reluBackward(UnsafeMutableRawPointer(pd).assumingMemoryBound(to: Float.self),
                                       UnsafeRawPointer(pz).assumingMemoryBound(to: Float.self), n, alpha: 0); return
            }
            for i in 0..<n { let g = pd[i]; pd[i] = pz[i] > 0 ? g : 0 }
        case .leakyRelu:
            if T.self == Float.self {
                FloatSIMD.reluBackward(UnsafeMutableRawPointer(pd).assumingMemoryBound(to: Float.self),
                                       UnsafeRawPointer(pz).assumingMemoryBound(to: Float.self), n, alpha: Float(alpha)); return
            }
            for i in 0..<n { let g = pd[i]; pd[i] = pz[i] > 0 ? g : alpha * g }
        case .sigmoid: for i in dy.indices { dy[i] *= y[i] * (1 - y[i]) }
        case .tanh: for i in dy.indices { dy[i] *= 1 - y[i] * y[i] }
        case .elu: for i in dy.indices where !(z[i] > 0) { dy[i] *= y[i] + alpha }
        case .softplus: for i in dy.indices { dy[i] *= sigmoid(z[i]) }
        }
    }

    @specialized(where T == Float)
    @specialized(where T == Double)
    static func softmaxCrossEntropy<T: BinaryFloatingPoint & ElementaryScalar>(
        logits: UnsafeBufferPointer<T>, labels: UnsafeBufferPointer<Int32>, classes c: Int,
        grad: UnsafeMutableBufferPointer<T>?, scale: T
    ) -> (Double, Int) {
        let b = labels.count
        if T.self == Float.self, b > 0, let pl = logits.baseAddress, let pb = labels.baseAddress {
            return FloatSIMD.softmaxCrossEntropy(UnsafeRawPointer(pl).assumingMemoryBound(to: Float.self), pb, rows: b,
                                                 classes: c, grad: grad.map { UnsafeMutableRawPointer($0.baseAddress!).assumingMemoryBound(to: Float.self) },
                                                 scale: Float(scale))
        }
        var loss = 0.0
        var correct = 0
        for r in 0..<b {
            let row = r * c
            var mx = logits[row]
            var arg = 0
            for j in 1..<c where logits[row + j] > mx { mx = logits[row + j]; arg = j }
            var sum: T = 0
            for j in 0..<c { sum += T._exp(logits[row + j] - mx) }
            let label = Int(labels[r])
            if arg == label { correct += 1 }
            let logZ = mx + T._log(sum)
            loss += Double(logZ - logits[row + label])
            if let g = grad {
                let inv = 1 / sum
                for j in 0..<c { g[row + j] = scale * T._exp(logits[row + j] - mx) * inv }
                g[row + label] -= scale
            }
        }
        return (loss, correct)
    }

    @specialized(where T == Float)
    @specialized(where T == Double)
    static func adamStep<T: BinaryFloatingPoint & ElementaryScalar>(
        p: UnsafeMutableBufferPointer<T>, g: UnsafeBufferPointer<T>, m: UnsafeMutableBufferPointer<T>,
        v: UnsafeMutableBufferPointer<T>, lr: T, beta1: T, beta2: T, eps: T, correction1: T, correction2: T
    ) {
        let a = lr / correction1
        let c2 = 1 / correction2
        var start = 0
        if T.self == Float.self, p.count >= 8 {
            // Eight lanes at a time (the scalar loop's square root and division run one by one).
            func f(_ q: UnsafeMutableBufferPointer<T>) -> UnsafeMutablePointer<Float> {
                UnsafeMutableRawPointer(q.baseAddress!).assumingMemoryBound(to: Float.self)
            }
            start = FloatSIMD.adamStep(p: f(p), g: UnsafeRawPointer(g.baseAddress!).assumingMemoryBound(to: Float.self),
                                       m: f(m), v: f(v), count: p.count, a: Float(a), beta1: Float(beta1),
                                       beta2: Float(beta2), eps: Float(eps), c2: Float(c2))
        }
        for i in start..<p.count {
            let gi = g[i]
            m[i] = beta1 * m[i] + (1 - beta1) * gi
            v[i] = beta2 * v[i] + (1 - beta2) * gi * gi
            p[i] -= a * m[i] / ((v[i] * c2).squareRoot() + eps)
        }
    }

    @specialized(where T == Float)
    @specialized(where T == Double)
    static func multiply<T: BinaryFloatingPoint>(_ x: UnsafeBufferPointer<T>, _ y: UnsafeBufferPointer<T>,
                                                 into z: UnsafeMutableBufferPointer<T>) {
        for i in z.indices { z[i] = x[i] * y[i] }
    }

    @specialized(where T == Float)
    @specialized(where T == Double)
    static func maxAbs<T: BinaryFloatingPoint>(_ x: UnsafeBufferPointer<T>) -> T {
        if T.self == Float.self, let p = x.baseAddress {
            return T(FloatSIMD.maxAbs(UnsafeRawPointer(p).assumingMemoryBound(to: Float.self), x.count))
        }
        var m: T = 0
        for v in x {
            if v.isNaN { return v }
            m = max(m, abs(v))
        }
        return m
    }

    @specialized(where T == Float)
    @specialized(where T == Double)
    static func clamp<T: BinaryFloatingPoint>(_ x: UnsafeMutableBufferPointer<T>, lo: T, hi: T) {
        for i in x.indices { x[i] = min(max(x[i], lo), hi) }
    }

    @specialized(where T == Float)
    @specialized(where T == Double)
    static func filledArray<T: BinaryFloatingPoint>(_ value: T, count: Int) -> [T] { [T](repeating: value, count: count) }

    @specialized(where T == Float)
    @specialized(where T == Double)
    static func fill<T: BinaryFloatingPoint>(_ x: UnsafeMutableBufferPointer<T>, with value: T) { x.update(repeating: value) }

    /// The elements of `a` rounded to `B` (to nearest); the same storage when `A` is `B`.
    @specialized(where A == Float, B == Float)
    @specialized(where A == Float, B == Double)
    @specialized(where A == Double, B == Float)
    @specialized(where A == Double, B == Double)
    static func converted<A: BinaryFloatingPoint, B: BinaryFloatingPoint>(_ a: [A]) -> [B] {
        if A.self == B.self { return unsafeBitCast(a, to: [B].self) }
        return a.map { B($0) }
    }

    @specialized(where T == Float)
    @specialized(where T == Double)
    static func fromBytes<T: BinaryFloatingPoint>(_ bytes: UnsafeBufferPointer<UInt8>, scale: T,
                                                  into out: UnsafeMutableBufferPointer<T>) {
        for i in out.indices { out[i] = T(bytes[i]) * scale }
    }
}

/// Explicit eight-lane loops for the hottest Float kernels (concrete types: generic SIMD code
/// is not lowered to vector instructions).
enum FloatSIMD {
    typealias V = SIMD8<Float>

    /// Adam's update (`Kernels.adamStep`) on the first ⌊n/8⌋·8 elements, eight lanes at a time with
    /// the scalar loop's operations in its order (so the same values); returns where the scalar
    /// loop takes over. `a` = lr/(1 − β₁ᵗ), `c2` = 1/(1 − β₂ᵗ).
    static func adamStep(p: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>, m: UnsafeMutablePointer<Float>,
                         v: UnsafeMutablePointer<Float>, count n: Int, a: Float, beta1: Float, beta2: Float,
                         eps: Float, c2: Float) -> Int {
        let b1 = V(repeating: beta1), b2 = V(repeating: beta2)
        let ob1 = V(repeating: 1 - beta1), ob2 = V(repeating: 1 - beta2)
        let av = V(repeating: a), cv = V(repeating: c2), ev = V(repeating: eps)
        var i = 0
        while i + 8 <= n {
            let gi = UnsafeRawPointer(g + i).loadUnaligned(as: V.self)
            let mi = b1 * UnsafeRawPointer(m + i).loadUnaligned(as: V.self) + ob1 * gi
            let vi = b2 * UnsafeRawPointer(v + i).loadUnaligned(as: V.self) + ob2 * gi * gi
            let pi = UnsafeRawPointer(p + i).loadUnaligned(as: V.self) - av * mi / ((vi * cv).squareRoot() + ev)
            UnsafeMutableRawPointer(m + i).storeBytes(of: mi, as: V.self)
            UnsafeMutableRawPointer(v + i).storeBytes(of: vi, as: V.self)
            UnsafeMutableRawPointer(p + i).storeBytes(of: pi, as: V.self)
            i += 8
        }
        return i
    }

    /// x ← max(x, 0) (0 where x ≤ 0).
    static func relu(_ p: UnsafeMutablePointer<Float>, _ n: Int) {
        leakyRelu(p, n, alpha: 0)
    }

    /// x ← x > 0 ? x : αx.
    static func leakyRelu(_ p: UnsafeMutablePointer<Float>, _ n: Int, alpha: Float) {
        leakyRelu(UnsafePointer(p), into: p, n, alpha: alpha)
    }

    /// y ← x > 0 ? x : αx (y may alias x).
    static func leakyRelu(_ x: UnsafePointer<Float>, into p: UnsafeMutablePointer<Float>, _ n: Int, alpha: Float) {
        var i = 0
        while i + 8 <= n {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: V.self)
            UnsafeMutableRawPointer(p + i).storeBytes(of: v.replacing(with: alpha * v, where: v .<= 0), as: V.self)
            i += 8
        }
        while i < n { let v = x[i]; p[i] = v > 0 ? v : alpha * v; i += 1 }
    }

    /// max |x_i|, or NaN when any element is NaN (finiteness checks run this on every sweep).
    static func maxAbs(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
        var m = V(repeating: 0)
        var nan = SIMDMask<V.MaskStorage>(repeating: false)
        var i = 0
        while i + 8 <= n {
            let v = UnsafeRawPointer(p + i).loadUnaligned(as: V.self)
            let a = v.replacing(with: -v, where: v .< 0)
            nan = nan .| (v .!= v)
            m = m.replacing(with: a, where: a .> m)
            i += 8
        }
        if any(nan) { return .nan }
        var r = m.max()
        while i < n {
            let v = p[i]
            if v.isNaN { return v }
            r = max(r, abs(v))
            i += 1
        }
        return r
    }

    /// g ← z > 0 ? g : αg.
    static func reluBackward(_ g: UnsafeMutablePointer<Float>, _ z: UnsafePointer<Float>, _ n: Int, alpha: Float) {
        reluBackward(UnsafePointer(g), z, into: g, n, alpha: alpha)
    }

    /// d ← z > 0 ? g : αg (d may alias g).
    static func reluBackward(_ g: UnsafePointer<Float>, _ z: UnsafePointer<Float>, into d: UnsafeMutablePointer<Float>,
                             _ n: Int, alpha: Float) {
        var i = 0
        while i + 8 <= n {
            let v = UnsafeRawPointer(g + i).loadUnaligned(as: V.self)
            let w = UnsafeRawPointer(z + i).loadUnaligned(as: V.self)
            UnsafeMutableRawPointer(d + i).storeBytes(of: v.replacing(with: alpha * v, where: w .<= 0), as: V.self)
            i += 8
        }
        while i < n { let v = g[i]; d[i] = z[i] > 0 ? v : alpha * v; i += 1 }
    }
}
