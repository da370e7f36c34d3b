"""`precis export` of a model trained with a SentencePiece tokenizer: the GGUF carries llama.cpp's
SPM vocabulary (pieces, scores, token types, ids of <unk>, <s>, </s>), and llama.cpp tokenizes
text to exactly the ids libsentencepiece gives (which is how precis tokenizes, data/
sentencepiece_tokenizer.cpp), byte fallback included; the model then loads and runs.

The tokenizer is found the way a training run records it: summary.json beside model.safetensors
names the dataset folder, whose manifest.json describes the tokenizer. The SentencePiece model
is trained here with precis's own training options on this repository's README, so the test
needs no `precis data build`."""
import json
import os
import sys
import tempfile

import gguf
import numpy as np
import sentencepiece as spm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gguf_export_util import config_json, random_weights, run, write_model  # noqa: E402

import llama_cpp  # noqa: E402

TEXTS = ["The model reads the data, then it writes 1234 tokens.",
         "  two leading spaces, a tab\tand a newline\n", "Ünïcödé and 漢字 fall back to bytes",
         "quantization precision scaling law"]


def train_tokenizer(folder, source):
    with open(os.path.join(source, "README.md"), encoding="utf-8") as f:
        lines = [line for line in f.read().splitlines() if line.strip()]
    # precis's options (data/sentencepiece_tokenizer.cpp, train_sentencepiece).
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines), model_prefix=os.path.join(folder, "tokenizer"),
        model_type="bpe", vocab_size=400, byte_fallback=True, character_coverage=0.9995,
        normalization_rule_name="identity", remove_extra_whitespaces=False, add_dummy_prefix=False,
        allow_whitespace_only_pieces=True, split_digits=True, unk_id=0, bos_id=1, eos_id=2,
        pad_id=-1, minloglevel=2)
    sp = spm.SentencePieceProcessor(model_file=os.path.join(folder, "tokenizer.model"))
    manifest = {"format": "precis-dataset", "version": 1,
                "tokenizer": {"kind": "sentencepiece", "name": f"sp:{sp.get_piece_size()}",
                              "vocab_size": sp.get_piece_size(), "eot_id": sp.eos_id(),
                              "model_file": "tokenizer.model"}}
    with open(os.path.join(folder, "manifest.json"), "w") as f:
        json.dump(manifest, f)
    return sp


def main():
    source = os.environ["PRECIS_SOURCE"]
    with tempfile.TemporaryDirectory() as tmp:
        data, run_dir = os.path.join(tmp, "data"), os.path.join(tmp, "run")
        os.makedirs(data)
        os.makedirs(run_dir)
        sp = train_tokenizer(data, source)
        vocab = sp.get_piece_size()
        c = config_json(vocab=vocab, d=64, layers=1, heads=2, kv_heads=2, ffn=192, context=64)
        model = os.path.join(run_dir, "model.safetensors")
        write_model(model, c, random_weights(c, seed=3))
        with open(os.path.join(run_dir, "summary.json"), "w") as f:
            json.dump({"data": {"dir": data}}, f)
        out = os.path.join(tmp, "spm-q8_0.gguf")
        print(run("export", model, "--gguf", "q8_0", "-o", out).stdout.strip())

        reader = gguf.GGUFReader(out)
        get = lambda key: reader.get_field(key).contents()  # noqa: E731
        assert get("tokenizer.ggml.model") == "llama"
        assert get("tokenizer.ggml.tokens") == [sp.id_to_piece(i) for i in range(vocab)]
        scores = np.array(get("tokenizer.ggml.scores"), dtype=np.float32)
        assert scores.tobytes() == np.array([sp.get_score(i) for i in range(vocab)], np.float32).tobytes()
        types = get("tokenizer.ggml.token_type")
        assert types[0] == 2 and types[1] == 3 and types[2] == 3  # unknown, control, control
        assert sum(t == 6 for t in types) == 256  # <0x00>..<0xFF>
        assert (get("tokenizer.ggml.unknown_token_id"), get("tokenizer.ggml.bos_token_id"),
                get("tokenizer.ggml.eos_token_id")) == (0, 1, 2)
        assert get("tokenizer.ggml.add_space_prefix") is False
        assert get("tokenizer.ggml.add_bos_token") is False

        llm = llama_cpp.Llama(model_path=out, logits_all=True, n_ctx=64, n_threads=1, verbose=False)
        for text in TEXTS:
            ours = sp.encode(text)
            theirs = llm.tokenize(text.encode(), add_bos=False, special=False)
            print(f"{len(ours)} tokens: {text!r}")
            assert theirs == ours, f"{text!r}: llama.cpp {theirs} != SentencePiece {ours}"
        llm.eval(sp.encode(TEXTS[0]))
        assert np.isfinite(np.array(llm.scores[:3])).all()
    print("ok")


if __name__ == "__main__":
    main()
