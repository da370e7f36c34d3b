"""Exact resume: kill -9 in the middle of training (and, separately, SIGINT), then --resume from
the last checkpoint: the final weights are bit-identical to an uninterrupted run with the same
thread count. Drives the precis binary on a tiny model and a tiny real-text corpus."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

from train_helpers import PRECIS, TINY, make_dataset, metadata, tensors, train

STEPS = 300


def run_args(data, out):
    return ["--data", data, "-o", out, "--steps", str(STEPS), "--ckpt-every", "25",
            "--eval-every", "200", "--eval-tokens", "4096"] + TINY


def wait_for_checkpoint(proc, ckpt, timeout=60):
    start = time.time()
    while not os.path.exists(ckpt):
        assert proc.poll() is None, "the run ended before writing a checkpoint"
        assert time.time() - start < timeout, "no checkpoint appeared"
        time.sleep(0.005)


def checkpoint_step(path):
    return json.loads(metadata(path)["train_state"])["step"]


def interrupted_then_resumed(data, out, sig):
    proc = subprocess.Popen([PRECIS, "train"] + run_args(data, out),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ckpt = os.path.join(out, "checkpoint.safetensors")
    wait_for_checkpoint(proc, ckpt)
    time.sleep(0.05)  # land somewhere inside a later interval, not on the first checkpoint
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    step = checkpoint_step(ckpt)
    assert step < STEPS, f"the run finished (step {step}) before the signal: make STEPS larger"
    if sig == signal.SIGKILL:
        assert proc.returncode == -signal.SIGKILL, proc.returncode
        assert not os.path.exists(os.path.join(out, "model.safetensors"))
    else:
        assert proc.returncode == 130, (proc.returncode, err)
        summary = json.load(open(os.path.join(out, "summary.json")))
        assert summary["status"] == "interrupted", summary["status"]
        assert summary["steps"] == step, (summary["steps"], step)
    resumed = train(run_args(data, out) + ["--resume"])
    summary = json.load(open(os.path.join(out, "summary.json")))
    assert summary["status"] == "completed" and summary["steps"] == STEPS, summary["status"]
    assert summary["resumed_from_step"] == step, (summary["resumed_from_step"], step)
    print(f"{signal.Signals(sig).name}: stopped with the checkpoint at step {step}; resumed; "
          f"{resumed.stdout.splitlines()[0]}")
    return tensors(os.path.join(out, "model.safetensors"))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        data = make_dataset(os.path.join(tmp, "data"))
        t0 = time.time()
        train(run_args(data, os.path.join(tmp, "whole")))
        whole = tensors(os.path.join(tmp, "whole", "model.safetensors"))
        print(f"uninterrupted run: {STEPS} steps in {time.time() - t0:.1f}s")
        for sig, name in ((signal.SIGKILL, "killed"), (signal.SIGINT, "sigint")):
            got = interrupted_then_resumed(data, os.path.join(tmp, name), sig)
            assert got.keys() == whole.keys()
            differing = [n for n in whole if whole[n] != got[n]]
            assert not differing, f"{name}: tensors differ after resume: {differing[:5]}"
            print(f"{name}: all {len(whole)} tensors bit-identical to the uninterrupted run")
    print("OK")


if __name__ == "__main__":
    sys.exit(main())
