import Foundation
import LiftedTrain

/// Projected-gradient surfing (Song, Fan, Lafferty 2019, Algorithm 3.2), for generators
/// G(x) = φ(V relu(W_d … relu(W_1 x + b_1) … + b_d) + b_V) of dense layers with ReLU between
/// them and an optional element-wise output φ (identity — the paper's setting —, sigmoid or tanh).
///
/// For a fixed activation pattern G is φ(M x + c) on the polytope P = {x : s_ij (z_ij(x)) ≥ 0} of
/// the inputs with that pattern, where the pre-activations z_ij(x) = a_ijᵀx + β_ij are affine.
/// At each snapshot, starting from the previous minimiser x, the pieces searched are those whose
/// pattern differs from x's only in units with |z_ij(x)| < τ (the set S(x, θ, τ) of §3); when
/// 2^|S| exceeds `maxPieces`, only the units of smallest |z| are flipped (the rest keep x's
/// sign) so that at most `maxPieces` pieces are searched — reported per trial. Inside a piece,
/// projected gradient descent x ← Proj_P(x − η∇f(x)) with η from a backtracking (Armijo)
/// search started at 1/λ_max((AM)ᵀAM) (the exact 1/L of the convex quadratic when φ is the
/// identity); the projection onto P is Hildreth's dual coordinate ascent over the halfspaces
/// (the exact projection in the limit; stopped when every constraint holds to 1e-10), a piece
/// whose projection never becomes feasible is empty and skipped. The best piece (lowest f) wins.
/// θ_0 is handled as in `surfing` (Adam from the random start, the first budget of the schedule),
/// since Thm 3.1 makes f_0 benign; every later snapshot, the final one included, is one round of
/// the piece search. Runs trial by trial in Double (tractable for small k only, as the paper says).
/// x is not clipped to [−1, 1] in the piece search (the paper's analysis has no box).
public enum ProjectedSurfing {
    /// Refuses networks that are not dense ReLU networks with an element-wise output.
    public static func checkArchitecture(_ spec: ModelSpec) throws {
        let types = spec.layers.map(\.type)
        var i = 0, dense = 0
        while i < types.count {
            guard types[i] == "dense" else { break }
            dense += 1; i += 1
            if i < types.count && types[i] == "relu" && i + 1 < types.count && types[i + 1] == "dense" { i += 1 }
        }
        let tail = Array(types[i...])
        guard spec.inputShape.count == 1, dense >= 1, tail.count <= 1,
              tail.allSatisfy({ ["sigmoid", "tanh", "identity"].contains($0) }) else {
            throw ModelError("projected-gradient surfing needs a dense network with ReLU between the layers and an optional final sigmoid/tanh/identity (got \(types.joined(separator: ", ")))")
        }
    }
}

/// The dense ReLU network of one snapshot in Double, with the affine maps of its linear pieces.
struct PiecewiseLinearGenerator {
    let k: Int
    /// Hidden layers' weights [n_i, n_{i−1}] and biases, then the output layer's.
    var w: [[Double]] = [], b: [[Double]] = [], sizes: [Int] = []
    var output: ActivationKind = .identity

    init<Scalar>(_ net: Network<Scalar>) {
        k = net.inputSize
        sizes = [k]
        for l in net.layers {
            if let d = l as? Dense<Scalar> {
                w.append(Scalar.toDoubles(net.parameters[d.spec.name! + ".weight"]!.data))
                b.append(Scalar.toDoubles(net.parameters[d.spec.name! + ".bias"]!.data))
                sizes.append(d.outputSize)
            } else if let a = l as? Activation<Scalar>, a.kind != .relu {
                output = a.kind
            }
        }
    }

    var hiddenLayers: Int { w.count - 1 }

    /// Hidden pre-activations z_i(x) of every hidden layer, concatenated.
    func preActivations(_ x: [Double]) -> [Double] {
        var h = x, z = [Double]()
        for i in 0..<hiddenLayers {
            var zi = b[i]
            w[i].withUnsafeBufferPointer { pw in
                Double.gemv(trans: false, m: sizes[i + 1], n: sizes[i], alpha: 1, a: pw.baseAddress!, lda: sizes[i],
                            x: h, beta: 1, y: &zi)
            }
            z += zi
            h = zi.map { max(0, $0) }
        }
        return z
    }

    /// For an activation pattern (one Bool per hidden unit, concatenated): the hidden pre-activation
    /// maps Z [H, k], ζ [H] (z = Z x + ζ) and the output pre-activation map M [n, k], c [n].
    func piece(_ active: [Bool]) -> (Z: [Double], zeta: [Double], M: [Double], c: [Double]) {
        var P = [Double](repeating: 0, count: k * k), p = [Double](repeating: 0, count: k)
        for i in 0..<k { P[i * k + i] = 1 }
        var Z = [Double](), zeta = [Double](), offset = 0
        for i in 0...hiddenLayers {
            let (ni, nprev) = (sizes[i + 1], sizes[i])
            var Zi = [Double](repeating: 0, count: ni * k), zi = b[i]
            w[i].withUnsafeBufferPointer { pw in
                Double.gemm(transA: false, transB: false, m: ni, n: k, k: nprev, alpha: 1, a: pw.baseAddress!, lda: nprev,
                            b: P, ldb: k, beta: 0, c: &Zi, ldc: k)
                Double.gemv(trans: false, m: ni, n: nprev, alpha: 1, a: pw.baseAddress!, lda: nprev, x: p, beta: 1, y: &zi)
            }
            if i == hiddenLayers { return (Z, zeta, Zi, zi) }
            Z += Zi; zeta += zi
            for j in 0..<ni where !active[offset + j] {
                zi[j] = 0
                for q in 0..<k { Zi[j * k + q] = 0 }
            }
            P = Zi; p = zi
            offset += ni
        }
        fatalError("unreachable")
    }
}

/// f and ∇f inside one piece: f(x) = ½‖A φ(Mx + c) − Ay‖².
struct PieceObjective {
    let k: Int, n: Int
    let M: [Double], c: [Double]
    let A: [Double]?, m: Int
    let ay: [Double]
    let output: ActivationKind

    func value(_ x: [Double]) -> Double { evaluate(x, gradient: false).f }

    func evaluate(_ x: [Double], gradient: Bool) -> (f: Double, g: [Double]) {
        var u = c
        Double.gemv(trans: false, m: n, n: k, alpha: 1, a: M, lda: k, x: x, beta: 1, y: &u)
        var out = u
        out.withUnsafeMutableBufferPointer { Double.activationForward(output, alpha: 0, $0) }
        var r: [Double]
        if let A {
            r = ay
            Double.gemv(trans: false, m: m, n: n, alpha: 1, a: A, lda: n, x: out, beta: -1, y: &r)
        } else {
            r = out
            for i in 0..<n { r[i] -= ay[i] }
        }
        let f = 0.5 * Double.dot(n: r.count, x: r, y: r)
        guard gradient else { return (f, []) }
        var dOut: [Double]
        if let A {
            dOut = [Double](repeating: 0, count: n)
            Double.gemv(trans: true, m: m, n: n, alpha: 1, a: A, lda: n, x: r, beta: 0, y: &dOut)
        } else { dOut = r }
        u.withUnsafeBufferPointer { pu in
            out.withUnsafeBufferPointer { po in
                dOut.withUnsafeMutableBufferPointer { Double.activationBackward(output, alpha: 0, z: pu, y: po, dy: $0) }
            }
        }
        var g = [Double](repeating: 0, count: k)
        Double.gemv(trans: true, m: n, n: k, alpha: 1, a: M, lda: k, x: dOut, beta: 0, y: &g)
        return (f, g)
    }

    /// λ_max((AM)ᵀ(AM)), the Lipschitz constant of ∇f for φ = identity.
    func curvature() -> Double {
        var am = M, rows = n
        if let A {
            am = [Double](repeating: 0, count: m * k); rows = m
            Double.gemm(transA: false, transB: false, m: m, n: k, k: n, alpha: 1, a: A, lda: n, b: M, ldb: k, beta: 0, c: &am, ldc: k)
        }
        var h = [Double](repeating: 0, count: k * k)
        Double.gemm(transA: true, transB: false, m: k, n: k, k: rows, alpha: 1, a: am, lda: k, b: am, ldb: k, beta: 0, c: &h, ldc: k)
        var ev = [Double](repeating: 0, count: k)
        guard Double.symmetricEigenvalues(n: k, a: &h, w: &ev) == 0 else { return 1 }
        return max(ev.last ?? 1, 1e-12)
    }
}

/// The polytope {x : C x ≥ d} of one piece (rows s_ij a_ijᵀ, bounds −s_ij β_ij).
struct PiecePolytope {
    let k: Int
    let C: [Double], d: [Double]
    let rowNorms: [Double]

    /// {x : C x ≥ d} for explicit rows C [r, k] and bounds d [r].
    init(C: [Double], d: [Double], k: Int) {
        self.k = k; self.C = C; self.d = d
        rowNorms = (0..<d.count).map { j in (0..<k).reduce(0) { $0 + C[j * k + $1] * C[j * k + $1] } }
    }

    init(Z: [Double], zeta: [Double], active: [Bool], k: Int) {
        self.k = k
        var C = Z, d = zeta.map { -$0 }
        for j in 0..<zeta.count where !active[j] {
            d[j] = -d[j]
            for q in 0..<k { C[j * k + q] = -C[j * k + q] }
        }
        self.C = C; self.d = d
        rowNorms = (0..<zeta.count).map { j in (0..<k).reduce(0) { $0 + C[j * k + $1] * C[j * k + $1] } }
    }

    /// Whether P = {x : Cx ≥ d} is non-empty, exactly: phase 1 of the simplex method on
    /// C(x⁺ − x⁻) − s = d (rows scaled to unit norm and signed so the right side is ≥ 0) with an
    /// artificial variable per row, Bland's rule (no cycling); P is non-empty iff the artificials'
    /// minimal sum is 0 (≤ 1e-9). A dense tableau of r rows × (2k + 2r) columns — the pieces'
    /// r ≤ a few hundred constraints in k ≤ 20 dimensions.
    func isFeasible(tolerance: Double = 1e-9) -> Bool {
        // A zero row is the constant constraint 0 ≥ d_j.
        if d.indices.contains(where: { rowNorms[$0] == 0 && d[$0] > tolerance }) { return false }
        let rows = d.indices.filter { rowNorms[$0] > 0 }
        let r = rows.count
        guard r > 0 else { return true }
        let nv = 2 * k + 2 * r, width = nv + 1
        var t = [Double](repeating: 0, count: (r + 1) * width)
        var basis = [Int](repeating: 0, count: r)
        for (i, j) in rows.enumerated() {
            let sign = d[j] < 0 ? -1.0 : 1.0, scale = sign / rowNorms[j].squareRoot()
            for q in 0..<k { t[i * width + q] = scale * C[j * k + q]; t[i * width + k + q] = -scale * C[j * k + q] }
            t[i * width + 2 * k + i] = -sign              // surplus
            t[i * width + 2 * k + r + i] = 1               // artificial
            t[i * width + nv] = scale * d[j]
            basis[i] = 2 * k + r + i
        }
        // Objective row of min Σ a with the artificials basic: minus the sum of the rows,
        // except on the artificial columns (reduced cost 0).
        let obj = r * width
        for i in 0..<r {
            for c in 0..<width where c < 2 * k + r || c == nv { t[obj + c] -= t[i * width + c] }
        }
        for _ in 0..<(50 * (r + k) + 100) {
            guard let enter = (0..<nv).first(where: { t[obj + $0] < -tolerance }) else { break }
            var leave = -1, best = Double.infinity
            for i in 0..<r where t[i * width + enter] > tolerance {
                let ratio = t[i * width + nv] / t[i * width + enter]
                if ratio < best - 1e-15 || (abs(ratio - best) <= 1e-15 && leave >= 0 && basis[i] < basis[leave]) { best = ratio; leave = i }
            }
            guard leave >= 0 else { break }   // phase 1 is bounded below by 0
            let p = t[leave * width + enter]
            for c in 0..<width { t[leave * width + c] /= p }
            for i in 0...r where i != leave {
                let f = t[i * width + enter]
                if f != 0 { for c in 0..<width { t[i * width + c] -= f * t[leave * width + c] } }
            }
            basis[leave] = enter
        }
        return -t[obj + nv] <= tolerance * Double(r)
    }

    /// max_j (d_j − c_jᵀx) relative to ‖c_j‖ (≤ 0 when x ∈ P).
    func violation(_ x: [Double]) -> Double {
        var s = d
        Double.gemv(trans: false, m: d.count, n: k, alpha: -1, a: C, lda: k, x: x, beta: 1, y: &s)
        var worst = -Double.infinity
        for j in 0..<d.count where rowNorms[j] > 0 { worst = max(worst, s[j] / rowNorms[j].squareRoot()) }
        for j in 0..<d.count where rowNorms[j] == 0 { worst = max(worst, s[j] > 0 ? .infinity : worst) }
        return worst
    }

    /// Proj_P(u) by Hildreth's method (dual coordinate ascent), or nil when P looks empty.
    func project(_ u: [Double], sweeps: Int = 2000, tolerance: Double = 1e-10) -> [Double]? {
        if violation(u) <= tolerance { return u }
        var x = u, lambda = [Double](repeating: 0, count: d.count)
        for _ in 0..<sweeps {
            var moved = 0.0
            for j in 0..<d.count where rowNorms[j] > 0 {
                var cx = 0.0
                for q in 0..<k { cx += C[j * k + q] * x[q] }
                let new = max(0, lambda[j] + (d[j] - cx) / rowNorms[j])
                let delta = new - lambda[j]
                if delta != 0 {
                    for q in 0..<k { x[q] += delta * C[j * k + q] }
                    lambda[j] = new
                    moved = max(moved, abs(delta) * rowNorms[j].squareRoot())
                }
            }
            if moved < tolerance * 0.1 { break }
        }
        return violation(x) <= tolerance * 10 ? x : nil
    }
}

/// The exact minimiser of a piece's convex quadratic f(x) = ½‖A(Mx + c) − Ay‖² over its polytope
/// {Cx ≥ d} (identity output). A piece with few active units has a rank-deficient M, so f gets
/// the proximal term (ε/2)‖x − x₀‖², ε = 1e-6·tr Q/k: the minimiser nearest the current x along
/// flat directions, f within O(ε) of the piece's minimum. With Q + εI = LLᵀ (LAPACK Cholesky) and
/// q = (AM)ᵀ(Ac − Ay) − εx₀, the substitution z = Lᵀx turns the QP into the Euclidean
/// projection of z_u = −L⁻¹q onto {C L⁻ᵀ z ≥ d}, which Hildreth's method solves (dual coordinate
/// ascent, exact in the limit, stopped at 1e-10); x* = L⁻ᵀ z*. nil when the piece is empty (the
/// projection never becomes feasible — a heuristic test, not an LP). The triangular solves are
/// k × k loops (k ≤ 20).
func exactPieceMinimum(_ obj: PieceObjective, _ poly: PiecePolytope, near x0: [Double]) -> [Double]? {
    let k = obj.k
    var am = obj.M, rows = obj.n, target = obj.c
    if let A = obj.A {
        am = [Double](repeating: 0, count: obj.m * k); rows = obj.m
        Double.gemm(transA: false, transB: false, m: obj.m, n: k, k: obj.n, alpha: 1, a: A, lda: obj.n, b: obj.M, ldb: k,
                    beta: 0, c: &am, ldc: k)
        target = [Double](repeating: 0, count: obj.m)
        Double.gemv(trans: false, m: obj.m, n: obj.n, alpha: 1, a: A, lda: obj.n, x: obj.c, beta: 0, y: &target)
    }
    for i in 0..<rows { target[i] -= obj.ay[i] }          // A c − A y
    var Q = [Double](repeating: 0, count: k * k), q = [Double](repeating: 0, count: k)
    Double.gemm(transA: true, transB: false, m: k, n: k, k: rows, alpha: 1, a: am, lda: k, b: am, ldb: k, beta: 0, c: &Q, ldc: k)
    Double.gemv(trans: true, m: rows, n: k, alpha: 1, a: am, lda: k, x: target, beta: 0, y: &q)
    let eps = 1e-6 * max(1e-12, (0..<k).reduce(0) { $0 + Q[$1 * k + $1] } / Double(k))
    for i in 0..<k { Q[i * k + i] += eps; q[i] -= eps * x0[i] }
    var rhs = q   // Q is overwritten by L (lower, row-major); rhs by the unconstrained solution (unused)
    guard Double.choleskySolve(n: k, nrhs: 1, a: &Q, b: &rhs) == 0 else { return nil }
    let L = Q
    // Forward substitution L y = v; back substitution Lᵀ y = v.
    func lower(_ v: [Double]) -> [Double] {
        var y = v
        for i in 0..<k { for j in 0..<i { y[i] -= L[i * k + j] * y[j] }; y[i] /= L[i * k + i] }
        return y
    }
    func upperT(_ v: [Double]) -> [Double] {
        var y = v
        for i in stride(from: k - 1, through: 0, by: -1) { for j in (i + 1)..<max(i + 1, k) { y[i] -= L[j * k + i] * y[j] }; y[i] /= L[i * k + i] }
        return y
    }
    let zu = lower(q).map { -$0 }
    // Rows of C L⁻ᵀ: (L⁻¹ c_j)ᵀ.
    var C2 = [Double](repeating: 0, count: poly.C.count)
    for j in 0..<poly.d.count {
        C2.replaceSubrange((j * k)..<((j + 1) * k), with: lower(Array(poly.C[(j * k)..<((j + 1) * k)])))
    }
    guard let z = PiecePolytope(C: C2, d: poly.d, k: k).project(zu) else { return nil }
    return upperT(z)
}

extension Inverter {
    /// Algorithm 3.2; see `ProjectedSurfing`.
    func runProjected(_ trials: InversionTrials<Scalar>) throws -> [TrialResult] {
        try ProjectedSurfing.checkArchitecture(problem.network.spec)
        let visit = visitedSnapshots()
        let state = DescentState(x: trials.starts[0], measured: problem.measure(trials.signals), truth: trials.truth)
        let all = Array(0..<trials.count)
        var pieces = [Int](repeating: 0, count: trials.count)
        let k = problem.latentSize, ay = Scalar.toDoubles(state.measured.data), mcount = problem.measurementCount
        let A = problem.measurement.map { Scalar.toDoubles($0.a.data) }
        for (j, t) in visit.enumerated() {
            try snapshots.load(t, into: problem.network)
            if t == last { state.iterationsBeforeFinal = state.iterations }
            if j == 0 && visit.count > 1 {
                let budget = settings.schedule.steps(0, first: settings.firstSteps, min: settings.minSteps, uniform: settings.stepsPerSnapshot)
                try descend(state, rows: all, steps: budget, final: false, phase: 0, phases: visit.count)
                continue
            }
            let g = PiecewiseLinearGenerator(problem.network)
            var x = Scalar.toDoubles(state.x.data)
            for i in all {
                var xi = Array(x[i * k..<(i + 1) * k])
                let target = Array(ay[i * mcount..<(i + 1) * mcount])
                let rounds = t == last ? settings.finalPieceRounds ?? settings.pieceRounds : settings.pieceRounds
                for _ in 0..<max(1, rounds) {
                    let r = searchPieces(g, from: xi, ay: target, A: A, m: mcount)
                    state.iterations[i] += r.steps
                    pieces[i] += r.pieces
                    let moved = zip(r.x, xi).reduce(0.0) { max($0, abs($1.0 - $1.1)) }
                    xi = r.x
                    if moved < 1e-9 { break }
                }
                x.replaceSubrange(i * k..<(i + 1) * k, with: xi)
                if i % 10 == 9 || i == all.count - 1 {
                    progress?(InversionProgress(phase: j, phases: visit.count, step: settings.pieceSteps * (i + 1) / all.count,
                                                phaseSteps: settings.pieceSteps, active: all.count - i - 1))
                }
            }
            state.x = Tensor(shape: state.x.shape, data: Scalar.fromDoubles(x))
        }
        return results(x: state.x, trials: trials, iterations: state.iterations,
                       finalIterations: zip(state.iterations, state.iterationsBeforeFinal).map { $0 - $1 }, pieces: pieces)
    }

    /// One round of Algorithm 3.2 for one trial: every piece near x, projected gradient in each, the best.
    func searchPieces(_ g: PiecewiseLinearGenerator, from x0: [Double], ay: [Double], A: [Double]?, m: Int)
        -> (x: [Double], steps: Int, pieces: Int) {
        let z = g.preActivations(x0)
        let base = z.map { $0 > 0 }
        // Units within τ of switching, nearest first, as many as the piece cap allows.
        var near = z.indices.filter { abs(z[$0]) < settings.tau }.sorted { abs(z[$0]) < abs(z[$1]) }
        var bits = 0
        while bits < near.count && (1 << (bits + 1)) <= settings.maxPieces { bits += 1 }
        near = Array(near.prefix(bits))
        var best = x0, bestF = Double.infinity, steps = 0, searched = 0
        for mask in 0..<(1 << near.count) {
            var active = base
            for (bit, unit) in near.enumerated() where mask & (1 << bit) != 0 { active[unit].toggle() }
            searched += 1
            let p = g.piece(active)
            let poly = PiecePolytope(Z: p.Z, zeta: p.zeta, active: active, k: g.k)
            let obj = PieceObjective(k: g.k, n: g.sizes.last!, M: p.M, c: p.c, A: A, m: m, ay: ay, output: g.output)
            // Empty pieces are skipped by an exact LP test (cheaper than letting Hildreth's
            // projection run to its sweep limit on them).
            guard poly.isFeasible() else { continue }
            if settings.exactPieces && g.output == .identity {
                // The piece's exact minimiser (a convex QP), one "step" per piece.
                guard let x = exactPieceMinimum(obj, poly, near: x0) else { continue }
                steps += 1
                let f = obj.value(x)
                if f < bestF { bestF = f; best = x }
                continue
            }
            guard var x = poly.project(x0) else { continue }
            let eta0 = settings.pieceStepSize ?? 1 / obj.curvature() * (g.output == .identity ? 1 : 16)
            var eta = eta0
            var (f, grad) = obj.evaluate(x, gradient: true)
            for _ in 0..<settings.pieceSteps {
                steps += 1
                var next: [Double]? = nil, fNext = f
                while eta > eta0 * 1e-12 {
                    let u = zip(x, grad).map { $0 - eta * $1 }
                    guard let cand = poly.project(u) else { eta /= 2; continue }
                    let fc = obj.value(cand)
                    var lin = 0.0, sq = 0.0
                    for q in 0..<g.k { let dq = cand[q] - x[q]; lin += grad[q] * dq; sq += dq * dq }
                    if fc <= f + lin + sq / (2 * eta) + 1e-15 * max(1, abs(f)) { next = cand; fNext = fc; break }
                    eta /= 2
                }
                guard let xn = next else { break }
                var moved = 0.0
                for q in 0..<g.k { moved = max(moved, abs(xn[q] - x[q])) }
                x = xn
                (f, grad) = obj.evaluate(x, gradient: true)
                _ = fNext
                if moved < 1e-12 { break }
            }
            if f < bestF { bestF = f; best = x }
        }
        return (best, steps, searched)
    }
}
