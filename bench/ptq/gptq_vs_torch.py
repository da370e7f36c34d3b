"""GPTQ time: precis against a PyTorch port of the reference algorithm, in the same run.

The baseline is IST-DASLab/gptq's GPTQ.add_batch + GPTQ.fasterquant (blocks of 128, lazy batch
updates, damping 0.01, groups of 128 refitted from the current weights) with its min-max 4-bit
quantizer, ported operation for operation to torch on the CPU with the same thread count. Both
sides include the Hessian accumulation from the calibration rows.

    python bench/ptq/gptq_vs_torch.py BUILD_DIR [--threads 2] [--sizes 1024,4096]
"""
import argparse
import json
import math
import os
import subprocess
import time

import torch


def quantize(x, scale, zero, maxq):
    q = torch.clamp(torch.round(x / scale) + zero, 0, maxq)
    return scale * (q - zero)


class Quantizer:  # the reference's min-max quantizer (per channel, symmetric)
    def __init__(self, bits, sym=True):
        self.maxq = torch.tensor(2**bits - 1)
        self.sym = sym

    def find_params(self, x):
        tmp = torch.zeros(x.shape[0])
        xmin = torch.minimum(x.min(1)[0], tmp)
        xmax = torch.maximum(x.max(1)[0], tmp)
        if self.sym:
            xmax = torch.maximum(torch.abs(xmin), xmax)
            tmp = xmin < 0
            if torch.any(tmp):
                xmin[tmp] = -xmax[tmp]
        tmp = (xmin == 0) & (xmax == 0)
        xmin[tmp] = -1
        xmax[tmp] = +1
        self.scale = ((xmax - xmin) / self.maxq).unsqueeze(1)
        if self.sym:
            self.zero = torch.full_like(self.scale, (self.maxq + 1) / 2)
        else:
            self.zero = torch.round(-xmin / self.scale).unsqueeze(1)


class GPTQ:
    def __init__(self, W):
        self.W = W
        self.rows, self.columns = W.shape
        self.H = torch.zeros((self.columns, self.columns))
        self.nsamples = 0

    def add_batch(self, inp):
        tmp = inp.shape[0]
        inp = inp.t()
        self.H *= self.nsamples / (self.nsamples + tmp)
        self.nsamples += tmp
        inp = math.sqrt(2 / self.nsamples) * inp.float()
        self.H += inp.matmul(inp.t())

    def fasterquant(self, quantizer, blocksize=128, percdamp=0.01, groupsize=-1):
        W = self.W.clone().float()
        quantizer.find_params(W)
        H = self.H
        del self.H
        dead = torch.diag(H) == 0
        H[dead, dead] = 1
        W[:, dead] = 0
        Q = torch.zeros_like(W)
        damp = percdamp * torch.mean(torch.diag(H))
        diag = torch.arange(self.columns)
        H[diag, diag] += damp
        H = torch.linalg.cholesky(H)
        H = torch.cholesky_inverse(H)
        H = torch.linalg.cholesky(H, upper=True)
        Hinv = H
        for i1 in range(0, self.columns, blocksize):
            i2 = min(i1 + blocksize, self.columns)
            count = i2 - i1
            W1 = W[:, i1:i2].clone()
            Q1 = torch.zeros_like(W1)
            Err1 = torch.zeros_like(W1)
            Hinv1 = Hinv[i1:i2, i1:i2]
            for i in range(count):
                w = W1[:, i]
                d = Hinv1[i, i]
                if groupsize != -1 and (i1 + i) % groupsize == 0:
                    quantizer.find_params(W[:, (i1 + i):(i1 + i + groupsize)])
                q = quantize(w.unsqueeze(1), quantizer.scale, quantizer.zero,
                             quantizer.maxq).flatten()
                Q1[:, i] = q
                err1 = (w - q) / d
                W1[:, i:] -= err1.unsqueeze(1).matmul(Hinv1[i, i:].unsqueeze(0))
                Err1[:, i] = err1
            Q[:, i1:i2] = Q1
            W[:, i2:] -= Err1.matmul(Hinv[i1:i2, i2:])
        return Q


def torch_seconds(out, inp, n, repeats):
    g = torch.Generator().manual_seed(0)
    W = 0.02 * torch.randn(out, inp, generator=g)
    X = torch.randn(n, inp, generator=g)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        gp = GPTQ(W)
        gp.add_batch(X)
        gp.fasterquant(Quantizer(4), groupsize=128)
        times.append(time.perf_counter() - t0)
    return min(times)


def precis_seconds(build, out, inp, n, threads):
    env = dict(os.environ, PRECIS_BENCH_THREADS=str(threads))
    res = subprocess.run(
        [os.path.join(build, "bench", "gptq_bench"), f"--benchmark_filter=BM_Gptq/{out}/{inp}/{n}/",
         "--benchmark_format=json", "--benchmark_repetitions=3",
         "--benchmark_report_aggregates_only=true"],
        check=True, capture_output=True, text=True, env=env)
    runs = json.loads(res.stdout)["benchmarks"]
    best = [r for r in runs if r.get("aggregate_name") == "median"][0]
    return best["real_time"] / 1000.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sizes", default="1024,4096")
    ap.add_argument("--samples", type=int, default=4096)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    print(f"torch {torch.__version__}, {a.threads} threads, {a.samples} calibration rows, int4 g128")
    print(f"{'layer':>12} {'torch s':>9} {'precis s':>9} {'speed-up':>9}")
    for s in (int(v) for v in a.sizes.split(",")):
        t = torch_seconds(s, s, a.samples, 3 if s <= 1024 else 2)
        p = precis_seconds(a.build, s, s, a.samples, a.threads)
        print(f"{s:>5}x{s:<6} {t:9.3f} {p:9.3f} {t / p:8.2f}x", flush=True)


if __name__ == "__main__":
    main()
