"""Interop with PyPI's safetensors (the Hugging Face reference implementation).

1. A file written by precis (safetensors_tool write) loads with safetensors.numpy (and, for BF16,
   which numpy lacks, safetensors.torch) with byte-identical tensors, the same shapes and dtypes,
   and the same __metadata__.
2. Files written by safetensors.numpy.save_file and safetensors.torch.save_file read in precis
   (safetensors_tool dump) with byte-identical tensors and metadata.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
from safetensors import safe_open
from safetensors.numpy import save_file as np_save
from safetensors.torch import save_file as torch_save

TOOL = os.path.join(os.environ["PRECIS_BUILD"], "tests", "safetensors_tool")


def dump(path):
    out = subprocess.run([TOOL, "dump", path], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def precis_to_pypi(tmp):
    path = os.path.join(tmp, "precis.safetensors")
    subprocess.run([TOOL, "write", path], check=True)
    ours = dump(path)
    with safe_open(path, framework="np") as f:
        meta = f.metadata()
    assert meta == ours["metadata"], (meta, ours["metadata"])
    assert meta["precis.config"] == '{"d_model": 64, "name": "ünïcode ✓"}'
    checked = 0
    for t in ours["tensors"]:
        if t["dtype"] == "BF16":
            with safe_open(path, framework="pt") as f:
                arr = f.get_tensor(t["name"]).contiguous().view(torch.int16).numpy()
        else:
            with safe_open(path, framework="np") as f:
                arr = f.get_tensor(t["name"])
        assert list(arr.shape) == t["shape"], (t["name"], arr.shape, t["shape"])
        assert arr.tobytes().hex() == t["hex"], t["name"]
        checked += 1
    print(f"precis -> safetensors: {checked} tensors byte-identical, metadata equal")


def pypi_to_precis(tmp):
    rng = np.random.default_rng(7)
    arrays = {
        "model.embed_tokens.weight": rng.standard_normal((7, 5)).astype(np.float32),
        "h": rng.standard_normal((3, 4)).astype(np.float16),
        "i8": rng.integers(-128, 128, (9,), dtype=np.int8),
        "u8": rng.integers(0, 256, (2, 2, 2), dtype=np.uint8),
        "i16": rng.integers(-30000, 30000, (4,), dtype=np.int16),
        "u16": rng.integers(0, 65535, (4,), dtype=np.uint16),
        "i32": rng.integers(-(2**31), 2**31 - 1, (3,), dtype=np.int32),
        "u32": rng.integers(0, 2**32 - 1, (3,), dtype=np.uint32),
        "i64": rng.integers(-(2**62), 2**62, (2,), dtype=np.int64),
        "empty": np.zeros((0, 4), dtype=np.float32),
    }
    meta = {"format": "np", "note": "written by safetensors.numpy"}
    path = os.path.join(tmp, "numpy.safetensors")
    np_save(arrays, path, metadata=meta)
    ours = dump(path)
    assert ours["metadata"] == meta, ours["metadata"]
    by_name = {t["name"]: t for t in ours["tensors"]}
    assert set(by_name) == set(arrays), (set(by_name), set(arrays))
    names = {np.float32: "F32", np.float16: "F16", np.int8: "I8", np.uint8: "U8", np.int16: "I16",
             np.uint16: "U16", np.int32: "I32", np.uint32: "U32", np.int64: "I64"}
    for name, arr in arrays.items():
        t = by_name[name]
        assert t["dtype"] == names[arr.dtype.type], (name, t["dtype"])
        assert t["shape"] == list(arr.shape), (name, t["shape"])
        assert t["hex"] == arr.tobytes().hex(), name
    print(f"safetensors.numpy -> precis: {len(arrays)} tensors byte-identical, metadata equal")

    bf = torch.randn(6, 3, generator=torch.Generator().manual_seed(3)).to(torch.bfloat16)
    path = os.path.join(tmp, "torch.safetensors")
    torch_save({"lm_head.weight": bf}, path, metadata={"format": "pt"})
    ours = dump(path)
    (t,) = ours["tensors"]
    assert t["dtype"] == "BF16" and t["shape"] == [6, 3]
    assert t["hex"] == bf.view(torch.int16).numpy().tobytes().hex()
    print("safetensors.torch (BF16) -> precis: byte-identical")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        precis_to_pypi(tmp)
        pypi_to_precis(tmp)
    print("OK")


if __name__ == "__main__":
    sys.exit(main())
