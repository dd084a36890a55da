#!/usr/bin/env python3
"""Golden values for Tests/LiftedTrainTests/OptimizersTests.swift.

Runs torch.optim.SGD / torch.optim.Adam in float64 for five steps on a tiny two-tensor
"store" (a weight [2, 3] and a bias [2]) whose loss is

    L(p) = sum(0.5 * c * p**2 + d * p)      so that   grad L = c * p + d,

i.e. the gradient depends on the current parameters, as in real training. Prints the
parameters after the last step with full float64 precision, in the layout the Swift test
hard-codes. Regenerate with

    python3 -m venv .venv-torch && .venv-torch/bin/pip install torch==2.13.0+cpu numpy
    .venv-torch/bin/python scripts/reference_optimizers.py
"""
import torch

torch.set_default_dtype(torch.float64)

W0 = [[0.5, -1.0, 2.0], [0.1, 0.2, -0.3]]
B0 = [0.05, -0.4]
CW = [[1.0, 2.0, 0.5], [3.0, 0.25, 1.5]]
DW = [[0.1, -0.2, 0.3], [-0.4, 0.5, 0.0]]
CB = [2.0, 0.75]
DB = [-0.3, 0.2]
STEPS = 5

CASES = [
    ("sgdPlain", torch.optim.SGD, dict(lr=0.1)),
    ("sgdMomentum", torch.optim.SGD, dict(lr=0.1, momentum=0.9)),
    ("sgdNesterov", torch.optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("sgdMomentumWeightDecay", torch.optim.SGD, dict(lr=0.05, momentum=0.5, weight_decay=0.1)),
    ("adam", torch.optim.Adam, dict(lr=0.1)),
    ("adamWeightDecay", torch.optim.Adam,
     dict(lr=0.05, betas=(0.8, 0.95), eps=1e-3, weight_decay=0.1)),
]


def run(opt_class, kwargs):
    w = torch.tensor(W0, requires_grad=True)
    b = torch.tensor(B0, requires_grad=True)
    cw, dw, cb, db = map(torch.tensor, (CW, DW, CB, DB))
    opt = opt_class([w, b], **kwargs)
    for _ in range(STEPS):
        opt.zero_grad()
        loss = (0.5 * cw * w**2 + dw * w).sum() + (0.5 * cb * b**2 + db * b).sum()
        loss.backward()
        opt.step()
    return w.detach().flatten().tolist(), b.detach().tolist()


def fmt(xs):
    return "[" + ", ".join(repr(x) for x in xs) + "]"


if __name__ == "__main__":
    print(f"// torch {torch.__version__}, float64, {STEPS} steps")
    for name, cls, kw in CASES:
        w, b = run(cls, kw)
        print(f'"{name}": (weight: {fmt(w)},')
        print(f'           bias: {fmt(b)}),')
