"""Whole-model GPTQ and AWQ on a trained model, end to end through the CLI.

Trains a tiny model on the small recipe (a few seconds), quantizes it with RTN, GPTQ and AWQ at
int3 per channel and int4 in groups of 32 (the group must divide d_model = 64 here; g128 needs
d_model ≥ 128), and evaluates each against the fp32 model. GPTQ gives lower loss and KL than RTN
at both formats, AWQ lower KL (see the comment at the assertions). Also checks the file records method and
calibration, and that bad input is a one-line error with no output file."""
import json
import os
import subprocess
import sys
import tempfile
import time

PRECIS = os.environ["PRECIS_BIN"]
EVAL_TOKENS = 8192


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


def main():
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "data")
        run("data", "build", "--recipe", "small", "--out", data, "--threads", "2")
        runs = os.path.join(tmp, "run")
        run("train", "--data", data, "-o", runs, "--d-model", "64", "--layers", "2", "--heads", "4",
            "--ffn", "192", "--context", "64", "--batch", "8", "--steps", "300", "--lr", "3e-3",
            "--seed", "1", "--eval-tokens", "4096", "--threads", "2")
        model = os.path.join(runs, "model.safetensors")
        losses = {}
        for fmt in ("int3:channel", "int4:g32"):
            for method in ("rtn", "gptq", "awq"):
                out = os.path.join(tmp, f"{method}-{fmt.replace(':', '_')}.safetensors")
                extra = [] if method == "rtn" else ["--data", data, "--calib-windows", "32",
                                                    "--calib-seed", "3"]
                run("quantize", model, "--method", method, "--format", fmt, "-o", out,
                    "--threads", "2", "-q", *extra)
                js = os.path.join(tmp, "e.json")
                run("eval", out, "--data", data, "--ref", model, "--max-tokens", str(EVAL_TOKENS),
                    "--threads", "2", "-q", "-o", js)
                with open(js) as f:
                    r = json.load(f)
                losses[method, fmt] = (r["loss"], r["ref"]["delta_loss"], r["ref"]["kl"]["mean"])
                print(f"{method:5} {fmt:13} loss {r['loss']:.5f} δ {r['ref']['delta_loss']:+.5f} "
                      f"KL {r['ref']['kl']['mean']:.4e}")
                if method != "rtn":
                    ptq = json.loads(metadata(out)["precis.ptq"])
                    assert ptq["method"] == method and ptq["calibration"]["windows"] == 32, ptq
                    assert ptq["calibration"]["length"] == 64 and ptq["calibration"]["seed"] == 3
        # GPTQ: lower loss and KL than RTN at both formats. AWQ: lower KL (its closeness to the
        # fp32 model, what its search optimises); its loss is printed but not asserted: on this
        # tiny model δ is a few thousandths of a nat, and RTN's δ at int3 per channel came out
        # below AWQ's while its KL was higher (quantization noise can lower the loss by chance).
        for fmt in ("int3:channel", "int4:g32"):
            rtn_loss, _, rtn_kl = losses["rtn", fmt]
            assert losses["gptq", fmt][0] < rtn_loss, f"gptq {fmt} should beat RTN: {losses}"
            for method in ("gptq", "awq"):
                assert losses[method, fmt][2] < rtn_kl, f"KL {method} {fmt}: {losses}"

        # Bad input: one line on stderr, exit 1, no file.
        bad = os.path.join(tmp, "bad.safetensors")
        cases = [
            (["--method", "gptq", "--format", "int4:g32"], "--data"),
            (["--method", "gptq", "--format", "int4:g32", "--data", data, "--act-order"],
             "--static-groups"),
            (["--method", "awq", "--format", "int4:g48", "--data", data], "q_proj"),
        ]
        for args, needle in cases:
            proc = run("quantize", model, "-o", bad, *args, check=False)
            assert proc.returncode == 1, (args, proc.returncode, proc.stderr)
            assert needle in proc.stderr, (args, proc.stderr)
            assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
            assert not os.path.exists(bad)
    print("ok")


if __name__ == "__main__":
    main()
