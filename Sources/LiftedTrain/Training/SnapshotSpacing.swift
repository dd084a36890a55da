import Foundation

/// Which steps of a run save a snapshot (`lpom train --snapshot-every`). θ_0 (step 0) and the
/// final θ are always saved.
///
/// - `every(N)`: every N steps (0: only θ_0 and θ_T);
/// - `epoch`: at the end of every epoch;
/// - `log(K)`: K snapshots in all, spaced geometrically in steps — step round(T^{i/(K−1)}) for
///   i = 1 … K−1, each moved past its predecessor when rounding makes them collide — so that the
///   early part of a run, where θ moves fastest, is sampled densely. (In a 10-epoch SGD run of
///   784-300-100-10, 15 of 151 evenly spaced snapshots already cover 68 % of ‖θ_T − θ_0‖ and 75 of
///   them 98.6 %: even spacing spends most of the file on a θ that barely changes.)
public enum SnapshotSpacing: Equatable, Sendable, CustomStringConvertible {
    case every(Int)
    case epoch
    case log(Int)

    /// Parses `N`, `epoch` or `log:K` (K ≥ 2); nil otherwise.
    public init?(_ text: String) {
        let t = text.trimmingCharacters(in: .whitespaces)
        if t == "epoch" { self = .epoch; return }
        if t.hasPrefix("log:"), let k = Int(t.dropFirst(4)), k >= 2, k <= 1_000_000 { self = .log(k); return }
        if let n = Int(t), n >= 0 { self = .every(n); return }
        return nil
    }

    /// The text `init?(_:)` reads back.
    public var description: String {
        switch self {
        case .every(let n): return "\(n)"
        case .epoch: return "epoch"
        case .log(let k): return "log:\(k)"
        }
    }

    /// The K steps of `log(K)` over a run of `total` steps, increasing, from 0 to `total` (fewer when
    /// the run has fewer than K − 1 steps: then every step).
    public static func logSteps(count k: Int, total: Int) -> [Int] {
        guard total > 0 else { return [0] }
        guard k > 2 else { return [0, total] }
        if k - 1 >= total { return Array(0...total) }
        var out = [0]
        for i in 1..<k {
            let s = Int((pow(Double(total), Double(i) / Double(k - 1))).rounded())
            // Room for the remaining k − 1 − i snapshots after this one, and past the previous.
            out.append(min(max(s, out.last! + 1), total - (k - 1 - i)))
        }
        return out
    }

    /// The steps after step 0 that save a snapshot in a run of `total` steps of `perEpoch` steps
    /// per epoch (the final step included).
    public func steps(total: Int, perEpoch: Int) -> [Int] {
        guard total > 0 else { return [] }
        switch self {
        case .every(let n):
            return n > 0 ? Array(stride(from: n, through: total, by: n)) + (total % n == 0 ? [] : [total]) : [total]
        case .epoch:
            let e = max(1, perEpoch)
            return Array(stride(from: e, through: total, by: e)) + (total % e == 0 ? [] : [total])
        case .log(let k):
            return Array(Self.logSteps(count: k, total: total).dropFirst())
        }
    }

    /// The number of snapshots a run of `total` steps saves (θ_0 included).
    public func count(total: Int, perEpoch: Int) -> Int { 1 + steps(total: total, perEpoch: perEpoch).count }
}
