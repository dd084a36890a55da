/// Winograd's minimal filtering F(2×2, 3×3) (Lavin & Gray 2016, "Fast algorithms for
/// convolutional neural networks") for 3×3, stride-1, padding-1 convolutions of even-sized planes.
///
/// Each 2×2 output tile is Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A, where d is the 4×4 input tile (two
/// pixels of overlap with its neighbours, zero outside the image) and g the 3×3 kernel:
///
///     Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1],  G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1],
///     Aᵀ = [1 1 1 0; 0 1 −1 −1].
///
/// Summed over input channels, the element-wise products become 16 matrix products, one per
/// position k = 4ξ + ν of the 4×4 transformed tile: M_k [O, T] = U_k [O, C] · V_k [C, T] over
/// the T tiles of a chunk of samples. That is 16·2·O·C multiply-adds per tile (4 outputs)
/// against 9·2·O·C·4 for im2col: 2.25× fewer. The backward pass runs the adjoints of the same
/// linear maps: dM = A dY Aᵀ per tile, dU_k = dM_k V_kᵀ, dg = Gᵀ dU G, dV_k = U_kᵀ dM_k and
/// dx = the overlapping sum of B dV Bᵀ, so the gradients are exact for the computed forward.
///
/// Layouts: U `[16, O, C]`; V, M, dM, dV: 16 planes `[C or O, T]`, `ks` elements apart (a plane
/// and its `planeSlack`), with tiles ordered (sample, tile row, tile column). The transforms walk eight tiles of a tile row at once: a 16-wide load of a
/// combined row splits into its even and odd columns (the tile's columns 0/2 and 1/3).
enum Winograd {
    /// Eight-tile blocks of a tile row of `tilesPerRow` tiles.
    @inline(__always) static func blocks(_ tilesPerRow: Int) -> Int { (tilesPerRow + 7) / 8 }

    /// Tiles per plane. They are stored without padding: the eight-lane stores of a short last
    /// block spill into the next tiles, which are written after them, or into the slack of
    /// `planeSlack` elements after each of the 16 planes.
    @inline(__always) static func tiles(h: Int, w: Int) -> Int { (h / 2) * (w / 2) }

    /// Elements after each transformed plane [C or O, ld] that the spilled lanes may touch.
    static let planeSlack = 8

    /// Work elements the transforms of one part need.
    static func workSize(h: Int, w: Int) -> Int { (5 * h + 2) * paddedWidth(tilesPerRow: w / 2) + 8 }

    /// Width of the zero-padded work rows: one column of padding on the left, the plane, and
    /// enough on the right for the 16-wide loads at offset 16·block + 2.
    @inline(__always) static func paddedWidth(tilesPerRow tw: Int) -> Int { 16 * blocks(tw) + 24 }

    /// U[k, o, c] = (G g[o, c] Gᵀ)[k] for weights `[O, C, 3, 3]`; planes of U are `o·c` apart.
    @specialized(where T == Float)
    @specialized(where T == Double)
    static func kernelTransform<T: BinaryFloatingPoint>(_ w: UnsafePointer<T>, o: Int, c: Int, u: UnsafeMutablePointer<T>) {
        let half: T = 0.5, stride = o * c
        for oc in 0..<stride {
            let g = w + oc * 9
            for i in 0..<4 {
                // Row i of G g (a combination of the kernel's rows), then that row times Gᵀ.
                @inline(__always) func t(_ j: Int) -> T {
                    switch i {
                    case 0: return g[j]
                    case 1: return half * (g[j] + g[3 + j] + g[6 + j])
                    case 2: return half * (g[j] - g[3 + j] + g[6 + j])
                    default: return g[6 + j]
                    }
                }
                let a = t(0), b = t(1), cc = t(2)
                u[(4 * i) * stride + oc] = a
                u[(4 * i + 1) * stride + oc] = half * (a + b + cc)
                u[(4 * i + 2) * stride + oc] = half * (a - b + cc)
                u[(4 * i + 3) * stride + oc] = cc
            }
        }
    }

    /// dw[o, c] += Gᵀ dU[·, o, c] G (the adjoint of `kernelTransform`).
    @specialized(where T == Float)
    @specialized(where T == Double)
    static func kernelTransformAdjoint<T: BinaryFloatingPoint>(_ du: UnsafePointer<T>, o: Int, c: Int, dw: UnsafeMutablePointer<T>) {
        let half: T = 0.5, stride = o * c
        for oc in 0..<stride {
            // s_i = (row i of dU) G, then dg = Gᵀ s: dg rows are s0 + ½(s1 + s2), ½(s1 − s2), ½(s1 + s2) + s3.
            @inline(__always) func s(_ i: Int, _ j: Int) -> T {
                let d0 = du[(4 * i) * stride + oc], d1 = du[(4 * i + 1) * stride + oc]
                let d2 = du[(4 * i + 2) * stride + oc], d3 = du[(4 * i + 3) * stride + oc]
                switch j {
                case 0: return d0 + half * (d1 + d2)
                case 1: return half * (d1 - d2)
                default: return half * (d1 + d2) + d3
                }
            }
            let g = dw + oc * 9
            for j in 0..<3 {
                let s0 = s(0, j), s1 = s(1, j), s2 = s(2, j), s3 = s(3, j)
                g[j] += s0 + half * (s1 + s2)
                g[3 + j] += half * (s1 - s2)
                g[6 + j] += half * (s1 + s2) + s3
            }
        }
    }
}

/// The per-tile transforms on SIMD lanes, written once for any SIMD-capable float type.
enum WinogradLanes<T: BinaryFloatingPoint & SIMDScalar> {
    typealias V8 = SIMD8<T>
    typealias V16 = SIMD16<T>

    @inline(__always) static func load8(_ p: UnsafePointer<T>) -> V8 {
        UnsafeRawPointer(p).loadUnaligned(as: V8.self)
    }

    @inline(__always) static func store8(_ v: V8, _ p: UnsafeMutablePointer<T>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: V8.self)
    }

    @inline(__always) static func store16(_ v: V16, _ p: UnsafeMutablePointer<T>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: V16.self)
    }

    @inline(__always) static func load16(_ p: UnsafePointer<T>) -> V16 {
        UnsafeRawPointer(p).loadUnaligned(as: V16.self)
    }

    @inline(__always) static func interleave(_ even: V8, _ odd: V8) -> V16 {
        var v = V16()
        v.evenHalf = even
        v.oddHalf = odd
        return v
    }

    // Every transform works a whole plane at a time through `work`: the passes that store a
    // buffer and the passes that load it at a different offset or width are far apart, so no
    // load waits on a store it only partly overlaps (a store-forwarding stall that, measured,
    // took two thirds of the time when rows were built and read back tile row by tile row).

    /// V[k, ch, tile] for `n` samples of `x [n, c, h, w]` (h, w even); `v` has `ld` tiles per row
    /// (≥ n·tiles). `work` holds `Winograd.workSize` elements.
    @specialized(where T == Float)
    @specialized(where T == Double)
    static func input(_ x: UnsafePointer<T>, n: Int, c: Int, h: Int, w: Int, v: UnsafeMutablePointer<T>, ld: Int, ks: Int,
                      work: UnsafeMutablePointer<T>) {
        let (th, tw) = (h / 2, w / 2), tiles = Winograd.tiles(h: h, w: w)
        let wp = Winograd.paddedWidth(tilesPerRow: tw)
        let plane = work, rows = work + (h + 2) * wp
        plane.update(repeating: 0, count: (h + 2) * wp)
        // Channel outer, sample inner: each of the 16 planes of V is then written in order.
        for ch in 0..<c {
            for b in 0..<n {
                let src = x + (b * c + ch) * h * w
                for r in 0..<h { (plane + (r + 1) * wp + 1).update(from: src + r * w, count: w) }
                // Rows of Bᵀ d for every tile row: t0 = r0 − r2, t1 = r1 + r2, t2 = r2 − r1, t3 = r1 − r3.
                for ty in 0..<th {
                    let r0 = plane + 2 * ty * wp, r1 = r0 + wp, r2 = r1 + wp, r3 = r2 + wp
                    let t = rows + 4 * ty * wp
                    for col in stride(from: 0, to: wp, by: 8) {
                        let a0 = load8(r0 + col), a1 = load8(r1 + col), a2 = load8(r2 + col), a3 = load8(r3 + col)
                        store8(a0 - a2, t + col)
                        store8(a1 + a2, t + wp + col)
                        store8(a2 - a1, t + 2 * wp + col)
                        store8(a1 - a3, t + 3 * wp + col)
                    }
                }
                // Columns of (Bᵀ d) B, eight tiles at a time.
                let base = b * tiles
                for ty in 0..<th {
                    for blk in 0..<Winograd.blocks(tw) {
                        let tile = base + ty * tw + 8 * blk
                        for i in 0..<4 {
                            let row = rows + (4 * ty + i) * wp + 16 * blk
                            let a = load16(row), bb = load16(row + 2)
                            let e = a.evenHalf, o = a.oddHalf, en = bb.evenHalf, on = bb.oddHalf
                            let vt = v + ch * ld + tile
                            store8(e - en, vt + (4 * i) * ks)
                            store8(o + en, vt + (4 * i + 1) * ks)
                            store8(en - o, vt + (4 * i + 2) * ks)
                            store8(o - on, vt + (4 * i + 3) * ks)
                        }
                    }
                }
            }
        }
    }

    /// y[n, o, h, w] = Aᵀ M A + bias for the tiles of `m [16, o, ld]`.
    @specialized(where T == Float)
    @specialized(where T == Double)
    static func output(_ m: UnsafePointer<T>, ld: Int, ks: Int, n: Int, o: Int, h: Int, w: Int, bias: UnsafePointer<T>,
                       y: UnsafeMutablePointer<T>, work: UnsafeMutablePointer<T>) {
        let (th, tw) = (h / 2, w / 2), tiles = Winograd.tiles(h: h, w: w)
        let yw = 16 * Winograd.blocks(tw)   // full-width rows of the plane in `work`
        for oc in 0..<o {
            let bv = V8(repeating: bias[oc])
            for b in 0..<n {
                for ty in 0..<th {
                    for blk in 0..<Winograd.blocks(tw) {
                        let tile = b * tiles + ty * tw + 8 * blk
                        // Lanes past the row's last tile read the next tiles (or the slack): computed, never copied out.
                        @inline(__always) func at(_ k: Int) -> V8 { load8(m + k * ks + oc * ld + tile) }
                        // Rows of Aᵀ M (s0_j = m0j + m1j + m2j, s1_j = m1j − m2j − m3j), then columns of (Aᵀ M) A.
                        let a1 = at(4), a2 = at(8), b1 = at(5), b2 = at(9), c1 = at(6), c2 = at(10)
                        let s00 = at(0) + a1 + a2, s10 = a1 - a2 - at(12)
                        let s01 = at(1) + b1 + b2, s11 = b1 - b2 - at(13)
                        let s02 = at(2) + c1 + c2, s12 = c1 - c2 - at(14)
                        let s03 = at(3) + at(7) + at(11), s13 = at(7) - at(11) - at(15)
                        store16(interleave(s00 + s01 + s02 + bv, s01 - s02 - s03 + bv), work + 2 * ty * yw + 16 * blk)
                        store16(interleave(s10 + s11 + s12 + bv, s11 - s12 - s13 + bv), work + (2 * ty + 1) * yw + 16 * blk)
                    }
                }
                let dst = y + (b * o + oc) * h * w
                for r in 0..<h { (dst + r * w).update(from: work + r * yw, count: w) }
            }
        }
    }

    /// dM[k, o, tile] = (A dY Aᵀ)[k] for the 2×2 tiles of `dy [n, o, h, w]` (the adjoint of
    /// `output`). Lanes past a row's last tile compute zeros (the rows in `work` are zero past w),
    /// which the next tiles overwrite or which land in the slack.
    @specialized(where T == Float)
    @specialized(where T == Double)
    static func outputAdjoint(_ dy: UnsafePointer<T>, n: Int, o: Int, h: Int, w: Int, dm: UnsafeMutablePointer<T>, ld: Int, ks: Int,
                              work: UnsafeMutablePointer<T>) {
        let (th, tw) = (h / 2, w / 2), tiles = Winograd.tiles(h: h, w: w)
        let yw = 16 * Winograd.blocks(tw)
        work.update(repeating: 0, count: h * yw)
        for oc in 0..<o {
            for b in 0..<n {
                let src = dy + (b * o + oc) * h * w
                for r in 0..<h { (work + r * yw).update(from: src + r * w, count: w) }
                for ty in 0..<th {
                    for blk in 0..<Winograd.blocks(tw) {
                        let tile = b * tiles + ty * tw + 8 * blk
                        let top = load16(work + 2 * ty * yw + 16 * blk), bottom = load16(work + (2 * ty + 1) * yw + 16 * blk)
                        // Rows of A dY: r0 = d0, r1 = d0 + d1, r2 = d0 − d1, r3 = −d1; then the columns.
                        @inline(__always) func put(_ row: V16, _ i: Int) {
                            let e = row.evenHalf, od = row.oddHalf
                            let dt = dm + oc * ld + tile
                            store8(e, dt + (4 * i) * ks)
                            store8(e + od, dt + (4 * i + 1) * ks)
                            store8(e - od, dt + (4 * i + 2) * ks)
                            store8(-od, dt + (4 * i + 3) * ks)
                        }
                        put(top, 0)
                        put(top + bottom, 1)
                        put(top - bottom, 2)
                        put(-bottom, 3)
                    }
                }
            }
        }
    }

    /// dx[n, c, h, w] = Σ over tiles of B dV Bᵀ placed at the tile (the adjoint of `input`;
    /// dx is overwritten). `work` holds `Winograd.workSize` elements.
    @specialized(where T == Float)
    @specialized(where T == Double)
    static func inputAdjoint(_ dv: UnsafePointer<T>, ld: Int, ks: Int, n: Int, c: Int, h: Int, w: Int, dx: UnsafeMutablePointer<T>,
                             work: UnsafeMutablePointer<T>) {
        let (th, tw) = (h / 2, w / 2), tiles = Winograd.tiles(h: h, w: w)
        let lanes = V8(0, 1, 2, 3, 4, 5, 6, 7)
        let wp = Winograd.paddedWidth(tilesPerRow: tw)
        // plane: the padded dx plane; first/second: per tile row and i, the columns 0–1 and 2–3 of
        // each tile's dV Bᵀ, interleaved (second is placed two columns to the right when added).
        let plane = work, first = work + (h + 2) * wp, second = first + 4 * th * wp + 8
        first.update(repeating: 0, count: 8 * th * wp + 8)
        for ch in 0..<c {
            for b in 0..<n {
                for ty in 0..<th {
                    for blk in 0..<Winograd.blocks(tw) {
                        let tile = b * tiles + ty * tw + 8 * blk
                        // Lanes past the row's last tile hold the next tiles' dV: zeroed.
                        let outside = lanes .>= V8(repeating: T(tw - 8 * blk))
                        for i in 0..<4 {
                            let dt = dv + ch * ld + tile
                            var u0 = load8(dt + (4 * i) * ks), u1 = load8(dt + (4 * i + 1) * ks)
                            var u2 = load8(dt + (4 * i + 2) * ks), u3 = load8(dt + (4 * i + 3) * ks)
                            if tw - 8 * blk < 8 {
                                u0.replace(with: 0, where: outside); u1.replace(with: 0, where: outside)
                                u2.replace(with: 0, where: outside); u3.replace(with: 0, where: outside)
                            }
                            // Columns of dV Bᵀ: c0 = u0, c1 = u1 − u2 + u3, c2 = −u0 + u1 + u2, c3 = −u3.
                            let at = (4 * ty + i) * wp + 16 * blk
                            store16(interleave(u0, u1 - u2 + u3), first + at)
                            store16(interleave(u1 + u2 - u0, -u3), second + at)
                        }
                    }
                }
                // Rows of B (dV Bᵀ), added at rows 2·ty + 0…3 of the padded plane.
                plane.update(repeating: 0, count: (h + 2) * wp)
                for ty in 0..<th {
                    let q0 = plane + 2 * ty * wp, q1 = q0 + wp, q2 = q1 + wp, q3 = q2 + wp
                    let f = first + 4 * ty * wp, g = second + 4 * ty * wp
                    // second is read two columns to the left; its rows start with two zero columns
                    // of slack (g − 2 stays inside the buffer, and `first` ends in zeros).
                    for col in stride(from: 0, to: wp, by: 8) {
                        let a0 = load8(f + col) + load8(g + col - 2), a1 = load8(f + wp + col) + load8(g + wp + col - 2)
                        let a2 = load8(f + 2 * wp + col) + load8(g + 2 * wp + col - 2)
                        let a3 = load8(f + 3 * wp + col) + load8(g + 3 * wp + col - 2)
                        store8(load8(q0 + col) + a0, q0 + col)
                        store8(load8(q1 + col) + a1 - a2 + a3, q1 + col)
                        store8(load8(q2 + col) + a1 + a2 - a0, q2 + col)
                        store8(load8(q3 + col) - a3, q3 + col)
                    }
                }
                let dst = dx + (b * c + ch) * h * w
                for r in 0..<h { (dst + r * w).update(from: plane + (r + 1) * wp + 1, count: w) }
            }
        }
    }
}
