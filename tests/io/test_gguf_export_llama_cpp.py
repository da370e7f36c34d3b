"""llama.cpp (llama-cpp-python) runs what `precis export --gguf` writes, with precis's logits.

A random precis model (2 layers, 4 heads with 2 KV heads: q and k are permuted by different head
counts; untied head) and a tied one are exported to F32, Q8_0 and Q4_0, loaded by llama.cpp with an
F32 KV cache (its default F16 cache would round K and V), and evaluated on the same 48 tokens.

F32: llama.cpp's logits equal precis's (logits_tool on the model file) to float tolerance. The two
compute the same fp32 operations in different orders (blocked matmuls, another softmax), so the
difference is rounding: each of the ~5 matmul stages adds a relative error of order
sqrt(K)·2^-24 ≈ 1e-6 for K ≤ 352, amplified by the weights' gain through the layers; we allow
1e-4 of the logits' range at every position, measured differences are ~1e-6 of it.

Q8_0 and Q4_0: llama.cpp's CPU kernels for these types quantize the ACTIVATIONS to Q8_0 too (the
input of every matmul, in blocks of 32 per token) and multiply integer blocks. precis's reference
therefore is the model with the GGUF file's dequantized weights (read back by gguf-py, q/k rows
un-permuted) and the policy activations=gguf:q8_0, which fake-quantizes the input of every linear
layer, the head included, in the same blocks of 32. Then llama.cpp and precis compute the same
numbers up to fp32 ordering, except that now and then an activation lies so close to a q8_0
rounding boundary that the two fp32 orders round it to neighbouring codes (one step = amax/127 of
its block; about one element in 10^5 is that close for relative fp32 differences of ~10^-7). From
that position on, through the KV cache, every later position differs by such a step's effect.
So the test asserts: every position up to the first such flip, and at least a quarter of all 48
(measured: 27), equal llama.cpp's to 1e-4 of the logit range (as F32 does); no position differs by
more than 2 % of the range (one flipped step; measured at most 0.8 %); and against the reference
WITHOUT activation quantization not one position agrees that closely (measured: every position
off by 0.5-2 % of the range), so a missing activation rounding, a wrong q/k permutation or wrong
weights would fail.

Tokenizer: llama.cpp tokenizes text to exactly precis's byte ids, and detokenizes them back."""
import os
import sys
import tempfile

import gguf
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gguf_export_util import (config_json, heads_of, hf_name, precis_logits, random_weights,  # noqa: E402
                              run, unpermute, write_model)

import llama_cpp  # noqa: E402

TEXT = "The quick brown fox, 1234 — jumps! Ünïcödé 漢字 tab\there\n\n  spaces"
GGML_TYPE_F32 = 0


def weights_of_gguf(path, c):
    out = {}
    for t in gguf.GGUFReader(path).tensors:
        w = gguf.quants.dequantize(np.asarray(t.data), t.tensor_type).astype(np.float32)
        w = w.reshape(tuple(reversed([int(x) for x in t.shape])))
        heads = heads_of(t.name, c)
        out[hf_name(t.name)] = unpermute(w, heads) if heads else w
    return out


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
    with tempfile.TemporaryDirectory() as tmp:
        ids = list(TEXT.encode())[:48]
        for tied in (False, True):
            c = config_json(d=128, layers=2, heads=4, kv_heads=2, ffn=352, context=64, tied=tied)
            tag = "tied" if tied else "untied"
            model = os.path.join(tmp, f"{tag}.safetensors")
            write_model(model, c, random_weights(c, seed=11 + tied))
            for qtype in ("f32", "q8_0", "q4_0"):
                out = os.path.join(tmp, f"{tag}-{qtype}.gguf")
                run("export", model, "--gguf", qtype, "-o", out, "--tokenizer-from", "bytes")
                llm, theirs = llama_logits(out, ids, c)
                if qtype == "f32":
                    agree, _, worst = compare(f"{tag} f32", precis_logits(model, ids, 256, tmp),
                                              theirs, 1e-4)
                    assert agree.all(), f"{tag} f32: llama.cpp's logits differ from precis's"
                    continue
                weights = weights_of_gguf(out, c)
                ref = os.path.join(tmp, f"{tag}-{qtype}-ref.safetensors")
                write_model(ref, c, weights, activations="gguf:q8_0")
                agree, prefix, worst = compare(f"{tag} {qtype} (activations q8_0)",
                                               precis_logits(ref, ids, 256, tmp), theirs, 1e-4)
                assert agree.mean() >= 0.25 and agree[:prefix].all() and prefix >= 1, tag
                assert worst <= 0.02, f"{tag} {qtype}: a difference beyond one q8_0 step's effect"
                plain = os.path.join(tmp, f"{tag}-{qtype}-plain.safetensors")
                write_model(plain, c, weights)
                agree_plain, _, _ = compare(f"{tag} {qtype} (activations fp32)",
                                            precis_logits(plain, ids, 256, tmp), theirs, 1e-4)
                assert not agree_plain.any(), "without q8_0 activations precis should not agree"
            toks = llm.tokenize(TEXT.encode(), add_bos=False, special=False)
            assert toks == list(TEXT.encode()), "llama.cpp's ids differ from precis's byte ids"
            assert llm.detokenize(toks) == TEXT.encode()
            assert llm.tokenize(b"\x00a\x00", add_bos=False, special=False) == [0, 97, 0]
            assert llm.token_eos() == 0
    print("ok")


if __name__ == "__main__":
    main()
