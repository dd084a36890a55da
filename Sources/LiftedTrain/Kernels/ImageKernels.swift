/// Per-element loops of the image layers (convolution, pooling, batch normalisation), written
/// once generically and compiled for `Float` and `Double` (`@specialized`), so generic layer code
/// pays one type check per buffer, never per element.
enum ImageKernels {
    /// dst[j, i, :] = src[i, j, :] for `src [a, b, p]` (block copies of `p` elements).
    /// Raw byte copies: generic code is not specialised across modules, and a typed
    /// `update(from:count:)` would then copy element by element through value witnesses.
    static func swapLeadingAxes<S>(_ src: UnsafePointer<S>, a: Int, b: Int, p: Int, into dst: UnsafeMutablePointer<S>) {
        let size = MemoryLayout<S>.stride
        let s = UnsafeRawPointer(src), d = UnsafeMutableRawPointer(dst)
        for i in 0..<a {
            for j in 0..<b { (d + (j * a + i) * p * size).copyMemory(from: s + (i * b + j) * p * size, byteCount: p * size) }
        }
    }

    /// Unfolds patches: `col[(c·kh + i)·kw + j, n·ho·wo + oh·wo + ow] = x[n, c, oh·s − p + i, ow·s − p + j]`
    /// (0 outside the image) for `n` samples of `x [n, c, h, w]`; `col` is `[c·kh·kw, n·ho·wo]`.
    @specialized(where T == Float)
    @specialized(where T == Double)
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
                    // Output columns lo..<hi read row[ow·s − p + j] inside the row (stride 1: a
                    // contiguous span); the margins are zero. Plain loops (rows are short: a memmove
                    // call per row costs more than the copy).
                    let (lo, hi) = insideColumns(wo: wo, w: w, stride: s, offset: j - p)
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
                                    for t in 0..<lo { dst[t] = 0 }
                                    let src = row + (lo * s - p + j)
                                    for t in 0..<(hi - lo) { dst[lo + t] = src[t * s] }
                                    for t in hi..<wo { dst[t] = 0 }
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
    @specialized(where T == Float)
    @specialized(where T == Double)
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

    /// The output columns lo..<hi whose input column ow·s + offset lies in 0..<w (lo ≤ hi, both
    /// in 0...wo): the window's tap at `offset` = j − p misses the padding exactly there.
    @inline(__always)
    static func insideColumns(wo: Int, w: Int, stride s: Int, offset: Int) -> (lo: Int, hi: Int) {
        // ⌈a / s⌉ for a ≥ 0 is (a + s − 1) / s; columns with ow·s + offset < 0 or ≥ w are outside.
        let lo = min(wo, offset >= 0 ? 0 : (-offset + s - 1) / s)
        let hi = w - offset <= 0 ? 0 : min(wo, (w - offset + s - 1) / s)
        return (lo, max(lo, hi))
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

    /// The adjoint of `im2col`: adds every column entry back to the pixel it came from
    /// (`x` is accumulated into, not overwritten).
    @specialized(where T == Float)
    @specialized(where T == Double)
    static func col2im<T: BinaryFloatingPoint>(_ col: UnsafePointer<T>, n: Int, c: Int, h: Int, w: Int, kh: Int, kw: Int,
                                               stride s: Int, padding p: Int, ho: Int, wo: Int,
                                               x: UnsafeMutablePointer<T>) {
        let positions = n * ho * wo
        for ch in 0..<c {
            for i in 0..<kh {
                for j in 0..<kw {
                    var src = col + ((ch * kh + i) * kw + j) * positions
                    let (lo, hi) = insideColumns(wo: wo, w: w, stride: s, offset: j - p)
                    for b in 0..<n {
                        let plane = x + (b * c + ch) * h * w
                        for oh in 0..<ho {
                            let ih = oh * s - p + i
                            if ih >= 0 && ih < h {
                                let row = plane + ih * w
                                let r = row + (lo * s - p + j), q = src + lo
                                if s == 1 {
                                    for t in 0..<(hi - lo) { r[t] += q[t] }
                                } else {
                                    for t in 0..<(hi - lo) { r[t * s] += q[t] }
                                }
                            }
                            src += wo
                        }
                    }
                }
            }
        }
    }

    /// Max pooling of `x [n·c, h, w]` into `y [n·c, ho, wo]`, recording the flat input index of
    /// each maximum in `argmax` (windows entirely in padding give −∞ and index −1).
    @specialized(where T == Float)
    @specialized(where T == Double)
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

    /// dx[argmax] += dy (dx zeroed by the caller).
    @specialized(where T == Float)
    @specialized(where T == Double)
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

    /// Average pooling (padding counted in the divisor, PyTorch's `count_include_pad=True`).
    @specialized(where T == Float)
    @specialized(where T == Double)
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

    /// The adjoint of `avgPool` (dx accumulated into).
    @specialized(where T == Float)
    @specialized(where T == Double)
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

    /// y[n, c, :] = x[n, c, :] · scale[c] + shift[c] (y may alias x).
    @specialized(where T == Float)
    @specialized(where T == Double)
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
}
