"""Every type `precis export --gguf` writes loads and runs in llama.cpp (llama-cpp-python).

A random model of width 256 (2 layers, 4 heads, 2 KV heads, MLP 512, so q4_K and q6_K apply to
every matrix) is exported in all 11 types and evaluated by llama.cpp on 32 byte tokens. Exact
parity is tested for F32, Q8_0 and Q4_0 in test_gguf_export_llama_cpp.py; here llama.cpp's logits
are compared with precis's fp32 logits of the unquantized model, so the difference is the
quantization (of weights, and of activations in llama.cpp's kernels). Asserted: finite logits;
F32 within 1e-4 of the logit range; f16 < q8_0 < q4_0 in the largest difference (measured on
this seed: f16 0.0012, bf16 0.008, q8_0 0.035, q6_K 0.095, q5_1 0.15, q5_0 0.17, q4_K 0.21,
q4_1 0.29, q4_0 0.31, mxfp4 0.36 of the logit range; the random weights' gain of 1.5 per layer
makes the logits sensitive)."""
import os
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gguf_export_util import config_json, precis_logits, random_weights, run, write_model  # noqa: E402

import llama_cpp  # noqa: E402

TYPES = ["f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "q4_k", "q6_k", "mxfp4"]


def main():
    with tempfile.TemporaryDirectory() as tmp:
        c = config_json(d=256, layers=2, heads=4, kv_heads=2, ffn=512, context=64)
        model = os.path.join(tmp, "m.safetensors")
        write_model(model, c, random_weights(c, seed=1))
        ids = list(b"The quick brown fox jumps over the lazy dog, twice.")[:32]
        ref = precis_logits(model, ids, 256, tmp)
        span = float(ref.max() - ref.min())
        err = {}
        for qtype in TYPES:
            out = os.path.join(tmp, f"{qtype}.gguf")
            run("export", model, "--gguf", qtype, "-o", out, "--tokenizer-from", "bytes")
            llm = llama_cpp.Llama(model_path=out, logits_all=True, n_ctx=64, n_batch=64, n_threads=1,
                                  verbose=False, type_k=0, type_v=0, flash_attn=False)
            llm.eval(ids)
            theirs = np.array(llm.scores[:len(ids)], dtype=np.float32)
            assert np.isfinite(theirs).all(), qtype
            err[qtype] = float(np.abs(theirs - ref).max()) / span
            print(f"{qtype}: largest |Δlogit| {err[qtype]:.4f} of the range {span:.2f}, same top "
                  f"token {np.mean(theirs.argmax(1) == ref.argmax(1)):.3f}")
            del llm
        assert err["f32"] < 1e-4
        assert err["f16"] < err["q8_0"] < err["q4_0"], err
    print("ok")


if __name__ == "__main__":
    main()
