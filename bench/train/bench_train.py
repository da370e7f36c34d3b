"""Training throughput of `precis train` against the same model in PyTorch (eager and
torch.compile), on the issue's four configurations, all in one run.

    bench_train.py PRECIS_BIN [--configs 0,1,2,3] [--steps N] [--threads K] [--no-compile]
                   [--gemm-bench PATH | --peak-gflops-per-core G] [--omp-passive]

precis runs fp32, bf16 compute and fake-quant W4/A8/KV8; PyTorch runs fp32 under the runtime
settings that suit it best (its command alone: `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE
OMP_WAIT_POLICY=PASSIVE MALLOC_MMAP_THRESHOLD_=17179869184 MALLOC_TRIM_THRESHOLD_=17179869184`).
Reports wall tokens/s and tokens per CPU-second (user + sys, robust on a shared machine), both
of the training steps only on both sides (precis's whole process per CPU-second in brackets),
MFU per CPU-second against the per-core fp32 peak, and peak RSS.

The peak is measured in the same run: `gemm_bench --benchmark_filter=PeakFmaPerCoreCpu` (FMA
chains at the CPU's widest vectors, AVX-512 where it has it, per CPU-second; by default the
gemm_bench next to PRECIS_BIN's build tree), or given with --peak-gflops-per-core and its source.
The issue's MFU is against the machine's 456 GFLOP/s for 2 cores (228 per core, Zen 5, AVX-512):
this measurement finds that figure on that machine.

--omp-passive runs precis under OMP_WAIT_POLICY=PASSIVE too (PyTorch always is): on a machine
shared with other work, libgomp's default spinning at barriers burns the CPU time a descheduled
partner thread needs, which wrecks multi-threaded runs (see bench/README.md, Training).
"""
import argparse
import glob
import json
import os
import resource
import subprocess
import sys
import tempfile

import numpy as np

CONFIGS = [(64, 2, 4, 128, 32), (128, 4, 4, 256, 16), (256, 4, 8, 256, 16), (512, 6, 8, 256, 8)]
HERE = os.path.dirname(os.path.abspath(__file__))


def flops_per_token(d, L, T, vocab=256):
    ffn = (8 * d // 3 + 31) // 32 * 32
    matmul = L * (4 * d * d + 3 * d * ffn) + d * vocab
    return 3 * (2 * matmul + 4 * L * T * d)


def child_run(cmd, env=None):
    """Runs cmd to completion and returns its stdout."""
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr}")
    return proc.stdout


def precis_run(binary, data, cfg, policy, steps, threads, tmp, passive):
    d, L, H, T, B = cfg
    out_dir = os.path.join(tmp, f"run-{d}-{policy}")
    extra = {"fp32": [], "bf16": ["--compute", "bf16"],
             "w4a8kv8": ["--weights", "int4", "--acts", "int8", "--kv", "int8"]}[policy]
    cmd = [binary, "train", "--data", data, "-o", out_dir, "--d-model", str(d), "--layers", str(L),
           "--heads", str(H), "--context", str(T), "--batch", str(B), "--steps", str(steps),
           "--eval-tokens", str(T), "--threads", str(threads)] + extra
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE") if passive else None
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    child_run(cmd, env=env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    s = json.load(open(os.path.join(out_dir, "summary.json")))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"tokens_per_second": s["time"]["tokens_per_second"],
            # training steps only (user + sys CPU time of the process around the steps), as
            # torch_train.py measures its loop
            "tokens_per_cpu_second": s["time"]["tokens_per_cpu_second"],
            # whole process (start-up, one evaluation, checkpoint included): a lower bound
            "process_tokens_per_cpu_second": s["tokens"] / cpu,
            "peak_rss_bytes": s["time"]["peak_rss_bytes"]}


def torch_run(cfg, mode, steps, threads):
    env = dict(os.environ)
    for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        env.pop(k, None)
    env.update(OMP_WAIT_POLICY="PASSIVE", MALLOC_MMAP_THRESHOLD_="17179869184",
               MALLOC_TRIM_THRESHOLD_="17179869184")
    d, L, H, T, B = cfg
    out = child_run([sys.executable, os.path.join(HERE, "torch_train.py"), str(d), str(L), str(H),
                     str(T), str(B), str(steps), str(threads), mode], env=env)
    return json.loads(out.strip().splitlines()[-1])


def measured_peak_per_core(gemm_bench):
    """GFLOP per CPU-second of one core's FMA chains, from gemm_bench's peak benchmark."""
    out = child_run([gemm_bench, "--benchmark_filter=PeakFmaPerCoreCpu", "--benchmark_format=json"])
    peak = json.loads(out)["benchmarks"][0]["GFLOP/cpu-s"]
    if peak <= 0:
        raise SystemExit(f"{gemm_bench} measured no FMA peak (CPU without AVX2+FMA): "
                         "pass --peak-gflops-per-core with the machine's figure")
    return peak


def default_gemm_bench(precis):
    """gemm_bench of the build tree that holds the precis binary (bench/ or the tree's root)."""
    build = os.path.dirname(os.path.abspath(precis))
    for cand in glob.glob(os.path.join(build, "**", "gemm_bench"), recursive=True):
        return cand
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("precis")
    ap.add_argument("--configs", default="0,1,2,3")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--no-compile", action="store_true")
    ap.add_argument("--gemm-bench", help="gemm_bench binary that measures the FMA peak")
    ap.add_argument("--peak-gflops-per-core", type=float,
                    help="the per-core fp32 peak instead of measuring it (say where it comes from)")
    ap.add_argument("--omp-passive", action="store_true")
    a = ap.parse_args()
    if a.peak_gflops_per_core:
        peak = a.peak_gflops_per_core
        print(f"fp32 peak per core: {peak:.0f} GFLOP/s (given)")
    else:
        gb = a.gemm_bench or default_gemm_bench(a.precis)
        if not gb:
            raise SystemExit("no gemm_bench found next to the precis binary: build the gemm_bench "
                             "target, or pass --gemm-bench or --peak-gflops-per-core")
        peak = measured_peak_per_core(gb)
        print(f"fp32 peak per core: {peak:.0f} GFLOP/cpu-s (measured: {gb})")
    # Rates per CPU-second already divide out the thread count: compare them with one core.
    peak_core = peak * 1e9
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "data")
        os.makedirs(data)
        rng = np.random.default_rng(0)
        rng.integers(0, 256, 1 << 20, dtype=np.uint16).tofile(os.path.join(data, "train.bin"))
        rng.integers(0, 256, 1 << 16, dtype=np.uint16).tofile(os.path.join(data, "val.bin"))
        print("| config (d, L, H, T, B) | run | tok/s (wall) | tok/cpu-s | MFU per cpu-s | MFU wall "
              "| peak RSS MB |")
        print("|---|---|---|---|---|---|---|")
        for i in map(int, a.configs.split(",")):
            cfg = CONFIGS[i]
            fpt = flops_per_token(cfg[0], cfg[1], cfg[3])
            runs = [(f"precis {p}", lambda p=p: precis_run(a.precis, data, cfg, p, a.steps, a.threads, tmp,
                                                 a.omp_passive))
                    for p in ("fp32", "bf16", "w4a8kv8")]
            runs.append(("torch eager", lambda: torch_run(cfg, "eager", a.steps, a.threads)))
            if not a.no_compile:
                runs.append(("torch compile", lambda: torch_run(cfg, "compile", a.steps, a.threads)))
            for name, fn in runs:
                r = fn()
                whole = r.get("process_tokens_per_cpu_second")
                print(f"| {cfg} | {name} | {r['tokens_per_second']:.0f} | "
                      f"{r['tokens_per_cpu_second']:.0f}"
                      + (f" ({whole:.0f})" if whole else "") + " | "
                      f"{100 * r['tokens_per_cpu_second'] * fpt / peak_core:.0f} % | "
                      # wall rate against the peak of the cores it ran on (the MFU)
                      f"{100 * r['tokens_per_second'] * fpt / (a.threads * peak_core):.0f} % | "
                      f"{r['peak_rss_bytes'] / 1e6:.0f} |", flush=True)


if __name__ == "__main__":
    main()
