"""Bad input to precis train: each a one-line error that says what to do, a non-zero exit, and
nothing lost (an existing checkpoint stays byte-identical)."""
import json
import os
import sys
import tempfile

from train_helpers import TINY, make_dataset, metadata, train


def expect_error(args, *needles):
    proc = train(args, check=False)
    assert proc.returncode != 0, f"accepted: {args}"
    err = proc.stderr.strip()
    assert "internal error" not in err and "Traceback" not in err, err
    for n in needles:
        assert n in err, f"'{n}' not in: {err}"
    print(f"rejected ({proc.returncode}): {err.splitlines()[-1]}")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        data = make_dataset(os.path.join(tmp, "data"))
        run = os.path.join(tmp, "run")
        base = ["--data", data, "-o", run, "--steps", "30"] + TINY

        expect_error(["--data", os.path.join(tmp, "missing"), "-o", run, "--steps", "5"] + TINY,
                     "missing")
        corrupt = os.path.join(tmp, "corrupt")
        make_dataset(corrupt)
        with open(os.path.join(corrupt, "train.bin"), "ab") as f:
            f.write(b"\x01")  # an odd byte count is not a uint16 array
        expect_error(["--data", corrupt, "-o", os.path.join(tmp, "c"), "--steps", "5"] + TINY,
                     "train.bin")
        expect_error(base[:-len(TINY)] + ["--d-model", "30", "--heads", "4"], "d_model")
        expect_error(base + ["--weights", "int99"], "int99")
        expect_error(base + ["--schedule", "exponential"], "schedule")
        expect_error(base + ["--resume"], "no checkpoint")
        assert not os.path.exists(os.path.join(run, "summary.json"))

        train(base + ["--ckpt-every", "10"])
        ckpt = os.path.join(run, "checkpoint.safetensors")
        before = open(ckpt, "rb").read()
        expect_error(base, "already holds a run", "--resume")
        expect_error(base[:-len(TINY)] + TINY[:1] + ["64"] + TINY[2:] + ["--resume"],
                     "other settings", "d_model")
        expect_error(base + ["--resume", "--weights", "int4"], "other settings", "weights")
        expect_error(base + ["--resume", "--wd", "0.3"], "other settings", "weight_decay")
        # A damaged checkpoint is reported, not half-loaded.
        with open(ckpt, "r+b") as f:
            f.truncate(len(before) - 3)
        expect_error(base + ["--resume"], "checkpoint.safetensors")
        with open(ckpt, "wb") as f:
            f.write(before)
        assert open(ckpt, "rb").read() == before
        print("the checkpoint is intact after every rejected command")

        # Divergence: an absurd learning rate blows the loss up; the run stops, exits 3, records
        # "diverged" with the reason, writes no model, and keeps the last good checkpoint.
        div = os.path.join(tmp, "diverge")
        args = ["--data", data, "-o", div, "--steps", "200", "--ckpt-every", "1", "--warmup", "0",
                "--clip", "0"] + TINY[:-8] + ["--lr", "30", "--seed", "7", "--threads", "1"]
        proc = train(args, check=False)
        assert proc.returncode == 3, (proc.returncode, proc.stderr)
        s = json.load(open(os.path.join(div, "summary.json")))
        assert s["status"] == "diverged" and s["divergence"], s
        assert s["steps"] < 200
        assert not os.path.exists(os.path.join(div, "model.safetensors"))
        meta = metadata(os.path.join(div, "checkpoint.safetensors"))
        assert json.loads(meta["train_state"])["step"] == s["steps"]
        print(f"diverged as expected: {s['divergence']}")
    print("OK")


if __name__ == "__main__":
    sys.exit(main())
