#!/usr/bin/env python3
"""Golden values for Tests/LiftedTrainTests/RandomTests.swift: the first outputs of
SplitMix64 (Steele, Lea & Flood 2014; Vigna's splitmix64.c) for two seeds, written here
from the published C reference, independently of Random.swift. Run: python3 scripts/reference_splitmix64.py
"""
MASK = (1 << 64) - 1


def splitmix64(seed):
    state = seed & MASK
    while True:
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        yield z ^ (z >> 31)


if __name__ == "__main__":
    for seed in (0, 1234567):
        g = splitmix64(seed)
        print(seed, [next(g) for _ in range(5)])
