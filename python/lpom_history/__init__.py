"""Python companion of lpom: read training histories (docs/HISTORY-FORMAT.md) with h5py and NumPy,
and rebuild any snapshot in PyTorch (optional).

    import lpom_history as lh
    h = lh.open_history("run.h5")                 # locking=False: also while lpom still writes it
    net = lh.build_model(h.model)                 # needs PyTorch
    net.load_state_dict(h.state_dict(-1)); net.eval()
"""
from .data import load_split, read_idx
from .history import History, HistoryError, open_history
from .safetensors import read_safetensors

__all__ = ["History", "HistoryError", "open_history", "build_model", "state_dict", "read_idx", "load_split",
           "read_safetensors", "evaluate"]
__version__ = "0.1.0"


def state_dict(path, t=-1, **kw):
    """Snapshot `t` of the history at `path` as a state_dict (see `History.state_dict`)."""
    with open_history(path) as h:
        return h.state_dict(t, **kw)


def build_model(model):
    """A torch.nn.Module for a model JSON (see `torch_model.build_model`)."""
    from .torch_model import build_model as build
    return build(model)


def evaluate(module, x, y, batch=1000):
    """(accuracy, mean cross-entropy) of a classifier on x [N, …] (pixels/255) and labels y, in
    eval mode and float32, as `lpom eval` reports them."""
    import numpy as np
    import torch
    module.eval()
    correct, loss = 0, 0.0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            xb = torch.as_tensor(np.asarray(x[i:i + batch], dtype=np.float32))
            yb = torch.as_tensor(np.asarray(y[i:i + batch], dtype=np.int64))
            out = module(xb)
            correct += int((out.argmax(1) == yb).sum())
            loss += float(torch.nn.functional.cross_entropy(out.double(), yb, reduction="sum"))
    return correct / len(x), loss / len(x)
