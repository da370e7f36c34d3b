"""End-to-end `precis eval`: build the small recipe, train a tiny model for a few seconds,
quantize it with RTN int8 and int3 per channel, and evaluate all three against the fp32 model.

Checks: the fp32 model against itself has KL 0 and same-top 1 exactly; its loss equals the
training summary's final validation loss (same protocol: the first --eval-tokens / context
non-overlapping windows, all positions scored; the two differ only by fp32 vs fp64 averaging);
int8's δ and KL are small, int3's are larger; bits/byte = loss / ln 2 / bytes-per-token; bad
input gives a one-line error, exit 1, and no JSON."""
import json
import math
import os
import subprocess
import sys
import tempfile

PRECIS = os.environ["PRECIS_BIN"]
EVAL_TOKENS = 8192


def run(*args, check=True):
    proc = subprocess.run([PRECIS, *args], capture_output=True, text=True)
    if check and proc.returncode != 0:
        sys.exit(f"precis {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def evaluate(tmp, data, model, ref, name):
    out = os.path.join(tmp, name + ".json")
    proc = run("eval", model, "--data", data, "--ref", ref, "--max-tokens", str(EVAL_TOKENS),
               "--threads", "2", "-q", "-o", out)
    print(proc.stdout)
    with open(out) as f:
        return json.load(f)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "data")
        run("data", "build", "--recipe", "small", "--out", data, "--threads", "2")
        runs = os.path.join(tmp, "run")
        run("train", "--data", data, "-o", runs, "--d-model", "48", "--layers", "2", "--heads", "2",
            "--context", "64", "--batch", "8", "--steps", "300", "--lr", "3e-3", "--seed", "1",
            "--eval-tokens", str(EVAL_TOKENS), "--threads", "2")
        model = os.path.join(runs, "model.safetensors")
        with open(os.path.join(runs, "summary.json")) as f:
            summary = json.load(f)
        q = {}
        for fmt in ("int8", "int3:channel"):  # bare int8: the role default (per channel) is recorded
            q[fmt[:4]] = os.path.join(tmp, fmt[:4] + ".safetensors")
            run("quantize", model, "--method", "rtn", "--format", fmt, "-o", q[fmt[:4]])

        base = evaluate(tmp, data, model, model, "fp32")
        r8 = evaluate(tmp, data, q["int8"], model, "int8")
        r3 = evaluate(tmp, data, q["int3"], model, "int3")

        print(f"train summary val loss {summary['final_val_loss']:.6f}, eval {base['loss']:.6f}")
        assert base["tokens"] == EVAL_TOKENS // 64 * 64
        # fp32 sums of per-window fp32 means vs fp64 sums of per-token fp64 log-probs.
        assert abs(base["loss"] - summary["final_val_loss"]) < 1e-4
        assert base["loss"] < summary["unigram_entropy_nats"], "the model should have learned"
        assert base["ref"]["kl"]["max"] == 0.0 and base["ref"]["same_top"]["fraction"] == 1.0
        assert base["ref"]["delta_loss"] == 0.0
        assert abs(base["perplexity"] - math.exp(base["loss"])) < 1e-9 * base["perplexity"]
        bpt = base["bytes_per_token"]
        assert bpt == 1.0, "the bytes tokenizer has one byte per token"
        assert abs(base["bits_per_byte"] - base["loss"] / math.log(2) / bpt) < 1e-12

        d8, d3 = r8["ref"]["delta_loss"], r3["ref"]["delta_loss"]
        kl8, kl3 = r8["ref"]["kl"]["mean"], r3["ref"]["kl"]["mean"]
        print(f"int8: delta {d8:+.6f} KL {kl8:.3e} same-top {r8['ref']['same_top']['fraction']:.4f}")
        print(f"int3: delta {d3:+.6f} KL {kl3:.3e} same-top {r3['ref']['same_top']['fraction']:.4f}")
        assert r8["quantized_tensors"] == 14 and r3["quantized_tensors"] == 14
        assert abs(d8) < 0.01 and kl8 < 1e-3, "int8 per channel should be nearly lossless"
        assert d3 > abs(d8) and kl3 > 10 * kl8, "int3 should cost more than int8"
        assert r3["ref"]["same_top"]["fraction"] < r8["ref"]["same_top"]["fraction"] <= 1.0
        assert r8["ref"]["ref_loss"] == base["loss"]
        kl = r3["ref"]["kl"]
        assert kl["min"] >= 0 and kl["percentiles"]["50"] <= kl["percentiles"]["99"] <= kl["max"]

        # Bad input: one line on stderr naming the problem, exit 1, no JSON written.
        out = os.path.join(tmp, "bad.json")
        for args, words in [
            (["eval", os.path.join(tmp, "nope.safetensors"), "--data", data], "does not exist"),
            (["eval", model, "--data", os.path.join(tmp, "nodata")], ""),
            (["eval", model, "--data", data, "--max-tokens", "10"], "less than one window"),
            (["eval", os.path.join(runs, "summary.json"), "--data", data], ""),
        ]:
            proc = run(*args, "-q", "-o", out, check=False)
            print(f"{' '.join(args[:2])} ... -> {proc.returncode}: {proc.stderr.strip()}")
            assert proc.returncode == 1, proc.stderr
            assert proc.stderr.startswith("precis: error:") and proc.stderr.count("\n") == 1
            assert words in proc.stderr
            assert not os.path.exists(out)
    print("ok")


if __name__ == "__main__":
    main()
