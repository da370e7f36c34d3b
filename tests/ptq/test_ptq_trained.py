"""Whole-model GPTQ and AWQ on a trained model, end to end through the CLI.

Trains a small model on the small recipe (d_model 128 so that groups of 128 exist, 2 layers, 250
steps), quantizes it with RTN, GPTQ and AWQ at int3 and int4 in groups of 128 (issue 4's
must-show), and evaluates each against the fp32 model: GPTQ and AWQ give lower loss and lower KL
than RTN at both. The seed is 1 (PTQ_TEST_SEED overrides it); seed 2 gave the same ordering when
the test was written, and no other seed was tried (numbers in docs/ptq.md). Also --head: GPTQ
and AWQ of the output head (calibrated on the final norm's outputs) beat RTN of the head at
int3:g128, and a tied head is refused. Checks the file records method, calibration and head, and
that bad input is a one-line error with no output file."""
import json
import os
import subprocess
import sys
import tempfile
import time

PRECIS = os.environ["PRECIS_BIN"]
SEED = os.environ.get("PTQ_TEST_SEED", "1")
EVAL_TOKENS = 8192
FORMATS = ("int3:g128", "int4:g128")


def run(*args, check=True):
    t0 = time.time()
    proc = subprocess.run([PRECIS, *args], capture_output=True, text=True)
    print(f"  [{time.time() - t0:5.1f} s] precis {args[0]} {' '.join(args[1:4])}", flush=True)
    if check and proc.returncode != 0:
        sys.exit(f"precis {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def metadata(path):
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        return json.loads(f.read(n))["__metadata__"]


def train(data, out, steps, *extra):
    run("train", "--data", data, "-o", out, "--d-model", "128", "--layers", "2", "--heads", "4",
        "--ffn", "256", "--context", "64", "--batch", "8", "--steps", str(steps), "--lr", "3e-3",
        "--seed", SEED, "--eval-tokens", "4096", "--threads", "2", *extra)
    return os.path.join(out, "model.safetensors")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "data")
        run("data", "build", "--recipe", "small", "--out", data, "--threads", "2")
        model = train(data, os.path.join(tmp, "run"), 250)
        calib = ["--data", data, "--calib-windows", "32", "--calib-seed", "3"]

        def quantize_eval(method, fmt, *extra):
            out = os.path.join(tmp, f"{method}-{fmt.replace(':', '_')}{''.join(extra)}.safetensors")
            run("quantize", model, "--method", method, "--format", fmt, "-o", out, "--threads", "2",
                "-q", *([] if method == "rtn" else calib), *extra)
            js = os.path.join(tmp, "e.json")
            run("eval", out, "--data", data, "--ref", model, "--max-tokens", str(EVAL_TOKENS),
                "--threads", "2", "-q", "-o", js)
            with open(js) as f:
                r = json.load(f)
            print(f"{method:5} {fmt:10} {' '.join(extra):6} loss {r['loss']:.5f} "
                  f"δ {r['ref']['delta_loss']:+.5f} KL {r['ref']['kl']['mean']:.4e}")
            return out, (r["loss"], r["ref"]["kl"]["mean"])

        results = {}
        for fmt in FORMATS:
            for method in ("rtn", "gptq", "awq"):
                out, results[method, fmt] = quantize_eval(method, fmt)
                if method != "rtn":
                    ptq = json.loads(metadata(out)["precis.ptq"])
                    assert ptq["method"] == method and ptq["calibration"]["windows"] == 32, ptq
                    assert ptq["calibration"]["length"] == 64 and ptq["calibration"]["seed"] == 3
                    assert ptq["include_head"] is False, ptq
        # The must-show: both calibrated methods below RTN in loss and KL at int3 and int4 g128.
        # Measured δ (seed 1 / seed 2): int3:g128 RTN +0.0032/+0.0022, AWQ +0.0007/+0.0012;
        # int4:g128 RTN +0.0010/+0.0012, AWQ +0.0003/+0.0008. The margins are small in nats
        # (this model loses little to quantization), so KL, the sharper statistic, is asserted
        # too.
        for fmt in FORMATS:
            rtn_loss, rtn_kl = results["rtn", fmt]
            for method in ("gptq", "awq"):
                loss, kl = results[method, fmt]
                assert loss < rtn_loss, f"{method} {fmt} loss should beat RTN's: {results}"
                assert kl < rtn_kl, f"{method} {fmt} KL should beat RTN's: {results}"

        # --head: the head quantized too, by each method.
        head = {}
        for method in ("rtn", "gptq", "awq"):
            out, head[method] = quantize_eval(method, "int3:g128", "--head")
            declared = json.loads(metadata(out)["precis.quantized"])
            assert "lm_head.weight" in declared, sorted(declared)
            assert json.loads(metadata(out)["precis.ptq"])["include_head"] is True
        for method in ("gptq", "awq"):
            assert head[method][0] < head["rtn"][0], f"{method} --head vs rtn --head: {head}"

        # Bad input: one line on stderr, exit 1, no file.
        tied = train(data, os.path.join(tmp, "tied"), 2, "--tied-head")
        bad = os.path.join(tmp, "bad.safetensors")
        cases = [
            (model, ["--method", "gptq", "--format", "int4:g32"], "--data"),
            (model, ["--method", "gptq", "--format", "int4:g32", "--data", data, "--act-order"],
             "--static-groups"),
            (model, ["--method", "awq", "--format", "int4:g48", "--data", data], "q_proj"),
            (tied, ["--method", "gptq", "--format", "int4:g128", "--data", data, "--head"], "tied"),
            (tied, ["--method", "awq", "--format", "int4:g128", "--data", data, "--head"], "tied"),
        ]
        for src, args, needle in cases:
            proc = run("quantize", src, "-o", bad, *args, check=False)
            assert proc.returncode == 1, (args, proc.returncode, proc.stderr)
            assert needle in proc.stderr, (args, proc.stderr)
            assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
            assert not os.path.exists(bad)
    print("ok")


if __name__ == "__main__":
    main()
