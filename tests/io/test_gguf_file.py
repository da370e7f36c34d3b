"""GGUF interop oracle: precis's reader and writer against PyPI's gguf (llama.cpp's own Python package).

1. precis's table of ggml type layouts equals gguf's GGML_QUANT_SIZES.
2. Files precis writes (alignment 32 and 64) read in gguf.GGUFReader with the expected metadata
   (every value type, nested arrays), tensor names, shapes, types, offsets and raw bytes; every
   tensor precis can dequantize dequantizes in gguf.quants.dequantize to the same fp32 bits.
3. A file gguf.GGUFWriter writes (every value type, F32/F16/BF16 and block-quantized tensors)
   reads in precis with identical metadata, types and bytes, and the same dequantized values.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import gguf
from gguf import GGMLQuantizationType as Q, GGUFValueType as V

BUILD = os.environ["PRECIS_BUILD"]
TOOL = os.path.join(BUILD, "tests", "gguf_file_tool")


def tool(*args):
    out = subprocess.run([TOOL, *args], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"gguf_file_tool {' '.join(args)} failed: {out.stderr}")
    return out.stdout


def fnv1a(data: bytes) -> str:
    h = 1469598103934665603
    for b in data:
        h = ((h ^ b) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def f32(x):
    return float(np.float32(x))


# What `gguf_file_tool write-sample` writes (tests/io/gguf_file_tool.cpp): key -> (type, element
# type or None, value).
SAMPLE = {
    "general.architecture": ("STRING", None, "llama"),
    "general.name": ("STRING", None, "precis sample"),
    "general.quantization_version": ("UINT32", None, 2),
    "t.u8": ("UINT8", None, 200),
    "t.i8": ("INT8", None, -100),
    "t.u16": ("UINT16", None, 60000),
    "t.i16": ("INT16", None, -30000),
    "t.u32": ("UINT32", None, 4000000000),
    "t.i32": ("INT32", None, -2000000000),
    "t.f32": ("FLOAT32", None, f32(0.1)),
    "t.bool": ("BOOL", None, True),
    "t.string": ("STRING", None, "caf\u00e9 \u2581token"),
    "t.u64": ("UINT64", None, 18000000000000000000),
    "t.i64": ("INT64", None, -9000000000000000000),
    "t.f64": ("FLOAT64", None, 1e-300),
    "a.u8": ("ARRAY", "UINT8", [0, 128, 255]),
    "a.i8": ("ARRAY", "INT8", [-128, 0, 127]),
    "a.u16": ("ARRAY", "UINT16", [0, 65535]),
    "a.i16": ("ARRAY", "INT16", [-32768, 32767]),
    "a.u32": ("ARRAY", "UINT32", [1, 2, 3]),
    "a.i32": ("ARRAY", "INT32", [-1, -2, -3]),
    "a.f32": ("ARRAY", "FLOAT32", [0.5, -1.25, f32(3e38)]),
    "a.bool": ("ARRAY", "BOOL", [True, False]),
    "a.string": ("ARRAY", "STRING", ["<s>", "", "\u2581the"]),
    "a.u64": ("ARRAY", "UINT64", [0, 18446744073709551615]),
    "a.i64": ("ARRAY", "INT64", [-9223372036854775808]),
    "a.f64": ("ARRAY", "FLOAT64", [2.718281828459045, -0.0]),
    "a.empty": ("ARRAY", "INT32", []),
    "a.nested": ("ARRAY", "ARRAY", [[1, 2], ["x", "yz"]]),
}

GGUF_NAMES = {t: t.name for t in V}
GGUF_NAMES[V.FLOAT32] = "FLOAT32"


def reader_metadata(reader):
    """key -> (type, element type, value) as gguf.GGUFReader sees it."""
    out = {}
    for key, field in reader.fields.items():
        if key.startswith("GGUF."):
            continue
        main = field.types[0].name
        if main != "ARRAY":
            out[key] = (main, None, field.contents())
            continue
        # parts: key length, key, value type, element type, count, elements...
        count = int(field.parts[4][0])
        if count == 0:
            # gguf-py records no element type for an empty array; read it from the raw part.
            out[key] = (main, V(int(field.parts[3][0])).name, [])
        elif field.types[1] == V.ARRAY:
            # gguf-py flattens nested arrays: keep the leaf parts, decoded by the caller.
            out[key] = (main, "ARRAY", [field.parts[i] for i in field.data])
        else:
            out[key] = (main, field.types[-1].name, field.contents())
    return out


def same_leaves(nested, parts):
    leaves = [x for inner in nested for x in inner]
    if len(leaves) != len(parts):
        return False
    for leaf, part in zip(leaves, parts):
        got = part.tobytes().decode() if isinstance(leaf, str) else part.tolist()[0]
        if got != leaf:
            return False
    return True


def same_value(expected, got):
    (etype, eelem, evalue), (gtype, gelem, gvalue) = expected, got
    if etype != gtype or eelem != gelem:
        return False
    if eelem == "ARRAY":
        return same_leaves(evalue, gvalue)
    return evalue == gvalue


def precis_metadata(dump):
    return {m["key"]: (m["type"], m.get("element_type"), m["value"]) for m in dump["metadata"]}


def check_dequant(path, name, qtype, data, where):
    """precis's dequantization of tensor `name` equals gguf's, bit for bit."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "x.f32")
        tool("dequant", path, name, out)
        mine = np.fromfile(out, dtype=np.float32)
    theirs = gguf.quants.dequantize(np.asarray(data), qtype).astype(np.float32).ravel()
    assert mine.shape == theirs.shape, f"{where} {name}: {mine.shape} vs {theirs.shape}"
    assert np.array_equal(mine.view(np.uint32), theirs.view(np.uint32)), (
        f"{where} {name}: {np.sum(mine.view(np.uint32) != theirs.view(np.uint32))} of {mine.size} "
        f"values differ (max |diff| {np.max(np.abs(mine - theirs))})")
    return mine.size


def test_type_table():
    mine = {t["id"]: (t["block"], t["bytes"]) for t in json.loads(tool("types"))}
    theirs = {int(t): sizes for t, sizes in gguf.GGML_QUANT_SIZES.items()}
    assert mine == theirs, f"layouts differ: {set(mine.items()) ^ set(theirs.items())}"
    print(f"type table: {len(mine)} ggml types agree with gguf.GGML_QUANT_SIZES")


def test_precis_file_reads_in_gguf(alignment):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "sample.gguf")
        tool("write-sample", path, str(alignment))
        dump = json.loads(tool("dump", path))
        reader = gguf.GGUFReader(path)
        got = reader_metadata(reader)
        if alignment != 32:
            assert got.pop("general.alignment") == ("UINT32", None, alignment)
        assert list(got) == list(SAMPLE), f"keys differ: {list(got)} vs {list(SAMPLE)}"
        for key, expected in SAMPLE.items():
            assert same_value(expected, got[key]), f"{key}: gguf read {got[key]}, wrote {expected}"
        assert reader.alignment == alignment
        assert len(reader.tensors) == len(dump["tensors"]) == 34
        values = 0
        for t, mine in zip(reader.tensors, dump["tensors"]):
            assert t.name == mine["name"]
            assert [int(d) for d in t.shape] == mine["dims"], (t.name, t.shape, mine["dims"])
            assert int(t.tensor_type) == mine["type"]
            assert t.data_offset == dump["data_offset"] + mine["offset"]
            assert t.data_offset % alignment == 0
            raw = t.data.tobytes()
            assert len(raw) == t.n_bytes == mine["nbytes"]
            assert fnv1a(raw) == mine["fnv1a"], f"{t.name}: bytes differ"
            if mine["dequantizable"]:
                values += check_dequant(path, t.name, t.tensor_type, t.data, "precis-written")
        print(f"precis-written file (alignment {alignment}): {len(SAMPLE)} keys and 34 tensors "
              f"equal in gguf.GGUFReader; {values} dequantized values bit-identical")


def test_gguf_file_reads_in_precis():
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "gguf-py.gguf")
        w = gguf.GGUFWriter(path, "llama")
        w.add_name("written by gguf-py")
        w.add_uint8("t.u8", 7)
        w.add_int8("t.i8", -7)
        w.add_uint16("t.u16", 700)
        w.add_int16("t.i16", -700)
        w.add_uint32("t.u32", 70000)
        w.add_int32("t.i32", -70000)
        w.add_float32("t.f32", 0.3)
        w.add_bool("t.bool", False)
        w.add_uint64("t.u64", 2**40)
        w.add_int64("t.i64", -(2**40))
        w.add_float64("t.f64", 0.3)
        w.add_string("t.string", "\u2581hello")
        w.add_array("a.i32", [1, -2, 3])
        w.add_array("a.f32", [0.25, 1.5])
        w.add_array("a.bool", [False, True])
        w.add_array("a.string", ["<unk>", "<s>", "</s>"])
        w.add_key_value("a.u64", [1, 2**63], V.ARRAY, sub_type=V.UINT64)
        w.add_key_value("a.f64", [0.1], V.ARRAY, sub_type=V.FLOAT64)
        w.add_key_value("a.u8", [1, 2], V.ARRAY, sub_type=V.UINT8)
        w.add_array("a.nested", [[1, 2], [3]])
        tensors = {}
        x = rng.standard_normal((4, 64)).astype(np.float32)
        tensors["f32"] = (x, None)
        tensors["f16"] = (x.astype(np.float16), None)
        for qtype in (Q.BF16, Q.Q8_0, Q.Q4_0, Q.Q4_1, Q.Q5_0, Q.Q5_1):
            tensors[qtype.name.lower()] = (gguf.quants.quantize(x, qtype), qtype)
        for name, (data, qtype) in tensors.items():
            w.add_tensor(f"t.{name}", data, raw_dtype=qtype)
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()

        dump = json.loads(tool("dump", path))
        reader = gguf.GGUFReader(path)
        theirs = reader_metadata(reader)
        mine = precis_metadata(dump)
        assert list(mine) == list(theirs), f"keys: {list(mine)} vs {list(theirs)}"
        for key in theirs:
            assert same_value(mine[key], theirs[key]), f"{key}: precis {mine[key]}, gguf {theirs[key]}"
        assert mine["t.f32"][2] == f32(0.3) and mine["t.f64"][2] == 0.3
        assert mine["a.nested"] == ("ARRAY", "ARRAY", [[1, 2], [3]])
        values = 0
        for t, m in zip(reader.tensors, dump["tensors"]):
            assert (t.name, int(t.tensor_type), [int(d) for d in t.shape]) == (
                m["name"], m["type"], m["dims"])
            assert fnv1a(t.data.tobytes()) == m["fnv1a"], f"{t.name}: bytes differ"
            assert m["dequantizable"], t.name
            values += check_dequant(path, t.name, t.tensor_type, t.data, "gguf-written")
        print(f"gguf-py-written file: {len(theirs)} keys equal in precis; {len(reader.tensors)} "
              f"tensors with equal bytes; {values} dequantized values bit-identical")


if __name__ == "__main__":
    test_type_table()
    test_precis_file_reads_in_gguf(32)
    test_precis_file_reads_in_gguf(64)
    test_gguf_file_reads_in_precis()
    print("ok")
