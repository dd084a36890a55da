"""Reading an lpom training history (docs/HISTORY-FORMAT.md, format_version 1) with h5py."""
import json

import h5py
import numpy as np

FORMAT = "lpom-history"
VERSION = 1
UNCOMMITTED_STEP = -1


class HistoryError(ValueError):
    """A file that is not a readable lpom history; the message names the file and the problem."""


# Chunk cache per dataset: a packed history (`lpom pack`, `--compress`) stores 8 snapshots per
# chunk of about 1 MiB; with HDF5's default 1 MiB cache every snapshot read decompresses all 8.
# HDF5 allocates the cache as chunks are read (at most 8 snapshots of a dataset), so small
# histories cost nothing extra.
_CHUNK_CACHE = dict(rdcc_nbytes=256 << 20, rdcc_nslots=10007)


def _open_h5(path, locking):
    try:
        return h5py.File(path, "r", locking=locking, **_CHUNK_CACHE)
    except TypeError:  # h5py < 3.5 or an HDF5 without the locking switch
        return h5py.File(path, "r")
    except OSError as e:
        # HDF5 shares one file object per process: a file this process already opened with the
        # default lock (h5py.File(path)) reopens only with the same setting.
        if "locking flag" not in str(e):
            raise
        return h5py.File(path, "r")


def open_history(path, locking=False):
    """Opens a history for reading.

    `locking=False` (the default) skips HDF5's file lock, so a file `lpom train` is still
    writing opens (with the lock, h5py fails with "unable to lock file" until the run ends).
    A reader then sees the snapshots committed when it opened the file; reopen to see newer
    ones (docs/HISTORY-FORMAT.md, "Reading a running history").
    """
    return History(path, locking=locking)


def _text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


class History:
    """One history file: `model` and `training` (dicts), `steps` (the step of each complete
    snapshot), `theta(t)`, `buffers(t)`, `state_dict(t)`, `metrics()`."""

    def __init__(self, path, locking=False):
        self.path = str(path)
        # Datasets by group, opened once and kept: each open gets an empty chunk cache.
        self._datasets = {}
        try:
            self.file = _open_h5(self.path, locking)
        except OSError as e:
            raise HistoryError("%s: cannot open as HDF5 (%s)" % (self.path, e)) from None
        attrs = self.file.attrs
        if _text(attrs.get("format", "")) != FORMAT:
            self.close()
            raise HistoryError("%s: not an lpom history (no format=%r attribute)" % (self.path, FORMAT))
        version = int(attrs.get("format_version", 0))
        if version > VERSION:
            self.close()
            raise HistoryError("%s: format_version %d is newer than this reader (%d)" % (self.path, version, VERSION))
        self.model = json.loads(_text(attrs["model"]))
        self.training = json.loads(_text(attrs["training"])) if "training" in attrs else {}
        self.created_by = _text(attrs.get("created_by", ""))
        steps = np.asarray(self.file["snapshot_step"][()], dtype=np.int64)
        # A run killed inside a snapshot may leave an uncommitted (-1) last row: readers drop it.
        while len(steps) and steps[-1] == UNCOMMITTED_STEP:
            steps = steps[:-1]
        self.steps = steps

    # -- context manager ---------------------------------------------------------------------
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self._datasets = {}
        if getattr(self, "file", None) is not None:
            self.file.close()
            self.file = None

    def __len__(self):
        return len(self.steps)

    def __repr__(self):
        return "<lpom history %s: %s on %s, %d snapshots>" % (
            self.path, self.training.get("method", "?"), self.training.get("dataset", "?"), len(self))

    # -- snapshots ---------------------------------------------------------------------------
    def index(self, t):
        """The row of snapshot `t` (negative counts from the end, -1 is the final θ)."""
        n = len(self.steps)
        k = t + n if t < 0 else t
        if not 0 <= k < n:
            raise IndexError("%s: snapshot %d is outside the %d snapshots (0 … %d, or -1 … -%d)"
                             % (self.path, t, n, n - 1, n))
        return k

    def _group(self, name, t):
        if name not in self.file:
            return {}
        k = self.index(t)
        if name not in self._datasets:
            self._datasets[name] = dict(self.file[name].items())
        return {key: np.asarray(ds[k]) for key, ds in self._datasets[name].items()}

    def theta(self, t=-1):
        """The parameters of snapshot `t`: {name: float32 array}, PyTorch names and shapes."""
        return self._group("theta", t)

    def buffers(self, t=-1):
        """The non-trainable state of snapshot `t` (batch-norm running_mean / running_var)."""
        return self._group("buffers", t)

    @property
    def parameter_names(self):
        return list(self.file["theta"].keys())

    def batchnorm_names(self):
        """Names of every batch-norm layer of the model, recurrence blocks included."""
        out = []

        def walk(layers):
            for layer in layers:
                if layer["type"] == "batchnorm":
                    out.append(layer["name"])
                for block in layer.get("blocks", []) if layer["type"] == "recurrence" else []:
                    walk(block)
        walk(self.model["layers"])
        return out

    def state_dict(self, t=-1, torch=None, prefix="", strip=""):
        """Snapshot `t` as a state_dict ready for `load_state_dict` of `build_model(self.model)`:
        parameters, buffers, and `<bn>.num_batches_tracked` (the snapshot's step, int64) for every
        batch-norm layer. Values are torch tensors when PyTorch is importable (or torch=True),
        NumPy arrays with torch=False. `strip` removes a leading part of every name and `prefix`
        adds one: `strip="layers."` loads the model into a plain `nn.Sequential` of the same
        layers (names `0.weight`, …)."""
        k = self.index(t)
        sd = dict(self.theta(k))
        sd.update(self.buffers(k))
        for name in self.batchnorm_names():
            sd[name + ".num_batches_tracked"] = np.array(int(self.steps[k]), dtype=np.int64)
        if strip or prefix:
            sd = {prefix + (key[len(strip):] if strip and key.startswith(strip) else key): v for key, v in sd.items()}
        if torch is None:
            try:
                import torch as _torch  # noqa: F401
                torch = True
            except ImportError:
                torch = False
        if torch:
            import torch as _torch
            sd = {key: _torch.from_numpy(np.array(v, order="C")) for key, v in sd.items()}
        return sd

    # -- metrics -----------------------------------------------------------------------------
    def metric_names(self):
        return [n for n in self.file["metrics"].keys() if n != "step"] if "metrics" in self.file else []

    def metrics(self, as_frame=None):
        """The per-step curves: a pandas DataFrame indexed by step when pandas is installed (or
        as_frame=True), else {name: array} with "step". NaN where a metric was not recorded."""
        if "metrics" not in self.file:
            cols = {"step": np.zeros(0, dtype=np.int64)}
        else:
            g = self.file["metrics"]
            # A live run may have extended one dataset before another: keep the common rows.
            n = min(len(g[name]) for name in g.keys())
            cols = {name: np.asarray(g[name][:n]) for name in g.keys()}
            step = cols["step"]
            keep = step != UNCOMMITTED_STEP
            cols = {name: v[keep] for name, v in cols.items()}
        if as_frame is None:
            try:
                import pandas  # noqa: F401
                as_frame = True
            except ImportError:
                as_frame = False
        if as_frame:
            import pandas as pd
            step = cols.pop("step")
            return pd.DataFrame(cols, index=pd.Index(step, name="step"))
        return cols
