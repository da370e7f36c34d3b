"""A model trained for a few seconds on a small real-English corpus reaches a validation loss
below the corpus's order-0 (unigram) entropy, and summary.json reports both, with the other
fields docs/training.md promises."""
import json
import os
import sys
import tempfile

from train_helpers import TINY, make_dataset, metadata, tensors, train


def main():
    with tempfile.TemporaryDirectory() as tmp:
        data = make_dataset(os.path.join(tmp, "data"))
        out = os.path.join(tmp, "run")
        proc = train(["--data", data, "-o", out, "--steps", "500", "--eval-every", "250",
                      "--eval-tokens", "16384", "--warmup", "20"] + TINY)
        print(proc.stdout.strip())
        s = json.load(open(os.path.join(out, "summary.json")))
        for key in ("config", "policy", "seed", "final_train_loss", "final_val_loss", "tokens",
                    "time", "versions", "data", "unigram_entropy_nats", "curve"):
            assert key in s, key
        assert s["status"] == "completed"
        assert s["tokens"] == 500 * 8 * 64, s["tokens"]
        assert s["time"]["tokens_per_second"] > 0
        assert s["seed"] == 7 and s["config"]["model"]["d_model"] == 32
        h = s["unigram_entropy_nats"]
        # ln(256) bounds any byte model's entropy; English text is near 3 nats/byte order-0.
        assert 2.0 < h < 5.55, h
        val = s["final_val_loss"]
        print(f"validation loss {val:.4f} vs unigram entropy {h:.4f} nats/token")
        assert val < h - 0.2, f"validation loss {val} is not below the unigram entropy {h}"
        assert s["val_loss_below_unigram_entropy"] is True
        # model.safetensors: HF names, config and policy in the metadata.
        model = tensors(os.path.join(out, "model.safetensors"))
        assert "model.embed_tokens.weight" in model and "lm_head.weight" in model
        assert "model.layers.1.mlp.down_proj.weight" in model
        meta = metadata(os.path.join(out, "model.safetensors"))
        assert json.loads(meta["config"])["d_model"] == 32
        assert "weights" in json.loads(meta["policy"])
    print("OK")


if __name__ == "__main__":
    sys.exit(main())
