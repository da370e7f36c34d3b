"""llama.cpp (llama-cpp-python) runs what `precis export --gguf` writes, with precis's logits.

A random precis model (2 layers, 4 heads with 2 KV heads: q and k are permuted by different head
counts; untied head) and a tied one are exported to F32, Q8_0, Q4_0, Q4_1 and Q5_1, loaded by
llama.cpp with an F32 KV cache (its default F16 cache would round K and V) and no flash attention,
and evaluated on the same 48 tokens.

The reference is `precis eval --arith llama.cpp`'s forward (logits_tool): eval/llama_cpp_forward.hpp
follows ggml-cpu op by op (the same kernels, the same fp32 and double summation orders, the same
exp approximation, llama.cpp's rounding of activations to Q8_0/Q8_1 for quantized weights) on the
exported file imported back (`precis import` records it as the source of the weights' ggml types
and bytes), and for F32 also on the precis model file itself (its fp32 parameters as F32 weights).

When llama.cpp was built for the kernels precis follows on this CPU (its system info shows AVX2,
FMA and F16C, and AVX512 exactly when the CPU has AVX-512 F and DQ, which decides 8 or 16 fp32
lanes), the logits must be BIT-IDENTICAL at every position. Otherwise (another ISA: other lanes,
other summation orders) the test falls back to what any correct fp32 evaluation of the same
arithmetic gives and says so: F32 within 1e-4 of the logit range, the quantized types within 2 %
(one flipped q8 rounding step, measured ≤ 0.8 % between different orders).

F32 also checks precis's own exact arithmetic (fp32 products of the same weights in precis's
order) within 1e-4 of the range (measured ~1e-6).

Tokenizer: llama.cpp tokenizes text to exactly precis's byte ids, and detokenizes them back."""
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gguf_export_util import (LOGITS_TOOL, config_json, llama_cpp_follows_precis,  # noqa: E402
                              precis_logits, random_weights, run, write_model)

import llama_cpp  # noqa: E402

TEXT = "The quick brown fox, 1234 — jumps! Ünïcödé 漢字 tab\there\n\n  spaces"
GGML_TYPE_F32 = 0
TYPES = ("f32", "q8_0", "q4_0", "q4_1", "q5_1")


def arith_logits(model, ids, tmp):
    """logits_tool (precis eval's loader) with --arith llama.cpp, F32 KV."""
    ids_path, out = os.path.join(tmp, "ids.i32"), os.path.join(tmp, "logits.f32")
    np.asarray(ids, dtype=np.int32).tofile(ids_path)
    proc = subprocess.run([LOGITS_TOOL, model, ids_path, "1", str(len(ids)), out, "2", "llama.cpp",
                           "f32"], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"logits_tool {model} llama.cpp failed: {proc.stderr}")
    return np.fromfile(out, dtype=np.float32).reshape(len(ids), -1)


def llama_logits(path, ids, c):
    llm = llama_cpp.Llama(model_path=path, logits_all=True, n_ctx=c["context"], n_batch=c["context"],
                          n_threads=1, verbose=False, type_k=GGML_TYPE_F32, type_v=GGML_TYPE_F32,
                          flash_attn=False)
    llm.eval(ids)
    return llm, np.array(llm.scores[:len(ids)], dtype=np.float32)


def compare(name, ours, theirs, exact, tol):
    span = float(ours.max() - ours.min())
    assert span > 4, f"{name}: logits too flat for a meaningful comparison"
    same = (ours == theirs).all(axis=1)
    worst = float(np.abs(ours - theirs).max()) / span
    print(f"{name}: {same.sum()}/{len(same)} positions bit-identical; largest difference "
          f"{worst:.2e} of the logit range {span:.2f}")
    if exact:
        assert same.all(), f"{name}: llama.cpp's logits differ from precis's llama.cpp arithmetic"
    else:
        assert worst <= tol, f"{name}: beyond {tol:g} of the range"


def main():
    exact, why = llama_cpp_follows_precis()
    print(why + ("; asserting bit-identical logits" if exact else
                 "; NOT asserting bit-identity, only fp32-order tolerances"))
    with tempfile.TemporaryDirectory() as tmp:
        ids = list(TEXT.encode())[:48]
        for tied in (False, True):
            c = config_json(d=128, layers=2, heads=4, kv_heads=2, ffn=352, context=64, tied=tied)
            tag = "tied" if tied else "untied"
            model = os.path.join(tmp, f"{tag}.safetensors")
            write_model(model, c, random_weights(c, seed=11 + tied))
            for qtype in TYPES:
                out = os.path.join(tmp, f"{tag}-{qtype}.gguf")
                run("export", model, "--gguf", qtype, "-o", out, "--tokenizer-from", "bytes")
                llm, theirs = llama_logits(out, ids, c)
                imported = os.path.join(tmp, f"{tag}-{qtype}.safetensors")
                run("import", out, "-o", imported)
                tol = 1e-4 if qtype == "f32" else 0.02
                compare(f"{tag} {qtype} (imported) --arith llama.cpp",
                        arith_logits(imported, ids, tmp), theirs, exact, tol)
                if qtype == "f32":
                    compare(f"{tag} f32 (precis model file) --arith llama.cpp",
                            arith_logits(model, ids, tmp), theirs, exact, tol)
                    ours = precis_logits(model, ids, 256, tmp)
                    worst = float(np.abs(ours - theirs).max()) / float(ours.max() - ours.min())
                    print(f"{tag} f32 --arith exact: largest difference {worst:.2e} of the range")
                    assert worst <= 1e-4, f"{tag} f32: precis's exact arithmetic is off"
            toks = llm.tokenize(TEXT.encode(), add_bos=False, special=False)
            assert toks == list(TEXT.encode()), "llama.cpp's ids differ from precis's byte ids"
            assert llm.detokenize(toks) == TEXT.encode()
            assert llm.tokenize(b"\x00a\x00", add_bos=False, special=False) == [0, 97, 0]
            assert llm.token_eos() == 0
    print("ok")


if __name__ == "__main__":
    main()
