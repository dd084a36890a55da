/// Per-element loops of the image layers (convolution, pooling, batch normalisation), written
/// once generically and specialised for `Float` and `Double` by the conformances at the end of
/// this file, so generic layer code pays one dynamic call per buffer, never per element.
public protocol ImageScalar {
    /// Unfolds patches: `col[(c·kh + i)·kw + j, n·ho·wo + oh·wo + ow] = x[n, c, oh·s − p + i, ow·s − p + j]`
    /// (0 outside the image) for `n` samples of `x [n, c, h, w]`; `col` is `[c·kh·kw, n·ho·wo]`.
    static func im2col(_ x: UnsafePointer<Self>, n: Int, c: Int, h: Int, w: Int, kh: Int, kw: Int,
                       stride: Int, padding: Int, ho: Int, wo: Int, col: UnsafeMutablePointer<Self>)
    /// The adjoint of `im2col`: adds every column entry back to the pixel it came from
    /// (`x` is accumulated into, not overwritten).
    static func col2im(_ col: UnsafePointer<Self>, n: Int, c: Int, h: Int, w: Int, kh: Int, kw: Int,
                       stride: Int, padding: Int, ho: Int, wo: Int, x: UnsafeMutablePointer<Self>)
    /// Max pooling of `x [n·c, h, w]` into `y [n·c, ho, wo]`, recording the flat input index of
    /// each maximum in `argmax` (windows entirely in padding give −∞ and index −1).
    static func maxPool(_ x: UnsafePointer<Self>, planes: Int, h: Int, w: Int, k: Int, stride: Int, padding: Int,
                        ho: Int, wo: Int, y: UnsafeMutablePointer<Self>, argmax: UnsafeMutablePointer<Int32>)
    /// dx[argmax] += dy (dx zeroed by the caller).
    static func maxPoolBackward(_ dy: UnsafePointer<Self>, argmax: UnsafePointer<Int32>, count: Int,
                                planeIn: Int, planeOut: Int, dx: UnsafeMutablePointer<Self>)
    /// Average pooling (padding counted in the divisor, PyTorch's `count_include_pad=True`).
    static func avgPool(_ x: UnsafePointer<Self>, planes: Int, h: Int, w: Int, k: Int, stride: Int, padding: Int,
                        ho: Int, wo: Int, y: UnsafeMutablePointer<Self>)
    /// The adjoint of `avgPool` (dx accumulated into).
    static func avgPoolBackward(_ dy: UnsafePointer<Self>, planes: Int, h: Int, w: Int, k: Int, stride: Int,
                                padding: Int, ho: Int, wo: Int, dx: UnsafeMutablePointer<Self>)
    /// Per-channel sums Σ x and Σ x² of `x [n, c, hw]`, accumulated in Double.
    static func channelMoments(_ x: UnsafePointer<Self>, n: Int, c: Int, hw: Int,
                               sum: UnsafeMutablePointer<Double>, sumSquares: UnsafeMutablePointer<Double>)
    /// y[n, c, :] = x[n, c, :] · scale[c] + shift[c] (y may alias x).
    static func channelAffine(_ x: UnsafePointer<Self>, n: Int, c: Int, hw: Int, scale: UnsafePointer<Self>,
                              shift: UnsafePointer<Self>, y: UnsafeMutablePointer<Self>)
    /// Per-channel Σ dy and Σ dy·xhat (for the batch-norm backward pass).
    static func channelDot(_ dy: UnsafePointer<Self>, _ xhat: UnsafePointer<Self>, n: Int, c: Int, hw: Int,
                           sumDy: UnsafeMutablePointer<Double>, sumDyXhat: UnsafeMutablePointer<Double>)
    /// x̂ = x·a[c] + d[c] and y = x̂·γ[c] + β[c] in one pass (batch-norm forward, train mode).
    static func batchNormForward(_ x: UnsafePointer<Self>, n: Int, c: Int, hw: Int, a: UnsafePointer<Self>,
                                 d: UnsafePointer<Self>, gamma: UnsafePointer<Self>, beta: UnsafePointer<Self>,
                                 xhat: UnsafeMutablePointer<Self>, y: UnsafeMutablePointer<Self>)
    /// An array of `count` elements whose values are unspecified, for outputs that are
    /// overwritten entirely (saves the zero fill).
    static func uninitializedArray(count: Int) -> [Self]
    /// Winograd F(2×2, 3×3) transforms (see `Winograd`, `WinogradLanes`).
    static func winogradKernel(_ w: UnsafePointer<Self>, o: Int, c: Int, u: UnsafeMutablePointer<Self>)
    static func winogradKernelAdjoint(_ du: UnsafePointer<Self>, o: Int, c: Int, dw: UnsafeMutablePointer<Self>)
    static func winogradInput(_ x: UnsafePointer<Self>, n: Int, c: Int, h: Int, w: Int, v: UnsafeMutablePointer<Self>, ld: Int,
                              ks: Int, work: UnsafeMutablePointer<Self>)
    static func winogradOutput(_ m: UnsafePointer<Self>, ld: Int, ks: Int, n: Int, o: Int, h: Int, w: Int, bias: UnsafePointer<Self>,
                               y: UnsafeMutablePointer<Self>, work: UnsafeMutablePointer<Self>)
    static func winogradOutputAdjoint(_ dy: UnsafePointer<Self>, n: Int, o: Int, h: Int, w: Int, dm: UnsafeMutablePointer<Self>, ld: Int,
                                      ks: Int, work: UnsafeMutablePointer<Self>)
    static func winogradInputAdjoint(_ dv: UnsafePointer<Self>, ld: Int, ks: Int, n: Int, c: Int, h: Int, w: Int,
                                     dx: UnsafeMutablePointer<Self>, work: UnsafeMutablePointer<Self>)
    /// dx = a[c]·dy + b[c]·xhat + d[c] per channel (batch-norm backward, train mode).
    static func channelCombine(_ dy: UnsafePointer<Self>, _ xhat: UnsafePointer<Self>, n: Int, c: Int, hw: Int,
                               a: UnsafePointer<Self>, b: UnsafePointer<Self>, d: UnsafePointer<Self>,
                               dx: UnsafeMutablePointer<Self>)
}

enum ImageKernels {
    static func im2col<T: BinaryFloatingPoint>(_ x: UnsafePointer<T>, n: Int, c: Int, h: Int, w: Int, kh: Int, kw: Int,
                                               stride s: Int, padding p: Int, ho: Int, wo: Int,
                                               col: UnsafeMutablePointer<T>) {
        if s == 1 && ho == h && wo == w {
            sameIm2col(x, n: n, c: c, h: h, w: w, kh: kh, kw: kw, padding: p, col: col)
            return
        }
        let positions = n * ho * wo
        for ch in 0..<c {
            for i in 0..<kh {
                for j in 0..<kw {
                    var dst = col + ((ch * kh + i) * kw + j) * positions
                    // Stride 1: output columns lo..<hi read the contiguous span row[ow − p + j]; the
                    // margins are zero. Plain loops (rows are short: a memmove call per row costs
                    // more than the copy).
                    let lo = min(max(0, p - j), wo), hi = max(lo, min(wo, w + p - j))
                    for b in 0..<n {
                        let plane = x + (b * c + ch) * h * w
                        for oh in 0..<ho {
                            let ih = oh * s - p + i
                            if ih < 0 || ih >= h {
                                for t in 0..<wo { dst[t] = 0 }
                            } else {
                                let row = plane + ih * w
                                if s == 1 {
                                    for t in 0..<lo { dst[t] = 0 }
                                    copySpan(row + (lo - p + j), dst + lo, hi - lo)
                                    for t in hi..<wo { dst[t] = 0 }
                                } else {
                                    for ow in 0..<wo {
                                        let iw = ow * s - p + j
                                        dst[ow] = (iw >= 0 && iw < w) ? row[iw] : 0
                                    }
                                }
                            }
                            dst += wo
                        }
                    }
                }
            }
        }
    }

    /// `im2col` for stride 1 and "same" padding (output size = input size). Row-major, the tap
    /// (i, j) reads the plane shifted by one constant offset (i − p)·w + (j − p), so each sample's
    /// block is one contiguous copy; afterwards the rows outside the image and the |j − p|
    /// margin columns (which the copy filled from the neighbouring row) are zeroed.
    static func sameIm2col<T: BinaryFloatingPoint>(_ x: UnsafePointer<T>, n: Int, c: Int, h: Int, w: Int, kh: Int, kw: Int,
                                                   padding p: Int, col: UnsafeMutablePointer<T>) {
        let q = h * w, positions = n * q, size = MemoryLayout<T>.stride
        for ch in 0..<c {
            for i in 0..<kh {
                let di = i - p
                let rowLo = max(0, -di), rowHi = max(rowLo, min(h, h - di))
                for j in 0..<kw {
                    let dj = j - p
                    let shift = di * w + dj
                    // Output positions whose source index lies inside the plane.
                    let first = max(rowLo * w, -shift), last = min(rowHi * w, q - shift)
                    var dst = col + ((ch * kh + i) * kw + j) * positions
                    for b in 0..<n {
                        let plane = x + (b * c + ch) * q
                        for t in 0..<first { dst[t] = 0 }
                        if last > first {
                            UnsafeMutableRawPointer(dst + first).copyMemory(from: plane + (first + shift), byteCount: (last - first) * size)
                        }
                        for t in max(first, last)..<q { dst[t] = 0 }
                        if dj != 0 {
                            let lo = dj < 0 ? 0 : w - dj, hi = dj < 0 ? -dj : w
                            for r in rowLo..<rowHi {
                                for t in lo..<hi { dst[r * w + t] = 0 }
                            }
                        }
                        dst += q
                    }
                }
            }
        }
    }

    /// dst[0..<n] = src[0..<n] for short spans (eight lanes at a time for Float).
    @inline(__always)
    static func copySpan<T: BinaryFloatingPoint>(_ src: UnsafePointer<T>, _ dst: UnsafeMutablePointer<T>, _ n: Int) {
        var t = 0
        if T.self == Float.self {
            let s = UnsafeRawPointer(src), d = UnsafeMutableRawPointer(dst)
            while t + 8 <= n {
                d.storeBytes(of: s.loadUnaligned(fromByteOffset: 4 * t, as: SIMD8<Float>.self), toByteOffset: 4 * t, as: SIMD8<Float>.self)
                t += 8
            }
            if t + 4 <= n {
                d.storeBytes(of: s.loadUnaligned(fromByteOffset: 4 * t, as: SIMD4<Float>.self), toByteOffset: 4 * t, as: SIMD4<Float>.self)
                t += 4
            }
        }
        while t < n { dst[t] = src[t]; t += 1 }
    }

    static func col2im<T: BinaryFloatingPoint>(_ col: UnsafePointer<T>, n: Int, c: Int, h: Int, w: Int, kh: Int, kw: Int,
                                               stride s: Int, padding p: Int, ho: Int, wo: Int,
                                               x: UnsafeMutablePointer<T>) {
        let positions = n * ho * wo
        for ch in 0..<c {
            for i in 0..<kh {
                for j in 0..<kw {
                    var src = col + ((ch * kh + i) * kw + j) * positions
                    for b in 0..<n {
                        let plane = x + (b * c + ch) * h * w
                        for oh in 0..<ho {
                            let ih = oh * s - p + i
                            if ih >= 0 && ih < h {
                                let row = plane + ih * w
                                if s == 1 {
                                    let lo = min(max(0, p - j), wo), hi = min(wo, w + p - j)
                                    if hi > lo {
                                        let r = row + (lo - p + j), q = src + lo
                                        for t in 0..<(hi - lo) { r[t] += q[t] }
                                    }
                                } else {
                                    for ow in 0..<wo {
                                        let iw = ow * s - p + j
                                        if iw >= 0 && iw < w { row[iw] += src[ow] }
                                    }
                                }
                            }
                            src += wo
                        }
                    }
                }
            }
        }
    }

    static func maxPool<T: BinaryFloatingPoint>(_ x: UnsafePointer<T>, planes: Int, h: Int, w: Int, k: Int, stride s: Int,
                                                padding p: Int, ho: Int, wo: Int, y: UnsafeMutablePointer<T>,
                                                argmax: UnsafeMutablePointer<Int32>) {
        if k == 2 && s == 2 && p == 0 {
            // The common 2×2/2 window: four loads, no bounds checks.
            for q in 0..<planes {
                let plane = x + q * h * w
                for oh in 0..<ho {
                    let r0 = 2 * oh * w, r1 = r0 + w
                    for ow in 0..<wo {
                        var at = r0 + 2 * ow
                        var best = plane[at]
                        if plane[at + 1] > best { best = plane[at + 1]; at += 1 }
                        let c = r1 + 2 * ow
                        if plane[c] > best { best = plane[c]; at = c }
                        if plane[c + 1] > best { best = plane[c + 1]; at = c + 1 }
                        let o = (q * ho + oh) * wo + ow
                        y[o] = best
                        argmax[o] = Int32(at)
                    }
                }
            }
            return
        }
        for q in 0..<planes {
            let plane = x + q * h * w
            for oh in 0..<ho {
                for ow in 0..<wo {
                    var best = -T.infinity
                    var at: Int32 = -1
                    for i in 0..<k {
                        let ih = oh * s - p + i
                        if ih < 0 || ih >= h { continue }
                        for j in 0..<k {
                            let iw = ow * s - p + j
                            if iw < 0 || iw >= w { continue }
                            let v = plane[ih * w + iw]
                            if v > best || at < 0 { best = v; at = Int32(ih * w + iw) }
                        }
                    }
                    let o = (q * ho + oh) * wo + ow
                    y[o] = best
                    argmax[o] = at
                }
            }
        }
    }

    static func maxPoolBackward<T: BinaryFloatingPoint>(_ dy: UnsafePointer<T>, argmax: UnsafePointer<Int32>, count: Int,
                                                        planeIn: Int, planeOut: Int, dx: UnsafeMutablePointer<T>) {
        // Plane by plane (no division per element).
        var o = 0, base = 0
        while o < count {
            let end = min(count, o + planeOut)
            let d = dx + base
            while o < end {
                let a = argmax[o]
                if a >= 0 { d[Int(a)] += dy[o] }
                o += 1
            }
            base += planeIn
        }
    }

    static func avgPool<T: BinaryFloatingPoint>(_ x: UnsafePointer<T>, planes: Int, h: Int, w: Int, k: Int, stride s: Int,
                                                padding p: Int, ho: Int, wo: Int, y: UnsafeMutablePointer<T>) {
        let inv = 1 / T(k * k)
        for q in 0..<planes {
            let plane = x + q * h * w
            for oh in 0..<ho {
                for ow in 0..<wo {
                    var sum: T = 0
                    for i in 0..<k {
                        let ih = oh * s - p + i
                        if ih < 0 || ih >= h { continue }
                        for j in 0..<k {
                            let iw = ow * s - p + j
                            if iw >= 0 && iw < w { sum += plane[ih * w + iw] }
                        }
                    }
                    y[(q * ho + oh) * wo + ow] = sum * inv
                }
            }
        }
    }

    static func avgPoolBackward<T: BinaryFloatingPoint>(_ dy: UnsafePointer<T>, planes: Int, h: Int, w: Int, k: Int,
                                                        stride s: Int, padding p: Int, ho: Int, wo: Int,
                                                        dx: UnsafeMutablePointer<T>) {
        let inv = 1 / T(k * k)
        for q in 0..<planes {
            let plane = dx + q * h * w
            for oh in 0..<ho {
                for ow in 0..<wo {
                    let g = dy[(q * ho + oh) * wo + ow] * inv
                    for i in 0..<k {
                        let ih = oh * s - p + i
                        if ih < 0 || ih >= h { continue }
                        for j in 0..<k {
                            let iw = ow * s - p + j
                            if iw >= 0 && iw < w { plane[ih * w + iw] += g }
                        }
                    }
                }
            }
        }
    }

    static func channelMoments<T: BinaryFloatingPoint>(_ x: UnsafePointer<T>, n: Int, c: Int, hw: Int,
                                                       sum: UnsafeMutablePointer<Double>,
                                                       sumSquares: UnsafeMutablePointer<Double>) {
        for ch in 0..<c { sum[ch] = 0; sumSquares[ch] = 0 }
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

    static func channelAffine<T: BinaryFloatingPoint>(_ x: UnsafePointer<T>, n: Int, c: Int, hw: Int,
                                                      scale: UnsafePointer<T>, shift: UnsafePointer<T>,
                                                      y: UnsafeMutablePointer<T>) {
        for b in 0..<n {
            for ch in 0..<c {
                let o = (b * c + ch) * hw
                let a = scale[ch], d = shift[ch]
                for i in 0..<hw { y[o + i] = x[o + i] * a + d }
            }
        }
    }

    static func batchNormForward<T: BinaryFloatingPoint>(_ x: UnsafePointer<T>, n: Int, c: Int, hw: Int,
                                                         a: UnsafePointer<T>, d: UnsafePointer<T>, gamma: UnsafePointer<T>,
                                                         beta: UnsafePointer<T>, xhat: UnsafeMutablePointer<T>,
                                                         y: UnsafeMutablePointer<T>) {
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

    static func channelDot<T: BinaryFloatingPoint>(_ dy: UnsafePointer<T>, _ xhat: UnsafePointer<T>, n: Int, c: Int, hw: Int,
                                                   sumDy: UnsafeMutablePointer<Double>,
                                                   sumDyXhat: UnsafeMutablePointer<Double>) {
        for ch in 0..<c { sumDy[ch] = 0; sumDyXhat[ch] = 0 }
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

    static func channelCombine<T: BinaryFloatingPoint>(_ dy: UnsafePointer<T>, _ xhat: UnsafePointer<T>, n: Int, c: Int,
                                                       hw: Int, a: UnsafePointer<T>, b bb: UnsafePointer<T>,
                                                       d: UnsafePointer<T>, dx: UnsafeMutablePointer<T>) {
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

extension Float: ImageScalar {
    public static func winogradKernel(_ w: UnsafePointer<Float>, o: Int, c: Int, u: UnsafeMutablePointer<Float>) {
        Winograd.kernelTransform(w, o: o, c: c, u: u)
    }
    public static func winogradKernelAdjoint(_ du: UnsafePointer<Float>, o: Int, c: Int, dw: UnsafeMutablePointer<Float>) {
        Winograd.kernelTransformAdjoint(du, o: o, c: c, dw: dw)
    }
    public static func winogradInput(_ x: UnsafePointer<Float>, n: Int, c: Int, h: Int, w: Int, v: UnsafeMutablePointer<Float>, ld: Int,
                                     ks: Int, work: UnsafeMutablePointer<Float>) {
        WinogradLanes<Float>.input(x, n: n, c: c, h: h, w: w, v: v, ld: ld, ks: ks, work: work)
    }
    public static func winogradOutput(_ m: UnsafePointer<Float>, ld: Int, ks: Int, n: Int, o: Int, h: Int, w: Int, bias: UnsafePointer<Float>,
                                      y: UnsafeMutablePointer<Float>, work: UnsafeMutablePointer<Float>) {
        WinogradLanes<Float>.output(m, ld: ld, ks: ks, n: n, o: o, h: h, w: w, bias: bias, y: y, work: work)
    }
    public static func winogradOutputAdjoint(_ dy: UnsafePointer<Float>, n: Int, o: Int, h: Int, w: Int, dm: UnsafeMutablePointer<Float>, ld: Int,
                                             ks: Int, work: UnsafeMutablePointer<Float>) {
        WinogradLanes<Float>.outputAdjoint(dy, n: n, o: o, h: h, w: w, dm: dm, ld: ld, ks: ks, work: work)
    }
    public static func winogradInputAdjoint(_ dv: UnsafePointer<Float>, ld: Int, ks: Int, n: Int, c: Int, h: Int, w: Int,
                                            dx: UnsafeMutablePointer<Float>, work: UnsafeMutablePointer<Float>) {
        WinogradLanes<Float>.inputAdjoint(dv, ld: ld, ks: ks, n: n, c: c, h: h, w: w, dx: dx, work: work)
    }
    public static func uninitializedArray(count: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
    }
    public static func batchNormForward(_ x: UnsafePointer<Float>, n: Int, c: Int, hw: Int, a: UnsafePointer<Float>,
                                        d: UnsafePointer<Float>, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
                                        xhat: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>) {
        ImageKernels.batchNormForward(x, n: n, c: c, hw: hw, a: a, d: d, gamma: gamma, beta: beta, xhat: xhat, y: y)
    }
    public static func im2col(_ x: UnsafePointer<Float>, n: Int, c: Int, h: Int, w: Int, kh: Int, kw: Int,
                              stride: Int, padding: Int, ho: Int, wo: Int, col: UnsafeMutablePointer<Float>) {
        ImageKernels.im2col(x, n: n, c: c, h: h, w: w, kh: kh, kw: kw, stride: stride, padding: padding, ho: ho, wo: wo, col: col)
    }
    public static func col2im(_ col: UnsafePointer<Float>, n: Int, c: Int, h: Int, w: Int, kh: Int, kw: Int,
                              stride: Int, padding: Int, ho: Int, wo: Int, x: UnsafeMutablePointer<Float>) {
        ImageKernels.col2im(col, n: n, c: c, h: h, w: w, kh: kh, kw: kw, stride: stride, padding: padding, ho: ho, wo: wo, x: x)
    }
    public static func maxPool(_ x: UnsafePointer<Float>, planes: Int, h: Int, w: Int, k: Int, stride: Int, padding: Int,
                               ho: Int, wo: Int, y: UnsafeMutablePointer<Float>, argmax: UnsafeMutablePointer<Int32>) {
        ImageKernels.maxPool(x, planes: planes, h: h, w: w, k: k, stride: stride, padding: padding, ho: ho, wo: wo, y: y, argmax: argmax)
    }
    public static func maxPoolBackward(_ dy: UnsafePointer<Float>, argmax: UnsafePointer<Int32>, count: Int,
                                       planeIn: Int, planeOut: Int, dx: UnsafeMutablePointer<Float>) {
        ImageKernels.maxPoolBackward(dy, argmax: argmax, count: count, planeIn: planeIn, planeOut: planeOut, dx: dx)
    }
    public static func avgPool(_ x: UnsafePointer<Float>, planes: Int, h: Int, w: Int, k: Int, stride: Int, padding: Int,
                               ho: Int, wo: Int, y: UnsafeMutablePointer<Float>) {
        ImageKernels.avgPool(x, planes: planes, h: h, w: w, k: k, stride: stride, padding: padding, ho: ho, wo: wo, y: y)
    }
    public static func avgPoolBackward(_ dy: UnsafePointer<Float>, planes: Int, h: Int, w: Int, k: Int, stride: Int,
                                       padding: Int, ho: Int, wo: Int, dx: UnsafeMutablePointer<Float>) {
        ImageKernels.avgPoolBackward(dy, planes: planes, h: h, w: w, k: k, stride: stride, padding: padding, ho: ho, wo: wo, dx: dx)
    }
    public static func channelMoments(_ x: UnsafePointer<Float>, n: Int, c: Int, hw: Int,
                                      sum: UnsafeMutablePointer<Double>, sumSquares: UnsafeMutablePointer<Double>) {
        ImageKernels.channelMoments(x, n: n, c: c, hw: hw, sum: sum, sumSquares: sumSquares)
    }
    public static func channelAffine(_ x: UnsafePointer<Float>, n: Int, c: Int, hw: Int, scale: UnsafePointer<Float>,
                                     shift: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        ImageKernels.channelAffine(x, n: n, c: c, hw: hw, scale: scale, shift: shift, y: y)
    }
    public static func channelDot(_ dy: UnsafePointer<Float>, _ xhat: UnsafePointer<Float>, n: Int, c: Int, hw: Int,
                                  sumDy: UnsafeMutablePointer<Double>, sumDyXhat: UnsafeMutablePointer<Double>) {
        ImageKernels.channelDot(dy, xhat, n: n, c: c, hw: hw, sumDy: sumDy, sumDyXhat: sumDyXhat)
    }
    public static func channelCombine(_ dy: UnsafePointer<Float>, _ xhat: UnsafePointer<Float>, n: Int, c: Int, hw: Int,
                                      a: UnsafePointer<Float>, b: UnsafePointer<Float>, d: UnsafePointer<Float>,
                                      dx: UnsafeMutablePointer<Float>) {
        ImageKernels.channelCombine(dy, xhat, n: n, c: c, hw: hw, a: a, b: b, d: d, dx: dx)
    }
}

extension Double: ImageScalar {
    public static func winogradKernel(_ w: UnsafePointer<Double>, o: Int, c: Int, u: UnsafeMutablePointer<Double>) {
        Winograd.kernelTransform(w, o: o, c: c, u: u)
    }
    public static func winogradKernelAdjoint(_ du: UnsafePointer<Double>, o: Int, c: Int, dw: UnsafeMutablePointer<Double>) {
        Winograd.kernelTransformAdjoint(du, o: o, c: c, dw: dw)
    }
    public static func winogradInput(_ x: UnsafePointer<Double>, n: Int, c: Int, h: Int, w: Int, v: UnsafeMutablePointer<Double>, ld: Int,
                                     ks: Int, work: UnsafeMutablePointer<Double>) {
        WinogradLanes<Double>.input(x, n: n, c: c, h: h, w: w, v: v, ld: ld, ks: ks, work: work)
    }
    public static func winogradOutput(_ m: UnsafePointer<Double>, ld: Int, ks: Int, n: Int, o: Int, h: Int, w: Int, bias: UnsafePointer<Double>,
                                      y: UnsafeMutablePointer<Double>, work: UnsafeMutablePointer<Double>) {
        WinogradLanes<Double>.output(m, ld: ld, ks: ks, n: n, o: o, h: h, w: w, bias: bias, y: y, work: work)
    }
    public static func winogradOutputAdjoint(_ dy: UnsafePointer<Double>, n: Int, o: Int, h: Int, w: Int, dm: UnsafeMutablePointer<Double>, ld: Int,
                                             ks: Int, work: UnsafeMutablePointer<Double>) {
        WinogradLanes<Double>.outputAdjoint(dy, n: n, o: o, h: h, w: w, dm: dm, ld: ld, ks: ks, work: work)
    }
    public static func winogradInputAdjoint(_ dv: UnsafePointer<Double>, ld: Int, ks: Int, n: Int, c: Int, h: Int, w: Int,
                                            dx: UnsafeMutablePointer<Double>, work: UnsafeMutablePointer<Double>) {
        WinogradLanes<Double>.inputAdjoint(dv, ld: ld, ks: ks, n: n, c: c, h: h, w: w, dx: dx, work: work)
    }
    public static func uninitializedArray(count: Int) -> [Double] {
        [Double](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
    }
    public static func batchNormForward(_ x: UnsafePointer<Double>, n: Int, c: Int, hw: Int, a: UnsafePointer<Double>,
                                        d: UnsafePointer<Double>, gamma: UnsafePointer<Double>, beta: UnsafePointer<Double>,
                                        xhat: UnsafeMutablePointer<Double>, y: UnsafeMutablePointer<Double>) {
        ImageKernels.batchNormForward(x, n: n, c: c, hw: hw, a: a, d: d, gamma: gamma, beta: beta, xhat: xhat, y: y)
    }
    public static func im2col(_ x: UnsafePointer<Double>, n: Int, c: Int, h: Int, w: Int, kh: Int, kw: Int,
                              stride: Int, padding: Int, ho: Int, wo: Int, col: UnsafeMutablePointer<Double>) {
        ImageKernels.im2col(x, n: n, c: c, h: h, w: w, kh: kh, kw: kw, stride: stride, padding: padding, ho: ho, wo: wo, col: col)
    }
    public static func col2im(_ col: UnsafePointer<Double>, n: Int, c: Int, h: Int, w: Int, kh: Int, kw: Int,
                              stride: Int, padding: Int, ho: Int, wo: Int, x: UnsafeMutablePointer<Double>) {
        ImageKernels.col2im(col, n: n, c: c, h: h, w: w, kh: kh, kw: kw, stride: stride, padding: padding, ho: ho, wo: wo, x: x)
    }
    public static func maxPool(_ x: UnsafePointer<Double>, planes: Int, h: Int, w: Int, k: Int, stride: Int, padding: Int,
                               ho: Int, wo: Int, y: UnsafeMutablePointer<Double>, argmax: UnsafeMutablePointer<Int32>) {
        ImageKernels.maxPool(x, planes: planes, h: h, w: w, k: k, stride: stride, padding: padding, ho: ho, wo: wo, y: y, argmax: argmax)
    }
    public static func maxPoolBackward(_ dy: UnsafePointer<Double>, argmax: UnsafePointer<Int32>, count: Int,
                                       planeIn: Int, planeOut: Int, dx: UnsafeMutablePointer<Double>) {
        ImageKernels.maxPoolBackward(dy, argmax: argmax, count: count, planeIn: planeIn, planeOut: planeOut, dx: dx)
    }
    public static func avgPool(_ x: UnsafePointer<Double>, planes: Int, h: Int, w: Int, k: Int, stride: Int, padding: Int,
                               ho: Int, wo: Int, y: UnsafeMutablePointer<Double>) {
        ImageKernels.avgPool(x, planes: planes, h: h, w: w, k: k, stride: stride, padding: padding, ho: ho, wo: wo, y: y)
    }
    public static func avgPoolBackward(_ dy: UnsafePointer<Double>, planes: Int, h: Int, w: Int, k: Int, stride: Int,
                                       padding: Int, ho: Int, wo: Int, dx: UnsafeMutablePointer<Double>) {
        ImageKernels.avgPoolBackward(dy, planes: planes, h: h, w: w, k: k, stride: stride, padding: padding, ho: ho, wo: wo, dx: dx)
    }
    public static func channelMoments(_ x: UnsafePointer<Double>, n: Int, c: Int, hw: Int,
                                      sum: UnsafeMutablePointer<Double>, sumSquares: UnsafeMutablePointer<Double>) {
        ImageKernels.channelMoments(x, n: n, c: c, hw: hw, sum: sum, sumSquares: sumSquares)
    }
    public static func channelAffine(_ x: UnsafePointer<Double>, n: Int, c: Int, hw: Int, scale: UnsafePointer<Double>,
                                     shift: UnsafePointer<Double>, y: UnsafeMutablePointer<Double>) {
        ImageKernels.channelAffine(x, n: n, c: c, hw: hw, scale: scale, shift: shift, y: y)
    }
    public static func channelDot(_ dy: UnsafePointer<Double>, _ xhat: UnsafePointer<Double>, n: Int, c: Int, hw: Int,
                                  sumDy: UnsafeMutablePointer<Double>, sumDyXhat: UnsafeMutablePointer<Double>) {
        ImageKernels.channelDot(dy, xhat, n: n, c: c, hw: hw, sumDy: sumDy, sumDyXhat: sumDyXhat)
    }
    public static func channelCombine(_ dy: UnsafePointer<Double>, _ xhat: UnsafePointer<Double>, n: Int, c: Int, hw: Int,
                                      a: UnsafePointer<Double>, b: UnsafePointer<Double>, d: UnsafePointer<Double>,
                                      dx: UnsafeMutablePointer<Double>) {
        ImageKernels.channelCombine(dy, xhat, n: n, c: c, hw: hw, a: a, b: b, d: d, dx: dx)
    }
}
