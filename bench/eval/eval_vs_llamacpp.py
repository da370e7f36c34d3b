"""Evaluation speed of SmolLM2-135M in precis against llama.cpp (llama-cpp-python), same run.

Both evaluate the same tokens: the first TOKENS of a dataset's validation split (built with
`precis data build --tokenizer gguf:SmolLM2.gguf`), in non-overlapping windows of CONTEXT, logits
at every position, THREADS threads. precis: `precis eval IMPORTED.safetensors` (a process; load
included). llama.cpp: Llama(gguf, logits_all=True, n_ctx=CONTEXT, n_threads=THREADS), reset() and
eval() per window (load included, in this process). Runs alternate (precis, llama.cpp, ...) so the
load of a shared machine hits both alike; reported: wall and CPU seconds (user + sys of every
thread), tokens per wall second and per CPU second, best of the repeats, and the ratio.

Note the two do not run the same arithmetic: llama.cpp multiplies the Q4_1 weights directly with
activations quantized to Q8_1 (integer dot products), precis runs fp32 matrix products on the
dequantized weights (4 bytes of weight traffic per parameter instead of 0.625).

usage: python bench/eval/eval_vs_llamacpp.py PRECIS IMPORTED.safetensors DATA GGUF
       [--tokens 2048] [--context 512] [--threads 2] [--repeats 2]"""
import argparse
import json
import os
import resource
import subprocess
import time

import numpy as np


def val_tokens(data, n):
    manifest = json.load(open(os.path.join(data, "manifest.json")))
    shard = manifest["splits"]["val"]["shards"][0]["file"]
    raw = np.fromfile(os.path.join(data, shard), dtype="<u1")
    return [int(t) for t in raw[1024:].view("<u2")[:n]]


def cpu_seconds(who):
    u = resource.getrusage(who)
    return u.ru_utime + u.ru_stime


def run_precis(a):
    before = cpu_seconds(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([a.precis, "eval", a.model, "--data", a.data, "--context", str(a.context),
                    "--max-tokens", str(a.tokens), "--batch", "1", "--threads", str(a.threads),
                    "-q"], check=True, capture_output=True)
    return time.perf_counter() - t0, cpu_seconds(resource.RUSAGE_CHILDREN) - before


def run_llama(a, tokens):
    from llama_cpp import Llama
    before = cpu_seconds(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    llm = Llama(a.gguf, logits_all=True, n_ctx=a.context, n_batch=a.context,
                n_threads=a.threads, verbose=False)
    for w in range(len(tokens) // a.context):
        llm.reset()
        llm.eval(tokens[w * a.context:(w + 1) * a.context])
    wall = time.perf_counter() - t0
    cpu = cpu_seconds(resource.RUSAGE_SELF) - before
    del llm
    return wall, cpu


def main():
    p = argparse.ArgumentParser()
    for name in ("precis", "model", "data", "gguf"):
        p.add_argument(name)
    p.add_argument("--tokens", type=int, default=2048)
    p.add_argument("--context", type=int, default=512)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=2)
    a = p.parse_args()
    a.tokens -= a.tokens % a.context
    tokens = val_tokens(a.data, a.tokens)
    best = {"precis": None, "llama.cpp": None}
    for _ in range(a.repeats):
        for name, run in (("precis", lambda: run_precis(a)), ("llama.cpp", lambda: run_llama(a, tokens))):
            wall, cpu = run()
            if best[name] is None or wall < best[name][0]:
                best[name] = (wall, cpu)
    print(f"{a.tokens} tokens, windows of {a.context}, {a.threads} threads, best of {a.repeats}")
    print("| engine | wall s | tok/s | CPU s | tok/CPU-s |")
    print("|---|---|---|---|---|")
    for name, (wall, cpu) in best.items():
        print(f"| {name} | {wall:.2f} | {a.tokens / wall:.0f} | {cpu:.2f} | {a.tokens / cpu:.0f} |")
    (pw, pc), (lw, lc) = best["precis"], best["llama.cpp"]
    print(f"precis / llama.cpp tokens per wall second: {lw / pw:.2f}; per CPU second: {lc / pc:.2f}")


if __name__ == "__main__":
    main()
