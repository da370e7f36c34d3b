"""precis's GGUF block types against two independent oracles.

1. ggml's own C reference quantizers and dequantizers (quantize_row_*_ref, dequantize_row_*),
   called through ctypes from the libggml-base.so that llama-cpp-python ships: byte-for-byte
   equality of the packed blocks for every type, bit-for-bit equality of dequantized values.
2. PyPI gguf (llama.cpp's gguf-py): gguf.quants.quantize where it is implemented (Q8_0, Q4_0,
   Q4_1, Q5_0, Q5_1, MXFP4) and gguf.quants.dequantize for every type.

precis is driven through tests/gguf_tool (reference path and the best SIMD path of this CPU).
Data: ggml's test signal (0.1 + 2 cosf(i + offset), with the C library's cosf), random uniform and
normal data with outliers, and rows that are all zero, constant, huge, tiny or subnormal.
"""
import ctypes
import glob
import os
import subprocess
import sys
import tempfile

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T

BUILD = os.environ["PRECIS_BUILD"]
TOOL = os.path.join(BUILD, "tests", "gguf_tool")

TYPES = {  # precis/ggml name -> (gguf-py type, block size, block bytes, gguf-py has quantize)
    "q8_0": (T.Q8_0, 32, 34, True),
    "q4_0": (T.Q4_0, 32, 18, True),
    "q4_1": (T.Q4_1, 32, 20, True),
    "q5_0": (T.Q5_0, 32, 22, True),
    "q5_1": (T.Q5_1, 32, 24, True),
    "mxfp4": (T.MXFP4, 32, 17, True),
    "q4_K": (T.Q4_K, 256, 144, False),
    "q6_K": (T.Q6_K, 256, 210, False),
}

COLS = 512  # a multiple of every block size


def load_ggml():
    try:
        import llama_cpp
    except ImportError as e:
        sys.exit(f"FAIL: llama-cpp-python is missing from the oracle venv ({e}); run scripts/oracle-venv.sh")

    libdir = os.path.join(os.path.dirname(llama_cpp.__file__), "lib")
    paths = glob.glob(os.path.join(libdir, "libggml-base.so*"))
    if not paths:
        sys.exit(f"FAIL: libggml-base.so not found in {libdir}")
    lib = ctypes.CDLL(sorted(paths)[0])
    for name in TYPES:
        q = getattr(lib, f"quantize_row_{name}_ref")
        q.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
        q.restype = None
        d = getattr(lib, f"dequantize_row_{name}")
        d.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
        d.restype = None
    return lib


def ggml_signal(n, offset, amplitude=2.0):
    # test-quantize-fns.cpp: dst[i] = 0.1 + amplitude*cosf(i + offset), evaluated as C does.
    libm = ctypes.CDLL("libm.so.6")
    libm.cosf.argtypes = [ctypes.c_float]
    libm.cosf.restype = ctypes.c_float
    f32 = np.float32
    return np.array(
        [f32(0.1 + float(f32(amplitude) * f32(libm.cosf(float(f32(i) + f32(offset)))))) for i in range(n)],
        dtype=np.float32,
    )


def datasets():
    rng = np.random.default_rng(1234)
    rows = {}
    rows["ggml_signal"] = ggml_signal(4 * COLS, 0.0)
    rows["ggml_signal_off1"] = ggml_signal(2 * COLS, 1.0)
    rows["uniform"] = rng.uniform(-1, 1, 8 * COLS).astype(np.float32)
    normal = rng.standard_normal(8 * COLS).astype(np.float32)
    normal[::97] *= 50
    rows["normal_outliers"] = normal
    special = [
        np.zeros(COLS),
        np.full(COLS, 3.0),
        np.full(COLS, -1.5),
        np.where(np.arange(COLS) % 32 == 5, 1.0, 0.0),
        np.arange(COLS) % 32 - 16.0,
        rng.standard_normal(COLS) * 1e30,
        rng.standard_normal(COLS) * 1e-30,
        rng.standard_normal(COLS) * 1e-8,
        rng.standard_normal(COLS) * 6e4,
        0.1 + rng.standard_normal(COLS) * 1e-7,
        np.where(np.arange(COLS) % 7 == 0, 1e20, rng.standard_normal(COLS)),
    ]
    rows["special"] = np.concatenate(special).astype(np.float32)
    # Degenerate magnitudes where ggml's C relies on x86's float->int conversion (NaN and
    # out-of-range give INT_MIN): subnormal blocks, blocks near FLT_MAX.
    rows["extreme"] = np.concatenate([
        rng.standard_normal(COLS) * 1e-40,
        rng.standard_normal(COLS) * 1e-38,
        np.cos(np.arange(COLS)) * 3e38,
    ]).astype(np.float32)
    return rows


def precis(op, name, isa, rows, data, out_dtype, tmp):
    src = os.path.join(tmp, "in.bin")
    dst = os.path.join(tmp, "out.bin")
    data.tofile(src)
    r = subprocess.run([TOOL, op, name, isa, str(rows), str(COLS), src, dst], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"FAIL: gguf_tool {op} {name} {isa}: {r.stderr.strip()}")
    return np.fromfile(dst, dtype=out_dtype)


def ggml_quantize(lib, name, x, nbytes):
    out = np.zeros(nbytes, dtype=np.uint8)
    getattr(lib, f"quantize_row_{name}_ref")(x.ctypes.data, out.ctypes.data, x.size)
    return out


def ggml_dequantize(lib, name, q, n):
    out = np.zeros(n, dtype=np.float32)
    getattr(lib, f"dequantize_row_{name}")(q.ctypes.data, out.ctypes.data, n)
    return out


def first_diff(a, b, block_bytes):
    i = int(np.nonzero(a != b)[0][0])
    blk = i // block_bytes
    return f"byte {i} (block {blk}): {a[blk*block_bytes:(blk+1)*block_bytes].tobytes().hex()} vs {b[blk*block_bytes:(blk+1)*block_bytes].tobytes().hex()}"


def same_bits(a, b):
    # Bitwise equality, with any NaN equal to any NaN (payloads are not part of the formats).
    ua, ub = a.view(np.uint32), b.view(np.uint32)
    return bool(np.all((ua == ub) | (np.isnan(a) & np.isnan(b))))


def main():
    # gguf-py warns about fp16 overflow and Inf·0 on the huge and random-byte rows; those values
    # are still compared (NaN equal to NaN).
    np.seterr(all="ignore")
    lib = load_ggml()
    data = datasets()
    isas = ["reference", "best"]
    failures = []
    checks = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, (qtype, block, bbytes, py_quant) in TYPES.items():
            for dname, x in data.items():
                rows = x.size // COLS
                nbytes = rows * COLS // block * bbytes
                ref = ggml_quantize(lib, name, x, nbytes)
                for isa in isas:
                    got = precis("quantize", name, isa, rows, x, np.uint8, tmp)
                    checks += 1
                    if got.size != nbytes or not np.array_equal(got, ref):
                        failures.append(f"{name} {dname} {isa}: precis != ggml C: {first_diff(got, ref, bbytes)}")
                # gguf-py's numpy quantizers follow the same rules but not the C library's
                # float->int behaviour on degenerate blocks, so they are compared on finite-scale data.
                if py_quant and dname != "extreme":
                    py = gguf.quants.quantize(x.reshape(rows, COLS), qtype).reshape(-1)
                    checks += 1
                    if not np.array_equal(py, ref):
                        failures.append(f"{name} {dname}: gguf-py != precis/ggml: {first_diff(py, ref, bbytes)}")
                # Dequantize the reference bytes three ways.
                n = rows * COLS
                want = ggml_dequantize(lib, name, ref, n)
                for isa in isas:
                    y = precis("dequantize", name, isa, rows, ref, np.float32, tmp)
                    checks += 1
                    if not same_bits(y, want):
                        failures.append(f"{name} {dname} {isa}: dequantize differs from ggml C")
                py_y = gguf.quants.dequantize(ref.reshape(rows, -1), qtype).reshape(-1).astype(np.float32)
                checks += 1
                if not same_bits(py_y, want):
                    k = int(np.nonzero(~((py_y.view(np.uint32) == want.view(np.uint32)) | (np.isnan(py_y) & np.isnan(want))))[0][0])
                    failures.append(f"{name} {dname}: gguf-py dequantize differs at {k}: {py_y[k]!r} vs {want[k]!r}")
            # Random bytes: every code and scale pattern, including fp16 Inf/NaN/subnormal scales.
            rng = np.random.default_rng(7)
            rows = 8
            rand = rng.integers(0, 256, rows * COLS // block * bbytes, dtype=np.uint8)
            want = ggml_dequantize(lib, name, rand, rows * COLS)
            for isa in isas:
                y = precis("dequantize", name, isa, rows, rand, np.float32, tmp)
                checks += 1
                if not same_bits(y, want):
                    failures.append(f"{name} random bytes {isa}: dequantize differs from ggml C")
            print(f"{name:6s} checked against ggml C{' and gguf-py' if py_quant else ''} (quantize) and both (dequantize)")
    print(f"{checks} comparisons, {len(failures)} failures")
    for f in failures:
        print("FAIL:", f)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
