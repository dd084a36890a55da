# Sourced by the bench scripts that run a PyTorch peer. LPOM_TORCH_PYTHON names the Python
# interpreter that has torch (install: bench/README.md); without it they stop with one line.
if [ -z "${LPOM_TORCH_PYTHON:-}" ]; then
    echo "error: LPOM_TORCH_PYTHON is not set: set it to a Python with PyTorch, e.g. LPOM_TORCH_PYTHON=.venv-torch/bin/python (install: bench/README.md)" >&2
    exit 2
fi
if ! "$LPOM_TORCH_PYTHON" -c "import torch" 2>/dev/null; then
    echo "error: LPOM_TORCH_PYTHON=$LPOM_TORCH_PYTHON cannot import torch (install: bench/README.md)" >&2
    exit 2
fi
