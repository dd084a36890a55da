/// Per-entry kernels of the lifted methods, written once and compiled for `Float` and `Double`
/// (`@specialized`, as the kernels under `Kernels/` are): generic trainer code pays one type
/// check per buffer, never per element.
enum LiftedKernels {
    /// z = argmin_z γ (a − max(z, 0))² + β (z − m)², γ ≥ 0, β > 0, entry by entry.
    ///
    /// This is Taylor et al. 2016's z-update for ReLU (the entries of z_l decouple and, for a
    /// piecewise-linear h, each is solved in closed form) and Zeng et al. 2019's
    /// U-update (the ReLU proximal map). The objective is a parabola on each side of 0:
    /// on z ≥ 0 its minimiser is max(0, (γa + βm)/(γ + β)), on z ≤ 0 it is min(0, m); the
    /// better of the two is the global minimiser (ties go to the z ≥ 0 branch).
    @specialized(where T == Float)
    @specialized(where T == Double)
    static func reluProx<T: NNScalar>(a: UnsafePointer<T>, m: UnsafePointer<T>, gamma: T, beta: T,
                                      into z: UnsafeMutablePointer<T>, count: Int) {
        let inv = 1 / (gamma + beta)
        for i in 0..<count {
            let ai = a[i], mi = m[i]
            let zp = max(0, (gamma * ai + beta * mi) * inv)
            let zn = min(0, mi)
            let dp = ai - zp, ep = zp - mi
            let en = zn - mi
            let fp = gamma * dp * dp + beta * ep * ep
            let fn = gamma * ai * ai + beta * en * en
            z[i] = fp <= fn ? zp : zn
        }
    }
}
