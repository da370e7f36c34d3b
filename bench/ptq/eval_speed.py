"""Evaluation speed of a quantized and an unquantized model, in the same run.

`precis eval` of a packed checkpoint dequantizes one tensor at a time into the model's fp32
arena at load and then runs the same forward as for the fp32 file, so the two should differ only
by the load. Runs are alternated (fp32, packed, fp32, packed ...) so machine load hits both alike;
reports tokens per wall second and per CPU second (the process's user+sys time, robust to a
shared machine) and the packed/fp32 ratio.

usage: python bench/ptq/eval_speed.py PRECIS MODEL DATA [--format int4:g128] [--tokens 16384]
       [--repeats 3] [--threads 2]"""
import argparse
import json
import os
import resource
import subprocess
import tempfile
import time


def timed(cmd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main():
    p = argparse.ArgumentParser()
    p.add_argument("precis")
    p.add_argument("model")
    p.add_argument("data")
    p.add_argument("--format", default="int4:g128")
    p.add_argument("--tokens", type=int, default=16384)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        packed = os.path.join(tmp, "packed.safetensors")
        subprocess.run([a.precis, "quantize", a.model, "--method", "rtn", "--format", a.format,
                        "-o", packed], check=True, capture_output=True)
        runs = {"fp32": [], a.format: []}
        tokens = None
        for _ in range(a.repeats):
            for name, path in (("fp32", a.model), (a.format, packed)):
                out = os.path.join(tmp, "e.json")
                runs[name].append(timed([a.precis, "eval", path, "--data", a.data, "--max-tokens",
                                         str(a.tokens), "--threads", str(a.threads), "-q", "-o",
                                         out]))
                with open(out) as f:
                    tokens = json.load(f)["tokens"]
        print(f"{tokens} tokens per eval, {a.repeats} alternating repeats, {a.threads} threads; "
              f"best of the repeats")
        print(f"{'model':<12}{'wall s':>9}{'tok/s':>10}{'CPU s':>9}{'tok/CPU-s':>11}")
        best = {}
        for name, rs in runs.items():
            wall = min(r[0] for r in rs)
            cpu = min(r[1] for r in rs)
            best[name] = (wall, cpu)
            print(f"{name:<12}{wall:>9.2f}{tokens / wall:>10.0f}{cpu:>9.2f}{tokens / cpu:>11.0f}")
        print(f"packed / fp32 tokens per CPU-second: {best['fp32'][1] / best[a.format][1]:.3f}")


if __name__ == "__main__":
    main()
