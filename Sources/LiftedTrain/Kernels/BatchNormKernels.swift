/// The batch-normalisation kernels BatchNorm orchestrates (Ioffe & Szegedy 2015, eqs. in
/// `BatchNorm`): per-channel sums over a range of samples of `[n, C, H·W]`, the per-channel
/// coefficients they give, and one pass over the samples for the forward and the backward map.
/// The layer splits the samples over its workers and adds the parts' sums.
///
///     moments        Σ x, Σ x²                                  → μ, σ² (`batchStatistics`)
///     forward        x̂ = a x + d,  y = γ x̂ + β                  a = 1/σ̂, d = −μ/σ̂
///     gradientSums   Σ dy, Σ dy x̂                               → dβ, dγ
///     backward       dx = a dy + b x̂ + d                        (`backwardCoefficients`)
enum BatchNormKernels {
    /// Train-mode statistics from the per-channel sums over M values: μ = Σx/M, the biased
    /// σ² = max(0, Σx²/M − μ²), invStd = 1/√(σ² + eps), and x̂ = a x + d with a = invStd, d = −μ·invStd.
    /// The running statistics move by the momentum m: running_mean ← (1 − m) running_mean + m μ,
    /// running_var ← (1 − m) running_var + m σ² M/(M − 1) (PyTorch's unbiased update).
    @specialized(where T == Float)
    @specialized(where T == Double)
    static func batchStatistics<T: NNScalar>(sum: UnsafePointer<Double>, sumSquares: UnsafePointer<Double>, count m: Double,
                                             channels c: Int, eps: Double, momentum: Double,
                                             runningMean rm: UnsafeMutablePointer<T>, runningVar rv: UnsafeMutablePointer<T>,
                                             invStd: UnsafeMutablePointer<Double>, a: UnsafeMutablePointer<T>,
                                             d: UnsafeMutablePointer<T>) {
        for ch in 0..<c {
            let mean = sum[ch] / m
            let variance = max(0, sumSquares[ch] / m - mean * mean)
            invStd[ch] = 1 / (variance + eps).squareRoot()
            a[ch] = T(invStd[ch]); d[ch] = T(-mean * invStd[ch])
            rm[ch] = T((1 - momentum) * Double(rm[ch]) + momentum * mean)
            let unbiased = m > 1 ? variance * m / (m - 1) : variance
            rv[ch] = T((1 - momentum) * Double(rv[ch]) + momentum * unbiased)
        }
    }

    /// Eval mode: invStd = 1/√(running_var + eps) and y = scale x + shift with
    /// scale = γ·invStd, shift = β − running_mean·scale.
    @specialized(where T == Float)
    @specialized(where T == Double)
    static func evalCoefficients<T: NNScalar>(runningMean rm: UnsafePointer<T>, runningVar rv: UnsafePointer<T>,
                                              gamma: UnsafePointer<T>, beta: UnsafePointer<T>, channels c: Int, eps: Double,
                                              invStd: UnsafeMutablePointer<Double>, scale: UnsafeMutablePointer<T>,
                                              shift: UnsafeMutablePointer<T>) {
        for ch in 0..<c {
            invStd[ch] = 1 / (Double(rv[ch]) + eps).squareRoot()
            let s = Double(gamma[ch]) * invStd[ch]
            scale[ch] = T(s)
            shift[ch] = T(Double(beta[ch]) - Double(rm[ch]) * s)
        }
    }

    /// Train-mode backward: dx = γ/(σ̂ M) (M dy − Σ dy − x̂ Σ dy x̂) = a dy + b x̂ + d with
    /// a = γ·invStd, b = −a Σ dy x̂ / M, d = −a Σ dy / M.
    @specialized(where T == Float)
    @specialized(where T == Double)
    static func backwardCoefficients<T: NNScalar>(gamma: UnsafePointer<T>, invStd: UnsafePointer<Double>,
                                                  sumDy: UnsafePointer<Double>, sumDyXhat: UnsafePointer<Double>,
                                                  count m: Double, channels c: Int, a: UnsafeMutablePointer<T>,
                                                  b: UnsafeMutablePointer<T>, d: UnsafeMutablePointer<T>) {
        for ch in 0..<c {
            let k = Double(gamma[ch]) * invStd[ch]
            a[ch] = T(k)
            b[ch] = T(-k * sumDyXhat[ch] / m)
            d[ch] = T(-k * sumDy[ch] / m)
        }
    }

    /// Per-channel sums Σ x and Σ x² of `x [n, c, hw]`, accumulated in Double.
    @specialized(where T == Float)
    @specialized(where T == Double)
    static func moments<T: BinaryFloatingPoint>(_ x: UnsafePointer<T>, n: Int, c: Int, hw: Int,
                                                       sum: UnsafeMutablePointer<Double>,
                                                       sumSquares: UnsafeMutablePointer<Double>) {
        for ch in 0..<c { sum[ch] = 0; sumSquares[ch] = 0 }
        if hw == 1 {
            // Features [n, C]: row by row with the channels in the lanes; the same terms in the same
            // order as one call per (sample, channel) below (the Float square, then the Double sum).
            for b in 0..<n {
                let row = x + b * c
                for ch in 0..<c { let v = row[ch]; sum[ch] += Double(v); sumSquares[ch] += Double(v * v) }
            }
            return
        }
        if T.self == Float.self {
            // Eight-lane partial sums (a scalar reduction is not vectorised without reassociation).
            let xf = UnsafeRawPointer(x).assumingMemoryBound(to: Float.self)
            for b in 0..<n {
                for ch in 0..<c {
                    let (s, ss) = FloatSIMD.sums(xf + (b * c + ch) * hw, xf + (b * c + ch) * hw, hw)
                    sum[ch] += Double(s); sumSquares[ch] += Double(ss)
                }
            }
            return
        }
        for b in 0..<n {
            for ch in 0..<c {
                let p = x + (b * c + ch) * hw
                var s: T = 0, ss: T = 0
                for i in 0..<hw { let v = p[i]; s += v; ss += v * v }
                sum[ch] += Double(s); sumSquares[ch] += Double(ss)
            }
        }
    }

    /// x̂ = x·a[c] + d[c] and y = x̂·γ[c] + β[c] in one pass (batch-norm forward, train mode).
    @specialized(where T == Float)
    @specialized(where T == Double)
    static func forwardChunk<T: BinaryFloatingPoint>(_ x: UnsafePointer<T>, n: Int, c: Int, hw: Int,
                                                         a: UnsafePointer<T>, d: UnsafePointer<T>, gamma: UnsafePointer<T>,
                                                         beta: UnsafePointer<T>, xhat: UnsafeMutablePointer<T>,
                                                         y: UnsafeMutablePointer<T>) {
        if hw == 1 {
            // Features [n, C]: the channels in the lanes (the same operations element by element).
            for b in 0..<n {
                let o = b * c
                for ch in 0..<c { let h = x[o + ch] * a[ch] + d[ch]; xhat[o + ch] = h; y[o + ch] = h * gamma[ch] + beta[ch] }
            }
            return
        }
        for b in 0..<n {
            for ch in 0..<c {
                let o = (b * c + ch) * hw
                let ac = a[ch], dc = d[ch], g = gamma[ch], bt = beta[ch]
                let px = x + o, ph = xhat + o, py = y + o
                var i = 0
                if T.self == Float.self {
                    let rx = UnsafeRawPointer(px), rh = UnsafeMutableRawPointer(ph), ry = UnsafeMutableRawPointer(py)
                    let av = SIMD8<Float>(repeating: Float(ac)), dv = SIMD8<Float>(repeating: Float(dc))
                    let gv = SIMD8<Float>(repeating: Float(g)), bv = SIMD8<Float>(repeating: Float(bt))
                    while i + 8 <= hw {
                        let h = rx.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self) * av + dv
                        rh.storeBytes(of: h, toByteOffset: 4 * i, as: SIMD8<Float>.self)
                        ry.storeBytes(of: h * gv + bv, toByteOffset: 4 * i, as: SIMD8<Float>.self)
                        i += 8
                    }
                }
                while i < hw { let h = px[i] * ac + dc; ph[i] = h; py[i] = h * g + bt; i += 1 }
            }
        }
    }

    /// Per-channel Σ dy and Σ dy·xhat (for the batch-norm backward pass).
    @specialized(where T == Float)
    @specialized(where T == Double)
    static func gradientSums<T: BinaryFloatingPoint>(_ dy: UnsafePointer<T>, _ xhat: UnsafePointer<T>, n: Int, c: Int, hw: Int,
                                                   sumDy: UnsafeMutablePointer<Double>,
                                                   sumDyXhat: UnsafeMutablePointer<Double>) {
        for ch in 0..<c { sumDy[ch] = 0; sumDyXhat[ch] = 0 }
        if hw == 1 {
            // Features [n, C]: row by row, the same terms in the same order as below.
            for b in 0..<n {
                let o = b * c
                for ch in 0..<c { let g = dy[o + ch]; sumDy[ch] += Double(g); sumDyXhat[ch] += Double(g * xhat[o + ch]) }
            }
            return
        }
        if T.self == Float.self {
            let gf = UnsafeRawPointer(dy).assumingMemoryBound(to: Float.self)
            let hf = UnsafeRawPointer(xhat).assumingMemoryBound(to: Float.self)
            for b in 0..<n {
                for ch in 0..<c {
                    let o = (b * c + ch) * hw
                    let (s, sx) = FloatSIMD.sums(gf + o, hf + o, hw)
                    sumDy[ch] += Double(s); sumDyXhat[ch] += Double(sx)
                }
            }
            return
        }
        for b in 0..<n {
            for ch in 0..<c {
                let o = (b * c + ch) * hw
                var s: T = 0, sx: T = 0
                for i in 0..<hw { let g = dy[o + i]; s += g; sx += g * xhat[o + i] }
                sumDy[ch] += Double(s); sumDyXhat[ch] += Double(sx)
            }
        }
    }

    /// dx = a[c]·dy + b[c]·xhat + d[c] per channel (batch-norm backward, train mode).
    @specialized(where T == Float)
    @specialized(where T == Double)
    static func backwardChunk<T: BinaryFloatingPoint>(_ dy: UnsafePointer<T>, _ xhat: UnsafePointer<T>, n: Int, c: Int,
                                                       hw: Int, a: UnsafePointer<T>, b bb: UnsafePointer<T>,
                                                       d: UnsafePointer<T>, dx: UnsafeMutablePointer<T>) {
        if hw == 1 {
            // Features [n, C]: the channels in the lanes (the same operations element by element).
            for s in 0..<n {
                let o = s * c
                for ch in 0..<c { dx[o + ch] = a[ch] * dy[o + ch] + bb[ch] * xhat[o + ch] + d[ch] }
            }
            return
        }
        for b in 0..<n {
            for ch in 0..<c {
                let o = (b * c + ch) * hw
                let ac = a[ch], bc = bb[ch], dc = d[ch]
                var i = 0
                if T.self == Float.self {
                    // Eight lanes at a time (the compiler does not vectorise this loop by itself).
                    let g = UnsafeRawPointer(dy + o), h = UnsafeRawPointer(xhat + o), r = UnsafeMutableRawPointer(dx + o)
                    let av = SIMD8<Float>(repeating: Float(ac)), bv = SIMD8<Float>(repeating: Float(bc))
                    let dv = SIMD8<Float>(repeating: Float(dc))
                    while i + 8 <= hw {
                        let v = av * g.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
                            + bv * h.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self) + dv
                        r.storeBytes(of: v, toByteOffset: 4 * i, as: SIMD8<Float>.self)
                        i += 8
                    }
                }
                while i < hw { dx[o + i] = ac * dy[o + i] + bc * xhat[o + i] + dc; i += 1 }
            }
        }
    }
}
