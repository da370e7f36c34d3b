"""Measurement behind docs/real-model.md's SmolLM2 parity table (not a test: ctest runs only
test_*.py). Per-token NLLs of the first WINDOWS windows of 256 validation tokens from llama.cpp
(F32 and default F16 KV cache) and from precis (tests/eval/logits_tool: --arith exact, llama.cpp,
llama.cpp with --kv-cache f16), printed as perplexity differences against llama.cpp with an F32
KV cache.

    PRECIS_BIN=build/precis PYTHON tests/eval/llama_cpp_parity_measure.py \\
        IMPORTED.safetensors DATA_DIR LOGITS_TOOL [WINDOWS=8]

IMPORTED: `precis import SmolLM2...Q4_1.gguf --context 256`; DATA_DIR: `precis data build
--recipe small --tokenizer gguf:THAT.gguf`."""
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_smollm2_perplexity as T  # noqa: E402
from llama_cpp import Llama  # noqa: E402

C = 256


def main():
    model, data, tool = sys.argv[1:4]
    windows = int(sys.argv[4]) if len(sys.argv) > 4 else 8
    tokens, _ = T.read_val_tokens(data)
    path = T.find_model()

    def window(w):
        return tokens[w * C:(w + 1) * C + 1]

    def precis_nlls(model_path, arith, kv, tmp):
        out = []
        for w0 in range(0, windows, 4):
            b = min(4, windows - w0)
            ids = os.path.join(tmp, "ids.i32")
            np.stack([window(w0 + i)[:C] for i in range(b)]).astype(np.int32).tofile(ids)
            logits = os.path.join(tmp, "logits.f32")
            subprocess.run([tool, model_path, ids, str(b), str(C), logits, "2", arith, kv], check=True)
            lg = np.fromfile(logits, dtype=np.float32).reshape(b, C, -1)
            out += [T.log_softmax_nll(lg[i], window(w0 + i)[1:]) for i in range(b)]
        return np.stack(out)

    def llama_nlls(kv_f16):
        kv = {} if kv_f16 else {"type_k": T.GGML_TYPE_F32, "type_v": T.GGML_TYPE_F32}
        llm = Llama(path, logits_all=True, n_ctx=C, n_batch=C, n_threads=2, verbose=False,
                    flash_attn=False, **kv)
        out = []
        for w in range(windows):
            llm.reset()
            llm.eval([int(t) for t in window(w)[:C]])
            out.append(T.log_softmax_nll(np.array(llm.scores[:C], dtype=np.float32), window(w)[1:]))
        return np.stack(out)

    res = {"llama.cpp F32 KV": llama_nlls(False), "llama.cpp F16 KV (default)": llama_nlls(True)}
    with tempfile.TemporaryDirectory() as tmp:
        res["precis --arith exact"] = precis_nlls(model, "exact", "f32", tmp)
        res["precis --arith llama.cpp"] = precis_nlls(model, "llama.cpp", "f32", tmp)
        res["precis --arith llama.cpp --kv-cache f16"] = precis_nlls(model, "llama.cpp", "f16", tmp)
    ref = res["llama.cpp F32 KV"]
    for name, v in res.items():
        for protocol, cols in (("all", slice(0, C)), ("llama-perplexity", slice(C // 2, C - 1))):
            ppl, ppl_ref = np.exp(v[:, cols].mean()), np.exp(ref[:, cols].mean())
            print(f"{name:<48} {protocol:>16} {v[:, cols].size:5d} tokens  ppl {ppl:.4f}  "
                  f"{ppl / ppl_ref - 1:+.2e}")


if __name__ == "__main__":
    main()
