"""llama.cpp (llama-cpp-python) runs what `precis export --gguf` writes, with precis's logits.

A random precis model (2 layers, 4 heads with 2 KV heads: q and k are permuted by different head
counts; untied head) and a tied one are exported to F32, Q8_0, Q4_0, Q4_1 and Q5_1, loaded by llama.cpp with an
F32 KV cache (its default F16 cache would round K and V), and evaluated on the same 48 tokens.

F32: llama.cpp's logits equal precis's (logits_tool on the model file) to float tolerance. The two
compute the same fp32 operations in different orders (blocked matmuls, another softmax), so the
difference is rounding: each of the ~5 matmul stages adds a relative error of order
sqrt(K)·2^-24 ≈ 1e-6 for K ≤ 352, amplified by the weights' gain through the layers; we allow
1e-4 of the logits' range at every position, measured differences are ~1e-6 of it.

Q8_0, Q4_0, Q4_1 and Q5_1: llama.cpp's CPU kernels never multiply by dequantized weights; they
round the ACTIVATIONS (the input of every matmul, per token in blocks of 32) to Q8_0 or Q8_1 and
multiply integer blocks. `precis eval --arith llama.cpp` reproduces that rounding
(eval/llama_cpp_rounding.hpp: amax/127 scales stored as fp16, codes rounded half to even from
x·127/amax as the AVX2 code does, and for Q4_1/Q5_1 the fp16 block sums their minima multiply).
The reference is the exported file imported back (`precis import`, which records the GGUF as the
source of the weight types) and run by logits_tool with that arithmetic. Then the two compute the
same numbers up to fp32 summation order: measured 1-2e-7 of the logit range. But the order
differences (~1e-7 relative) now and then leave an activation on the other side of a q8 rounding
boundary (about one element in 10^5 is that close); from that position on, the flipped step
(amax/127 of its block) moves the logits by up to ~1 % of their range, and through the KV cache every
later position too. So the test asserts, for each model and type: every position before the first
such flip agrees within 1e-5 of the range (fp32 tolerance, 50x the measured), and at least a sixth
of all 48 positions do (measured 14-48); no position differs by more than 2 % (one flipped step; measured ≤ 0.8 %);
over the eight exports at least two agree at all 48 positions (measured 2: untied
q4_0, tied q8_0); and precis's exact
arithmetic (`--arith exact`, fp32 products of the same weights) agrees at no position (measured
0.5-2 % everywhere), so a missing or wrong activation rounding would fail.

Tokenizer: llama.cpp tokenizes text to exactly precis's byte ids, and detokenizes them back."""
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gguf_export_util import (LOGITS_TOOL, config_json, precis_logits, random_weights,  # noqa: E402
                              run, write_model)

import llama_cpp  # noqa: E402

TEXT = "The quick brown fox, 1234 — jumps! Ünïcödé 漢字 tab\there\n\n  spaces"
GGML_TYPE_F32 = 0


def arith_logits(model, ids, arith, tmp):
    """logits_tool (precis eval's loader) with --arith exact or llama.cpp, F32 KV."""
    ids_path, out = os.path.join(tmp, "ids.i32"), os.path.join(tmp, "logits.f32")
    np.asarray(ids, dtype=np.int32).tofile(ids_path)
    proc = subprocess.run([LOGITS_TOOL, model, ids_path, "1", str(len(ids)), out, "1", arith, "f32"],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"logits_tool {model} {arith} failed: {proc.stderr}")
    return np.fromfile(out, dtype=np.float32).reshape(len(ids), -1)


def llama_logits(path, ids, c):
    llm = llama_cpp.Llama(model_path=path, logits_all=True, n_ctx=c["context"], n_batch=c["context"],
                          n_threads=1, verbose=False, type_k=GGML_TYPE_F32, type_v=GGML_TYPE_F32,
                          flash_attn=False)
    llm.eval(ids)
    return llm, np.array(llm.scores[:len(ids)], dtype=np.float32)


def compare(name, ours, theirs, tol):
    """Fraction of positions whose logits all agree within tol of the logit range, that range, and
    the largest difference as a fraction of it."""
    span = float(ours.max() - ours.min())
    per_position = np.abs(ours - theirs).max(axis=1) / span
    agree = per_position <= tol
    prefix = int(np.argmin(agree)) if not agree.all() else len(agree)
    print(f"{name}: {agree.sum()}/{len(agree)} positions agree within {tol:g} of the logit range "
          f"{span:.2f} (the first {prefix} in a row); largest difference {per_position.max():.2e} of it")
    assert span > 4, f"{name}: logits too flat for a meaningful comparison"
    return agree, prefix, per_position.max()


def main():
    whole = 0
    with tempfile.TemporaryDirectory() as tmp:
        ids = list(TEXT.encode())[:48]
        for tied in (False, True):
            c = config_json(d=128, layers=2, heads=4, kv_heads=2, ffn=352, context=64, tied=tied)
            tag = "tied" if tied else "untied"
            model = os.path.join(tmp, f"{tag}.safetensors")
            write_model(model, c, random_weights(c, seed=11 + tied))
            for qtype in ("f32", "q8_0", "q4_0", "q4_1", "q5_1"):
                out = os.path.join(tmp, f"{tag}-{qtype}.gguf")
                run("export", model, "--gguf", qtype, "-o", out, "--tokenizer-from", "bytes")
                llm, theirs = llama_logits(out, ids, c)
                if qtype == "f32":
                    agree, _, worst = compare(f"{tag} f32", precis_logits(model, ids, 256, tmp),
                                              theirs, 1e-4)
                    assert agree.all(), f"{tag} f32: llama.cpp's logits differ from precis's"
                    continue
                imported = os.path.join(tmp, f"{tag}-{qtype}.safetensors")
                run("import", out, "-o", imported)
                agree, prefix, worst = compare(f"{tag} {qtype} --arith llama.cpp",
                                               arith_logits(imported, ids, "llama.cpp", tmp),
                                               theirs, 1e-5)
                assert agree.mean() >= 1 / 6 and agree[:prefix].all() and prefix >= 1, tag
                assert worst <= 0.02, f"{tag} {qtype}: a difference beyond one q8 step's effect"
                whole += bool(agree.all())
                agree_exact, _, _ = compare(f"{tag} {qtype} --arith exact",
                                            arith_logits(imported, ids, "exact", tmp), theirs, 1e-4)
                assert not agree_exact.any(), "without llama.cpp's rounding precis should not agree"
            toks = llm.tokenize(TEXT.encode(), add_bos=False, special=False)
            assert toks == list(TEXT.encode()), "llama.cpp's ids differ from precis's byte ids"
            assert llm.detokenize(toks) == TEXT.encode()
            assert llm.tokenize(b"\x00a\x00", add_bos=False, special=False) == [0, 97, 0]
            assert llm.token_eos() == 0
    print(f"{whole} of 8 quantized exports agree with llama.cpp at every position")
    assert whole >= 2, "llama.cpp's rounding should leave most exports without a flip"
    print("ok")


if __name__ == "__main__":
    main()
