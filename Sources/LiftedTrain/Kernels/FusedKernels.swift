import Foundation

// One-pass element-wise kernels of the LPOM updates (each replaces a chain of copies, scal,
// axpy and dot over the same buffers), and Float's eight-lane exp and softmax. The generic
// loops are the reference versions (and Double's); Float takes the explicit SIMD loops.

extension Kernels {
    /// out ← (1 − θ) x + θ c (out may alias x); returns (Σ (c − x)², Σ (out − x)², Σ x²).
    @specialized(where T == Float)
    @specialized(where T == Double)
    static func relax<T: BinaryFloatingPoint>(_ x: UnsafePointer<T>, toward c: UnsafePointer<T>, theta: T,
                                              into out: UnsafeMutablePointer<T>, count n: Int) -> (Double, Double, Double) {
        if T.self == Float.self {
            return FloatSIMD.relax(UnsafeRawPointer(x).assumingMemoryBound(to: Float.self),
                                   UnsafeRawPointer(c).assumingMemoryBound(to: Float.self), theta: Float(theta),
                                   UnsafeMutableRawPointer(out).assumingMemoryBound(to: Float.self), n)
        }
        var dc = 0.0, dout = 0.0, xx = 0.0
        let keep = 1 - theta
        for i in 0..<n {
            let xi = x[i], ci = c[i]
            let o = keep * xi + theta * ci
            out[i] = o
            dc += Double((ci - xi) * (ci - xi)); dout += Double((o - xi) * (o - xi)); xx += Double(xi * xi)
        }
        return (dc, dout, xx)
    }

    /// FISTA's gradient-mapping step on flat buffers: W⁺ = Y − s Δ, then Δ ← W⁺ − prev and
    /// prev ← W⁺; returns ⟨Δ, W⁺ − prev⟩ (with the Δ and prev before the call).
    @specialized(where T == Float)
    @specialized(where T == Double)
    static func gradientMappingStep<T: BinaryFloatingPoint>(y: UnsafePointer<T>, delta: UnsafeMutablePointer<T>,
                                                            prev: UnsafeMutablePointer<T>, scale s: T, count n: Int) -> Double {
        if T.self == Float.self {
            return FloatSIMD.gradientMappingStep(UnsafeRawPointer(y).assumingMemoryBound(to: Float.self),
                                                 UnsafeMutableRawPointer(delta).assumingMemoryBound(to: Float.self),
                                                 UnsafeMutableRawPointer(prev).assumingMemoryBound(to: Float.self),
                                                 scale: Float(s), n)
        }
        var d = 0.0
        for i in 0..<n {
            let next = y[i] - s * delta[i]
            let step = next - prev[i]
            d += Double(delta[i] * step)
            prev[i] = next
            delta[i] = step
        }
        return d
    }
}

extension FloatSIMD {
    /// See `Kernels.relax`.
    static func relax(_ x: UnsafePointer<Float>, _ c: UnsafePointer<Float>, theta: Float,
                      _ out: UnsafeMutablePointer<Float>, _ n: Int) -> (Double, Double, Double) {
        let keep = 1 - theta
        var dc = V(repeating: 0), dout = V(repeating: 0), xx = V(repeating: 0)
        var i = 0
        while i + 8 <= n {
            let xv = UnsafeRawPointer(x + i).loadUnaligned(as: V.self)
            let cv = UnsafeRawPointer(c + i).loadUnaligned(as: V.self)
            let o = keep * xv + theta * cv
            UnsafeMutableRawPointer(out + i).storeBytes(of: o, as: V.self)
            let e = cv - xv, f = o - xv
            dc += e * e; dout += f * f; xx += xv * xv
            i += 8
        }
        var r = (Double(dc.sum()), Double(dout.sum()), Double(xx.sum()))
        while i < n {
            let xi = x[i], ci = c[i]
            let o = keep * xi + theta * ci
            out[i] = o
            r.0 += Double((ci - xi) * (ci - xi)); r.1 += Double((o - xi) * (o - xi)); r.2 += Double(xi * xi)
            i += 1
        }
        return r
    }

    /// See `Kernels.gradientMappingStep`.
    static func gradientMappingStep(_ y: UnsafePointer<Float>, _ delta: UnsafeMutablePointer<Float>,
                                    _ prev: UnsafeMutablePointer<Float>, scale s: Float, _ n: Int) -> Double {
        var d = V(repeating: 0)
        var i = 0
        while i + 8 <= n {
            let dv = UnsafeRawPointer(delta + i).loadUnaligned(as: V.self)
            let next = UnsafeRawPointer(y + i).loadUnaligned(as: V.self) - s * dv
            let step = next - UnsafeRawPointer(prev + i).loadUnaligned(as: V.self)
            d += dv * step
            UnsafeMutableRawPointer(prev + i).storeBytes(of: next, as: V.self)
            UnsafeMutableRawPointer(delta + i).storeBytes(of: step, as: V.self)
            i += 8
        }
        var r = Double(d.sum())
        while i < n {
            let next = y[i] - s * delta[i]
            let step = next - prev[i]
            r += Double(delta[i] * step)
            prev[i] = next
            delta[i] = step
            i += 1
        }
        return r
    }

    /// (Σ aᵢ, Σ aᵢbᵢ) in eight-lane partial sums (b = a gives the sum and the sum of squares).
    static func sums(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> (Float, Float) {
        var s = V(repeating: 0), sp = V(repeating: 0)
        var i = 0
        while i + 8 <= n {
            let u = UnsafeRawPointer(a + i).loadUnaligned(as: V.self)
            s += u
            sp += u * UnsafeRawPointer(b + i).loadUnaligned(as: V.self)
            i += 8
        }
        var rs = s.sum(), rp = sp.sum()
        while i < n { rs += a[i]; rp += a[i] * b[i]; i += 1 }
        return (rs, rp)
    }

    /// eˣ on eight lanes (Cephes `expf`: x = n ln 2 + r, |r| ≤ ½ ln 2, a degree-6 polynomial for
    /// eʳ, 2ⁿ through the exponent bits; about 1 ulp). Arguments are clamped to
    /// [−87.34, 88.38] (so eˣ stays a normal float); NaN stays NaN.
    @inline(__always) static func exp(_ x0: V) -> V {
        var x = x0.replacing(with: 88.376_26, where: x0 .> 88.376_26)
        x = x.replacing(with: -87.336_54, where: x .< -87.336_54)
        // Round x·log₂e to the nearest integer with the 1.5·2²³ trick (no float → int conversion).
        let t = x * 1.442_695_04 + 12_582_912
        let fx = t - 12_582_912
        let n = unsafeBitCast(t, to: SIMD8<Int32>.self) &- 0x4B40_0000
        var r = x - fx * 0.693_359_375
        r = r - fx * -2.121_944_4e-4
        var y = V(repeating: 1.987_569_15e-4)
        y = y * r + 1.398_199_95e-3
        y = y * r + 8.333_451_9e-3
        y = y * r + 4.166_579_59e-2
        y = y * r + 1.666_666_55e-1
        y = y * r + 5.000_000_12e-1
        y = y * (r * r) + r + 1
        return y * unsafeBitCast((n &+ 127) &<< 23, to: V.self)
    }

    /// e ← exp(e) in place.
    static func exp(_ p: UnsafeMutablePointer<Float>, _ n: Int) {
        var i = 0
        while i + 8 <= n {
            let v = UnsafeRawPointer(p + i).loadUnaligned(as: V.self)
            UnsafeMutableRawPointer(p + i).storeBytes(of: exp(v), as: V.self)
            i += 8
        }
        if i < n {
            var v = V(repeating: 0)
            for j in 0..<(n - i) { v[j] = p[i + j] }
            let e = exp(v)
            for j in 0..<(n - i) { p[i + j] = e[j] }
        }
    }

    /// `Kernels.softmaxCrossEntropy` for Float: every exponential of the batch in one SIMD pass
    /// over `e` (b·c elements: `grad` itself when given).
    static func softmaxCrossEntropy(_ logits: UnsafePointer<Float>, _ labels: UnsafePointer<Int32>, rows b: Int,
                                    classes c: Int, grad: UnsafeMutablePointer<Float>?, scale: Float) -> (Double, Int) {
        var own: [Float] = grad == nil ? [Float](repeating: 0, count: b * c) : []
        return own.withUnsafeMutableBufferPointer { po in
            let e = grad ?? po.baseAddress!
            var correct = 0
            var maxima = [Float](repeating: 0, count: b)
            for r in 0..<b {
                let row = r * c
                var mx = logits[row]
                var arg = 0
                for j in 1..<c where logits[row + j] > mx { mx = logits[row + j]; arg = j }
                if arg == Int(labels[r]) { correct += 1 }
                maxima[r] = mx
                for j in 0..<c { e[row + j] = logits[row + j] - mx }
            }
            exp(e, b * c)
            var loss = 0.0
            for r in 0..<b {
                let row = r * c
                var sum: Float = 0
                for j in 0..<c { sum += e[row + j] }
                let label = Int(labels[r])
                loss += Double(maxima[r] + Foundation.log(sum) - logits[row + label])
                if grad != nil {
                    let inv = 1 / sum
                    for j in 0..<c { e[row + j] = scale * e[row + j] * inv }
                    e[row + label] -= scale
                }
            }
            return (loss, correct)
        }
    }
}
