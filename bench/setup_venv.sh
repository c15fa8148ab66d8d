#!/usr/bin/env bash
# Creates bench/.venv (git-ignored) with torch, numpy, pandas and scikit-learn from PyPI for the baselines.
# PyPI has no CPU-only torch for Linux x86_64: this pulls the CUDA wheels (~4-5 GB on disk), unused here.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python3 -m venv "$here/.venv"
"$here/.venv/bin/python" -m pip install --upgrade pip
"$here/.venv/bin/python" -m pip install torch numpy pandas scikit-learn
"$here/.venv/bin/python" -c 'import torch, numpy, pandas, sklearn; print("torch", torch.__version__, "numpy", numpy.__version__, "pandas", pandas.__version__, "sklearn", sklearn.__version__)'
