"""Shared pieces of the training end-to-end tests: a tiny real-text dataset and a runner."""
import os
import subprocess

import numpy as np
from safetensors import safe_open

PRECIS = os.environ["PRECIS_BIN"]
LICENSES = "/usr/share/common-licenses"

# A tiny model that still learns English bytes within seconds on one core.
TINY = ["--d-model", "32", "--layers", "2", "--heads", "2", "--context", "64", "--batch", "8",
        "--lr", "3e-3", "--seed", "7", "--threads", "1"]


def make_dataset(folder):
    """A nanoGPT-style folder (headerless uint16 train.bin / val.bin) of byte tokens of real
    English text: the GNU and Apache licences for training, the MPL for validation."""
    os.makedirs(folder, exist_ok=True)
    train = b"".join(open(os.path.join(LICENSES, n), "rb").read()
                     for n in ("GPL-3", "GPL-2", "LGPL-2.1", "Apache-2.0"))
    val = open(os.path.join(LICENSES, "MPL-2.0"), "rb").read()
    np.frombuffer(train, dtype=np.uint8).astype(np.uint16).tofile(os.path.join(folder, "train.bin"))
    np.frombuffer(val, dtype=np.uint8).astype(np.uint16).tofile(os.path.join(folder, "val.bin"))
    return folder


def train(args, check=True, **kwargs):
    """Runs precis train; returns the CompletedProcess (stdout/stderr as text)."""
    proc = subprocess.run([PRECIS, "train"] + args, capture_output=True, text=True, **kwargs)
    if check and proc.returncode != 0:
        raise AssertionError(f"precis train {' '.join(args)} failed ({proc.returncode}):\n"
                             f"{proc.stdout}\n{proc.stderr}")
    return proc


def tensors(path):
    """name -> raw bytes of every tensor of a safetensors file, read by PyPI's safetensors."""
    out = {}
    with safe_open(path, framework="np") as f:
        for name in f.keys():
            out[name] = f.get_tensor(name).tobytes()
    return out


def metadata(path):
    with safe_open(path, framework="np") as f:
        return f.metadata()
