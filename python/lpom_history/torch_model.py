"""PyTorch modules for every layer type of the history format's model JSON (docs/HISTORY-FORMAT.md),
recurrence (ArchFromOpt) layers included, named so that `History.state_dict(t)` loads strictly.

`build_model(model)` returns an `LpomModel` whose `layers` is an `nn.Sequential` with one child per
model layer (its index K is the `layers.K` of the parameter names); a recurrence layer is a
`Recurrence` module with `blocks` (an `nn.ModuleList` of `nn.Sequential`) and `states` (learnable
coefficients `states.S.coef`). Semantics follow lpom (PyTorch's): y = x Wᵀ + b, convolutions with
square kernels, batch norm over channels of [C, H, W] or features of [C], average pooling counting
padding, `normalize` = (x − mean)/std.
"""
import torch
from torch import nn


class Normalize(nn.Module):
    """(x − mean) / std, no parameters."""

    def __init__(self, mean, std):
        super().__init__()
        self.mean, self.std = float(mean), float(std)

    def forward(self, x):
        return (x - self.mean) / self.std

    def extra_repr(self):
        return "mean=%g, std=%g" % (self.mean, self.std)


class GlobalAvgPool(nn.Module):
    """[N, C, H, W] → [N, C], the mean over each plane."""

    def forward(self, x):
        return x.mean(dim=(2, 3))


class _Coefficients(nn.Module):
    """The learnable coefficients of one recurrence state (parameter `coef`)."""

    def __init__(self, values):
        super().__init__()
        self.coef = nn.Parameter(torch.tensor(values, dtype=torch.float32))


class Recurrence(nn.Module):
    """A `recurrence` layer (Li, Yang, Chen, Lin 2018): x_0 is the input, state s ≥ 1 is
    Σ_terms coef · x_from or coef · T_block(x_from); each (block, from) pair is computed once."""

    def __init__(self, spec, name, shape):
        super().__init__()
        self.recurrence = spec.get("recurrence")
        blocks = []
        for b, layers in enumerate(spec["blocks"]):
            mods, out = _sequence(layers, shape, "%s.blocks.%d" % (name, b))
            if out != shape:
                raise ValueError("%s: block %d maps %s to %s; recurrence states keep their shape" % (name, b, shape, out))
            blocks.append(mods)
        self.blocks = nn.ModuleList(blocks)
        self.terms = []
        self.states = nn.ModuleDict()
        for s, state in enumerate(spec["states"], start=1):
            learn = [float(t["coef"]) for t in state["terms"] if t.get("learnable")]
            if learn:
                self.states[str(s)] = _Coefficients(learn)
            resolved, li = [], 0
            for t in state["terms"]:
                if not 0 <= t["from"] < s:
                    raise ValueError("%s: state %d reads state %d" % (name, s, t["from"]))
                idx = None
                if t.get("learnable"):
                    idx, li = li, li + 1
                resolved.append((t["from"], t.get("block"), float(t["coef"]), idx))
            self.terms.append(resolved)
        self.output = spec.get("output", len(self.terms))

    def forward(self, x):
        xs, cache = [x], {}
        for s, terms in enumerate(self.terms, start=1):
            y = None
            for frm, block, coef, idx in terms:
                if block is None:
                    src = xs[frm]
                else:
                    if (block, frm) not in cache:
                        cache[(block, frm)] = self.blocks[block](xs[frm])
                    src = cache[(block, frm)]
                c = self.states[str(s)].coef[idx] if idx is not None else coef
                y = c * src if y is None else y + c * src
            xs.append(y)
        return xs[self.output]

    def extra_repr(self):
        return "recurrence=%s, states=%d" % (self.recurrence, len(self.terms))


def _image(shape, name, kind):
    if len(shape) != 3:
        raise ValueError("%s (%s) needs [channels, height, width] input but receives %s" % (name, kind, shape))
    return shape


def _pooled(n, k, s, p):
    return (n + 2 * p - k) // s + 1


def _layer(spec, shape, name):
    """The module of one layer spec and its per-sample output shape."""
    t = spec["type"]
    g = spec.get
    if t == "dense":
        width = 1
        for d in shape:
            width *= d
        if spec["in"] != width:
            raise ValueError("%s (dense) takes %d inputs but receives %d" % (name, spec["in"], width))
        return nn.Linear(spec["in"], spec["out"]), [spec["out"]]
    if t in ("conv2d", "conv_transpose2d"):
        c, h, w = _image(shape, name, t)
        k, s, p = spec["kernel"], g("stride", 1), g("padding", 0)
        if t == "conv2d":
            m = nn.Conv2d(spec["in_channels"], spec["out_channels"], k, stride=s, padding=p)
            return m, [spec["out_channels"], _pooled(h, k, s, p), _pooled(w, k, s, p)]
        op = g("output_padding", 0)
        m = nn.ConvTranspose2d(spec["in_channels"], spec["out_channels"], k, stride=s, padding=p, output_padding=op)
        return m, [spec["out_channels"], (h - 1) * s - 2 * p + k + op, (w - 1) * s - 2 * p + k + op]
    if t == "batchnorm":
        eps, momentum = g("eps", 1e-5), g("momentum", 0.1)
        if len(shape) == 3:
            return nn.BatchNorm2d(shape[0], eps=eps, momentum=momentum), shape
        width = 1
        for d in shape:
            width *= d
        return nn.BatchNorm1d(width, eps=eps, momentum=momentum), shape
    if t in ("maxpool2d", "avgpool2d"):
        c, h, w = _image(shape, name, t)
        k = spec["kernel"]
        s, p = g("stride", k) or k, g("padding", 0)
        m = nn.MaxPool2d(k, s, p) if t == "maxpool2d" else nn.AvgPool2d(k, s, p, count_include_pad=True)
        return m, [c, _pooled(h, k, s, p), _pooled(w, k, s, p)]
    if t == "global_avgpool":
        return GlobalAvgPool(), [_image(shape, name, t)[0]]
    if t == "flatten":
        width = 1
        for d in shape:
            width *= d
        return nn.Flatten(), [width]
    if t == "unflatten":
        return nn.Unflatten(1, tuple(spec["shape"])), list(spec["shape"])
    if t == "normalize":
        return Normalize(spec["mean"], spec["std"]), shape
    if t == "recurrence":
        return Recurrence(spec, spec["name"], list(shape)), shape
    acts = {"relu": lambda: nn.ReLU(), "sigmoid": lambda: nn.Sigmoid(), "tanh": lambda: nn.Tanh(),
            "softplus": lambda: nn.Softplus(), "identity": lambda: nn.Identity(),
            "leaky_relu": lambda: nn.LeakyReLU(g("alpha", 0.01)), "elu": lambda: nn.ELU(g("alpha", 1.0))}
    if t in acts:
        return acts[t](), shape
    raise ValueError("%s has unknown layer type '%s'" % (name, t))


def _sequence(layers, shape, prefix):
    """An nn.Sequential of `layers` whose child K is named `prefix.K` in the history."""
    mods = []
    for i, spec in enumerate(layers):
        where = "%s.%d" % (prefix, i)
        if "name" in spec and spec["name"] != where:
            raise ValueError("layer '%s' sits at position %s; this builder names parameters by position "
                             "(lpom writes layers.K for the K-th layer)" % (spec["name"], where))
        m, shape = _layer(spec, shape, where)
        mods.append(m)
    return nn.Sequential(*mods), list(shape)


class LpomModel(nn.Module):
    """A network of a history's model JSON; `forward` takes [N, *input_shape] or flattened rows
    [N, prod(input_shape)] (MNIST pixels x/255 either way) and returns logits / outputs."""

    def __init__(self, model):
        super().__init__()
        self.input_shape = list(model["input_shape"])
        self.layers, self.output_shape = _sequence(model["layers"], self.input_shape, "layers")

    def forward(self, x):
        return self.layers(x.reshape(x.shape[0], *self.input_shape))


def build_model(model):
    """The PyTorch module of a model JSON (a dict, or its text); load a snapshot with
    `module.load_state_dict(history.state_dict(t))` and call `module.eval()` before inference."""
    if isinstance(model, (str, bytes)):
        import json
        model = json.loads(model)
    return LpomModel(model)
