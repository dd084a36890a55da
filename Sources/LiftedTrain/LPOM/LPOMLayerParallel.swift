import Foundation

// Layer-parallel LPOM (Li, Fang, Lin 2019, "Parallelizing LPOM": the W-updates are independent,
// and each X^i can be updated from the latest values of the others — asynchronous parallelism).
//
// Rank r owns the contiguous dense layers [k₀, k₁) (`LPOMPartition`, balanced by in·out, the
// per-sample cost of every product of a layer) and the levels k₀+1 … k₁ they produce. Every rank
// holds all W (shared after each W-phase) and runs the forward pass itself, so the X-phase
// starts from identical levels everywhere. Within the X-phase the level equations couple only
// neighbours: level k₀+1's pre-activation needs X^{k₀} (the left rank's last level), and level
// k₁'s update needs (φ(Z^{k₁+1}) − X^{k₁+1}) W_{k₁} with Z^{k₁+1} = X^{k₁} W_{k₁}ᵀ + b — computed
// here from this rank's own X^{k₁} (so its update never uses a stale copy of itself), with
// X^{k₁+1} from the right. The messages are those two b × width boundary levels:
//
// - sync: Jacobi sweeps. Each sweep receives the neighbours' boundary levels of their previous
//   sweep, updates all own levels, sends its own boundary levels, and sums the levels' changes
//   over ranks (3(L+1) numbers) for the stopping test: the iterates of one process with
//   `--sweep jacobi`, up to rounding.
// - async: each rank sweeps its levels with the latest neighbour levels that have arrived
//   (probed, never waited for), sending its own whenever the previous send has left. Global
//   convergence is tested by rounds of non-blocking sums of every rank's latest changes: a
//   round is started as soon as the previous one completes and read when it has completed,
//   while the rank keeps sweeping; all ranks stop after the same round — the first whose
//   largest change is below the tolerance, or the `fixedPointIterations`-th (counted
//   unconverged). A rank whose levels have settled and whose inputs have not changed does not
//   sweep again until they do, and no rank sweeps more than `fixedPointIterations` times per
//   phase or while the last round is in flight: a phase that hits the cap costs each rank the
//   sweeps of a sync one, without its waits. (A cap of 4× let a rank sweep on while a round was
//   pending: each ended about one sweep later, and the balanced 10 × 500 net gained 1.68×
//   instead of 1.79× from 2 ranks, with other iterates.) Each step records the fewest and most
//   sweeps a rank did (`async_sweeps_min|max`). At the
//   end every rank sends its final boundary
//   levels with the number of blocks sent before, and the receiver drains the ones in flight,
//   so no message outlives the phase.
//
// Then each rank updates its own layers' W (layer k₀ with the final X^{k₀}); every layer's W is
// broadcast by its owner, so every rank holds all W again.

/// Which layers and levels of a network this rank owns in layer-parallel LPOM, the neighbours,
/// and the message buffers.
final class LPOMPartition {
    let collective: any Collective
    let asynchronous: Bool
    /// First layer of every rank, then the depth: rank r owns layers bounds[r] ..< bounds[r+1].
    let bounds: [Int]
    let rank: Int
    /// This rank's first layer k₀ and end k₁ (levels k₀+1 … k₁).
    var first: Int { bounds[rank] }
    var end: Int { bounds[rank + 1] }
    var left: Int? { rank > 0 ? rank - 1 : nil }
    var right: Int? { rank + 1 < bounds.count - 1 ? rank + 1 : nil }
    var ownedLayers: [Int] { Array(first..<end) }
    var ownedLevels: ClosedRange<Int> { (first + 1)...end }

    /// Outgoing blocks (kept allocated while a send is in flight) and their requests: "up" is
    /// X^{k₁} to the right, "down" X^{k₀+1} to the left.
    var upBuffer: UnsafeMutableRawBufferPointer? = nil, downBuffer: UnsafeMutableRawBufferPointer? = nil
    var upRequest: CollectiveRequest?, downRequest: CollectiveRequest?
    /// Sweeps this rank did in the current step's async X-phases.
    var ownSweeps = 0
    /// Blocks sent and received in the current async X-phase.
    var upSent = 0, downSent = 0, upReceived = 0, downReceived = 0

    static let upTag = 11, downTag = 12, finalUpTag = 13, finalDownTag = 14

    init(collective: any Collective, asynchronous: Bool, bounds: [Int]) {
        self.collective = collective; self.asynchronous = asynchronous; self.bounds = bounds; rank = collective.rank
    }

    deinit {
        for r in [upRequest, downRequest] { if let r { collective.wait(r) } }
        upBuffer?.deallocate(); downBuffer?.deallocate()
    }

    /// Contiguous groups of layers, one per rank, minimising the largest group cost (exact, by
    /// dynamic programming over split points). Returns the first layer of every rank, then `costs.count`.
    static func balance(costs: [Double], ranks: Int) -> [Int] {
        let n = costs.count
        var prefix = [0.0]
        for c in costs { prefix.append(prefix.last! + c) }
        // best[p][k]: the smallest largest cost of splitting layers 0..<k into p groups.
        var best = [[Double]](repeating: [Double](repeating: .infinity, count: n + 1), count: ranks + 1)
        var cut = [[Int]](repeating: [Int](repeating: 0, count: n + 1), count: ranks + 1)
        best[0][0] = 0
        for p in 1...ranks {
            for k in p...n {
                for j in (p - 1)..<k {
                    let v = max(best[p - 1][j], prefix[k] - prefix[j])
                    if v < best[p][k] { best[p][k] = v; cut[p][k] = j }
                }
            }
        }
        var bounds = [n]
        var k = n
        for p in stride(from: ranks, through: 1, by: -1) { k = cut[p][k]; bounds.insert(k, at: 0) }
        return bounds
    }
}

extension LPOMTrainer {
    /// Splits this trainer's layers over the ranks of `c` (layer-parallel LPOM; see above), or
    /// throws one line naming why it cannot: more ranks than dense layers, or Gauss–Seidel sweeps.
    public func distributeLayers(over c: any Collective, asynchronous: Bool) throws {
        guard c.size <= depth else {
            throw TrainingError("--parallel layers gives every rank at least one dense layer: \(c.size) ranks for \(depth) dense layers; run at most \(depth) ranks")
        }
        guard configuration.sweep == .jacobi else {
            throw TrainingError("--parallel layers runs the X-phase as Jacobi sweeps across ranks; pass --sweep jacobi")
        }
        let costs = (0..<depth).map { Double(sizes[$0] + 1) * Double(sizes[$0 + 1]) }
        partition = LPOMPartition(collective: c, asynchronous: asynchronous, bounds: LPOMPartition.balance(costs: costs, ranks: c.size))
    }

    /// The layers of every rank and their share of the flops, for the start-up report.
    public var partitionDescription: String {
        guard let p = partition else { return "one process" }
        let costs = (0..<depth).map { Double(sizes[$0] + 1) * Double(sizes[$0 + 1]) }
        let total = costs.reduce(0, +)
        return (0..<(p.bounds.count - 1)).map { r in
            let ls = p.bounds[r]..<p.bounds[r + 1]
            let share = ls.map { costs[$0] }.reduce(0, +) / total
            let range = ls.count == 1 ? names[ls.lowerBound] : "\(names[ls.lowerBound])–\(names[ls.upperBound - 1])"
            return String(format: "rank %d: %@ (%.0f%% of the flops)", r, range, 100 * share)
        }.joined(separator: "; ")
    }

    // MARK: - The step

    /// One LPOM step with the layers split over ranks: the report and metrics of `step`.
    func layerParallelStep(inputs: Tensor<Scalar>, labels: [Int32]) throws -> StepReport {
        let p = partition!
        try prepare(inputs: inputs, labels: labels)
        unconverged = 0
        let (l0, correct) = loss.evaluate(levels[depth].x, labels: labels)
        guard l0.isFinite else { return StepReport(loss: l0, accuracy: 0) }
        var sweeps = 0, received = 0
        p.ownSweeps = 0
        var apgSteps = [Int](repeating: 0, count: depth)
        for _ in 0..<configuration.alternations {
            estimateNorms()
            sweeps += try p.asynchronous ? asynchronousActivationPhase() : synchronousActivationPhase()
            received += p.upReceived + p.downReceived
            try weightPhase(layers: p.ownedLayers)
            for k in p.ownedLayers { apgSteps[k] += layers[k].apgSteps }
            shareWeights()
        }
        if configuration.apgTolerance > 0 {
            var v = apgSteps.map(Double.init)
            p.collective.sum(&v)
            apgSteps = v.map { Int($0) }
        }
        storeWeights()
        var extra = sweepMetrics(sweeps: sweeps, apgSteps: apgSteps)
        if p.asynchronous {
            var v = [Double](repeating: 0, count: p.bounds.count - 1)
            v[p.rank] = Double(p.ownSweeps)
            p.collective.sum(&v)
            extra["async_sweeps_min"] = v.min(); extra["async_sweeps_max"] = v.max()
            // The neighbour blocks each rank took in during the step's X-phases, the fewest over ranks.
            var b = [Double](repeating: 0, count: p.bounds.count - 1)
            b[p.rank] = Double(received)
            p.collective.sum(&b)
            extra["async_blocks_received_min"] = b.min()
        }
        if configuration.diagnostics { addDiagnostics(to: &extra, layerParallelDiagnostics) }
        return StepReport(loss: l0, accuracy: Double(correct) / Double(labels.count), extra: extra)
    }

    /// Every layer's W and b broadcast by the rank that owns it (half the bytes of a sum).
    func shareWeights() {
        let p = partition!
        for r in 0..<(p.bounds.count - 1) {
            for k in p.bounds[r]..<p.bounds[r + 1] {
                layers[k].W.data.withUnsafeMutableBytes { p.collective.broadcast($0, root: r) }
                layers[k].bias.data.withUnsafeMutableBytes { p.collective.broadcast($0, root: r) }
                layers[k].pinvValid = false
            }
        }
    }

    // MARK: - Messages

    /// Sends `t` to rank `to` with `tag` from the buffer in `slot` (allocated as needed), after the
    /// previous send from it has left; with `skipIfBusy`, returns false instead of waiting.
    func post(_ t: Tensor<Scalar>, extra: Scalar? = nil, to: Int, tag: Int, up: Bool, skipIfBusy: Bool = false) -> Bool {
        let p = partition!
        let c = p.collective
        if let r = up ? p.upRequest : p.downRequest {
            if skipIfBusy && !c.test(r) { return false }
            c.wait(r)
        }
        let count = t.count + (extra == nil ? 0 : 1)
        let bytes = count * MemoryLayout<Scalar>.stride
        var buffer = up ? p.upBuffer : p.downBuffer
        if (buffer?.count ?? 0) < bytes {
            buffer?.deallocate()
            buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes, alignment: 64)
            if up { p.upBuffer = buffer } else { p.downBuffer = buffer }
        }
        let typed = buffer!.bindMemory(to: Scalar.self)
        _ = t.data.withUnsafeBufferPointer { UnsafeMutableBufferPointer(rebasing: typed[0..<t.count]).initialize(from: $0) }
        if let extra { typed[t.count] = extra }
        let r = c.send(UnsafeBufferPointer(rebasing: typed[0..<count]), to: to, tag: tag)
        if up { p.upRequest = r } else { p.downRequest = r }
        return true
    }

    /// Receives a block of `into`'s shape from `from` (waiting for it), plus `extra` trailing values.
    @discardableResult
    func fetch(into t: inout Tensor<Scalar>, rows: Int, cols: Int, extra: Int = 0, from: Int, tag: Int) -> [Scalar] {
        let c = partition!.collective
        t.resize([rows, cols])
        if extra == 0 {
            t.data.withUnsafeMutableBufferPointer { c.wait(c.receive($0, from: from, tag: tag)) }
            return []
        }
        var message = [Scalar](repeating: 0, count: rows * cols + extra)
        message.withUnsafeMutableBufferPointer { c.wait(c.receive($0, from: from, tag: tag)) }
        t.data.withUnsafeMutableBufferPointer { $0.update(fromContentsOf: message[0..<(rows * cols)]) }
        return Array(message[(rows * cols)...])
    }

    /// Receives the neighbours' boundary levels, waiting for them: X^{k₀} from the left into
    /// `levels[k₀].x`, X^{k₁+1} from the right into `levels[k₁+1].x`.
    func receiveBoundaries() {
        let p = partition!
        if let l = p.left { fetch(into: &levels[p.first].x, rows: batch, cols: sizes[p.first], from: l, tag: LPOMPartition.upTag) }
        if let r = p.right { fetch(into: &levels[p.end + 1].x, rows: batch, cols: sizes[p.end + 1], from: r, tag: LPOMPartition.downTag) }
    }

    /// Receives every boundary block that has arrived (the last one of each side wins), never
    /// waiting; returns whether any arrived.
    func receiveArrivedBoundaries() -> Bool {
        let p = partition!
        let c = p.collective
        var any = false
        if let l = p.left {
            while c.probe(from: l, tag: LPOMPartition.upTag) {
                fetch(into: &levels[p.first].x, rows: batch, cols: sizes[p.first], from: l, tag: LPOMPartition.upTag)
                p.upReceived += 1; any = true
            }
        }
        if let r = p.right {
            while c.probe(from: r, tag: LPOMPartition.downTag) {
                fetch(into: &levels[p.end + 1].x, rows: batch, cols: sizes[p.end + 1], from: r, tag: LPOMPartition.downTag)
                p.downReceived += 1; any = true
            }
        }
        return any
    }

    /// Sends X^{k₁} right and X^{k₀+1} left; with `skipIfBusy` a side whose previous block is
    /// still in flight is skipped.
    func sendBoundaries(skipIfBusy: Bool = false) {
        let p = partition!
        if let r = p.right, post(levels[p.end].x, to: r, tag: LPOMPartition.upTag, up: true, skipIfBusy: skipIfBusy) { p.upSent += 1 }
        if let l = p.left, post(levels[p.first + 1].x, to: l, tag: LPOMPartition.downTag, up: false, skipIfBusy: skipIfBusy) { p.downSent += 1 }
    }

    /// The pre-activations a sweep of this rank reads: its own levels (level 1's is fixed after
    /// the first sweep) and Z^{k₁+1} = X^{k₁} W_{k₁}ᵀ + b of the right's first level, which level
    /// k₁'s update needs and this rank computes itself from its own X^{k₁} (every rank holds all W).
    func partitionPreactivations(firstSweep: Bool) {
        let p = partition!
        var ks = Array(p.ownedLevels).filter { firstSweep || $0 != 1 }
        if p.right != nil { ks.append(p.end + 1) }
        computePreactivations(levels: ks)
    }

    // MARK: - X-phase, synchronous

    /// Jacobi sweeps with neighbour blocks of the previous sweep (the one-process iterates).
    func synchronousActivationPhase() throws -> Int {
        let p = partition!
        let cap = configuration.fixedPointIterations, tol = configuration.fixedPointTolerance
        var smallest = Double.infinity
        // Every sweep ends by sending the boundary levels; the last ones are the W-phase's inputs.
        defer { receiveBoundaries() }
        for sweep in 1...cap {
            if sweep > 1 { receiveBoundaries() }
            if !(sweep == 1 && preactivationsCurrent) { partitionPreactivations(firstSweep: sweep == 1) }
            preactivationsCurrent = false
            perform(levels: Array(p.ownedLevels)) { self.candidate(level: $0) }
            for i in p.ownedLevels { commit(level: i) }
            sendBoundaries()
            shareChanges(levels: p.ownedLevels)
            if let done = try sweepOutcome(sweep: sweep, cap: cap, tolerance: tol, smallest: &smallest) { return done }
        }
        return cap
    }

    // MARK: - X-phase, asynchronous

    /// Sweeps with the latest neighbour blocks, global convergence by rounds of non-blocking sums.
    /// Returns the number of rounds (the sweeps every rank did at least).
    func asynchronousActivationPhase() throws -> Int {
        let p = partition!
        let c = p.collective
        let cap = configuration.fixedPointIterations, tol = configuration.fixedPointTolerance
        let n = depth + 1
        (p.upSent, p.downSent, p.upReceived, p.downReceived) = (0, 0, 0, 0)
        var smallest = Double.infinity
        var rounds = 0, sweeps = 0
        var round: CollectiveRequest? = nil
        let roundBuffer = UnsafeMutableBufferPointer<Double>.allocate(capacity: 3 * n)
        defer { roundBuffer.deallocate() }
        var settled = false
        var outcome: Int? = nil
        while outcome == nil {
            let fresh = receiveArrivedBoundaries()
            // The cap-th round in flight ends the phase whatever it finds: a sweep now is wasted.
            let lastRoundInFlight = round != nil && rounds >= cap
            if (fresh || !settled || sweeps == 0) && sweeps < cap && !lastRoundInFlight {
                if !(sweeps == 0 && preactivationsCurrent) { partitionPreactivations(firstSweep: sweeps == 0) }
                preactivationsCurrent = false
                perform(levels: Array(p.ownedLevels)) { self.candidate(level: $0) }
                for i in p.ownedLevels { commit(level: i) }
                sendBoundaries(skipIfBusy: true)
                sweeps += 1; p.ownSweeps += 1
                settled = p.ownedLevels.allSatisfy { levels[$0].change <= tol }
            } else if let r = round, sweeps >= cap || lastRoundInFlight {
                c.wait(r)
            } else {
                sched_yield()
            }
            // Global convergence: one round of sums in flight at a time; the next round starts as
            // soon as one completes (starting it only after another sweep would make every round
            // span two sweeps, doubling the sweeps of an async phase against a sync one).
            if let r = round {
                guard c.test(r) else { continue }
                round = nil
                for i in 1...depth {
                    levels[i].change = relative(roundBuffer[i], xSquared: roundBuffer[n + i], count: batch * sizes[i])
                }
                unboundedLevels = Array(roundBuffer[(2 * n)...])
                outcome = try sweepOutcome(sweep: rounds, cap: cap, tolerance: tol, smallest: &smallest)
            }
            if round == nil && outcome == nil {
                for i in 0..<(3 * n) { roundBuffer[i] = 0 }
                for i in p.ownedLevels {
                    roundBuffer[i] = levels[i].diffSquared; roundBuffer[n + i] = levels[i].normSquared
                    roundBuffer[2 * n + i] = isBounded(levels[i].x) ? 0 : 1
                }
                round = c.startSum(roundBuffer)
                rounds += 1
            }
        }
        finishAsynchronousPhase()
        return outcome!
    }

    /// Ends an async X-phase: each side gets the final boundary level with the count of blocks
    /// sent before it; the receiver takes the blocks still in flight first, so no message
    /// outlives the phase and both sides end with the final values. Nothing here waits for a send
    /// before the matching receives are posted: a large block goes by rendezvous and leaves only
    /// once the neighbour receives it, so a rank waiting for its own send while its neighbour
    /// waits for a final block would deadlock. The finals go from buffers of their own.
    func finishAsynchronousPhase() {
        let p = partition!
        let c = p.collective
        let k0 = p.first, k1 = p.end
        func finalMessage(_ x: Tensor<Scalar>, count: Int) -> UnsafeMutableBufferPointer<Scalar> {
            let m = UnsafeMutableBufferPointer<Scalar>.allocate(capacity: x.count + 1)
            _ = x.data.withUnsafeBufferPointer { UnsafeMutableBufferPointer(rebasing: m[0..<x.count]).initialize(from: $0) }
            m[x.count] = Scalar(count)
            return m
        }
        var finals: [(UnsafeMutableBufferPointer<Scalar>, CollectiveRequest)] = []
        if let r = p.right {
            let m = finalMessage(levels[k1].x, count: p.upSent)
            finals.append((m, c.send(UnsafeBufferPointer(m), to: r, tag: LPOMPartition.finalUpTag)))
        }
        if let l = p.left {
            let m = finalMessage(levels[k0 + 1].x, count: p.downSent)
            finals.append((m, c.send(UnsafeBufferPointer(m), to: l, tag: LPOMPartition.finalDownTag)))
        }
        var final = Tensor<Scalar>(zeros: [0])
        if let l = p.left {
            let sent = Int(fetch(into: &final, rows: batch, cols: sizes[k0], extra: 1, from: l, tag: LPOMPartition.finalUpTag)[0])
            while p.upReceived < sent {
                fetch(into: &levels[k0].x, rows: batch, cols: sizes[k0], from: l, tag: LPOMPartition.upTag)
                p.upReceived += 1
            }
            levels[k0].x.assign(final)
        }
        if let r = p.right {
            let sent = Int(fetch(into: &final, rows: batch, cols: sizes[k1 + 1], extra: 1, from: r, tag: LPOMPartition.finalDownTag)[0])
            while p.downReceived < sent {
                fetch(into: &levels[k1 + 1].x, rows: batch, cols: sizes[k1 + 1], from: r, tag: LPOMPartition.downTag)
                p.downReceived += 1
            }
            levels[k1 + 1].x.assign(final)
        }
        for r in [p.upRequest, p.downRequest] { if let r { c.wait(r) } }
        for (m, r) in finals { c.wait(r); m.deallocate() }
    }

    // MARK: - Diagnostics

    /// `diagnostics()` with each rank computing its own levels' penalties and its own layers'
    /// residuals (the output rank the loss), summed over ranks.
    func layerParallelDiagnostics() -> (objective: Double, residuals: [Double]) {
        let p = partition!
        for k in p.ownedLevels { preactivation(level: k) }
        var v = [Double](repeating: 0, count: depth + 1)
        if p.end == depth { v[depth] = loss.evaluate(levels[depth].x, labels: labels).loss * Double(batch) }
        for k in p.ownedLevels {
            v[depth] += mus[k] * LPOMPenalty.sumGap(kinds[k], alpha: alphas[k], x: levels[k].x, z: levels[k].z)
        }
        for k in p.ownedLayers {
            let up = levels[k + 1], st = layers[k]
            up.scratch.assign(up.z)
            applyPhi(level: k + 1, &up.scratch)
            up.scratch.add(up.x, scaledBy: -1)
            gemm(up.scratch, levels[k].x, transposeA: true, into: &st.residualGradient)
            var sums = Tensor<Scalar>(zeros: [1, up.scratch.cols])
            gemm(Tensor(shape: [1, batch], data: ones), up.scratch, into: &sums)
            v[k] = (Double(st.residualGradient.squaredNorm) + Double(sums.squaredNorm)).squareRoot() / Double(batch)
        }
        p.collective.sum(&v)
        return (v[depth] / Double(batch), Array(v[0..<depth]))
    }
}
