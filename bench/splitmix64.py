"""lpom's random generator in Python (Sources/LiftedTrain/Core/Random.swift), for peers that must
draw what lpom draws: SplitMix64 (Steele, Lea, Flood 2014), its streams, and the Fisher–Yates
permutation of `randomPermutation` (the sample order of a training epoch, `BatchOrder`)."""
MASK = (1 << 64) - 1


class SplitMix64:
    """lpom's `SplitMix64`: the same 64-bit stream from the same seed."""

    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def uniform(self):
        return (self.next() >> 11) * 2.0 ** -53

    @staticmethod
    def stream(seed, k):
        g = SplitMix64(seed ^ ((k * 0xD1B54A32D192ED03) & MASK))
        g.next()
        return SplitMix64(g.next())


def uniform_trials(seed, lo, hi, k):
    """lpom surf's in-range trials lo..<hi (`InversionTrials.inRange`): x*_i then x_init_i, each
    U[-1, 1]^k, from stream(seed, i); two float64 arrays [hi - lo, k]."""
    xs, x0 = [], []
    for i in range(lo, hi):
        g = SplitMix64.stream(seed, i)
        xs.append([2 * g.uniform() - 1 for _ in range(k)])
        x0.append([2 * g.uniform() - 1 for _ in range(k)])
    import numpy as np
    return np.array(xs, dtype=np.float64).reshape(hi - lo, k), np.array(x0, dtype=np.float64).reshape(hi - lo, k)


def permutation(n, rng):
    """`randomPermutation(n, using: &rng)`: Fisher–Yates from the last index down."""
    p = list(range(n))
    for i in range(n - 1, 0, -1):
        j = rng.next() % (i + 1)
        p[i], p[j] = p[j], p[i]
    return p
