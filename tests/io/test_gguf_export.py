"""`precis export MODEL --gguf TYPE` read by the gguf package (llama.cpp's gguf-py 0.19).

For every exportable type: the file reads in gguf.GGUFReader with the llama.* hyperparameters, the
byte-level BPE vocabulary and llama.cpp's tensor names; each tensor has the type llama.cpp's tools
would give it (norms f32; 2-D tensors the requested type, or llama-quantize's fallback when a row
is not whole super-blocks); gguf.quants.dequantize and precis give the same fp32 bits; and the
values are the model's, q/k rows permuted exactly as convert_hf_to_gguf.py permutes them (bytes
equal gguf.quants.quantize of the permuted weights wherever gguf-py can quantize the type).
A `precis quantize --format gguf:q4_0` file exports its blocks unchanged. Bad input is refused."""
import json
import os
import sys
import tempfile

import gguf
import numpy as np
from safetensors import safe_open

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gguf_export_util import (config_json, gguf_name, heads_of, permute, precis_dequant,  # noqa: E402
                              random_weights, run, write_model)

T = gguf.GGMLQuantizationType
TYPES = {"f32": T.F32, "f16": T.F16, "bf16": T.BF16, "q8_0": T.Q8_0, "q4_0": T.Q4_0,
         "q4_1": T.Q4_1, "q5_0": T.Q5_0, "q5_1": T.Q5_1, "q4_k": T.Q4_K, "q6_k": T.Q6_K,
         "mxfp4": T.MXFP4}
FILE_TYPE = {"f32": 0, "f16": 1, "q4_0": 2, "q4_1": 3, "q8_0": 7, "q5_0": 8, "q5_1": 9, "q4_k": 14,
             "q6_k": 18, "bf16": 32, "mxfp4": 38}


def gpt2_bytes_to_unicode():
    """GPT-2's encoder.py mapping, written out independently of io/gguf_export_vocab.cpp."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def expected_type(qtype, cols):
    """llama-quantize's rule for rows that are not whole blocks: q4_K -> q5_0, q6_K -> q8_0, then
    f16."""
    block = gguf.GGML_QUANT_SIZES[qtype][0]
    if cols % block == 0:
        return qtype
    nxt = {T.Q4_K: T.Q5_0, T.Q6_K: T.Q8_0}.get(qtype, T.F16)
    return nxt if cols % gguf.GGML_QUANT_SIZES[nxt][0] == 0 else T.F16


def field(reader, key):
    f = reader.get_field(key)
    assert f is not None, f"missing key {key}"
    return f.contents()


def check_metadata(reader, c, name):
    assert field(reader, "general.architecture") == "llama"
    expect = {"llama.vocab_size": c["vocab_size"], "llama.context_length": c["context"],
              "llama.embedding_length": c["d_model"], "llama.block_count": c["n_layers"],
              "llama.feed_forward_length": c["ffn_hidden"], "llama.attention.head_count": c["n_heads"],
              "llama.attention.head_count_kv": c["n_kv_heads"],
              "llama.rope.dimension_count": c["d_model"] // c["n_heads"],
              "general.file_type": FILE_TYPE[name]}
    for key, value in expect.items():
        assert field(reader, key) == value, (key, field(reader, key), value)
        assert reader.get_field(key).types == [gguf.GGUFValueType.UINT32], key
    assert np.float32(field(reader, "llama.attention.layer_norm_rms_epsilon")) == np.float32(c["rms_eps"])
    assert field(reader, "llama.rope.freq_base") == c["rope_theta"]
    quantized = name not in ("f32", "f16", "bf16")
    assert (reader.get_field("general.quantization_version") is not None) == quantized
    b2u = gpt2_bytes_to_unicode()
    assert field(reader, "tokenizer.ggml.model") == "gpt2"
    assert field(reader, "tokenizer.ggml.tokens") == [b2u[b] for b in range(256)]
    assert field(reader, "tokenizer.ggml.token_type") == [3] + [1] * 255  # id 0 = eot: control
    assert field(reader, "tokenizer.ggml.merges") == []
    assert field(reader, "tokenizer.ggml.eos_token_id") == 0
    assert field(reader, "tokenizer.ggml.add_bos_token") is False


def check_tensors(path, reader, c, weights, name, tmp):
    qtype = TYPES[name]
    tensors = {t.name: t for t in reader.tensors}
    assert sorted(tensors) == sorted(gguf_name(hf) for hf in weights), sorted(tensors)
    for hf, w in weights.items():
        t = tensors[gguf_name(hf)]
        want = T.F32 if w.ndim == 1 else expected_type(qtype, w.shape[1])
        assert t.tensor_type == want, (t.name, t.tensor_type.name, want.name)
        assert list(t.shape) == list(reversed(w.shape)), (t.name, t.shape)
        ours = precis_dequant(path, t.name, tmp)
        theirs = gguf.quants.dequantize(np.asarray(t.data), t.tensor_type).reshape(-1)
        assert ours.tobytes() == theirs.astype(np.float32).tobytes(), f"{name} {t.name}: dequant differs"
        heads = heads_of(t.name, c)
        ref = permute(w, heads) if heads else w
        if want == T.F32:
            assert ours.tobytes() == ref.reshape(-1).tobytes(), t.name
        elif want == T.F16:
            assert ours.tobytes() == ref.astype(np.float16).astype(np.float32).reshape(-1).tobytes()
        else:
            try:
                expected_bytes = gguf.quants.quantize(ref, want)
            except NotImplementedError:  # gguf-py cannot quantize this type: check the error size
                err = np.abs(ours - ref.reshape(-1)).max()
                assert err < 0.25 * np.abs(ref).max(), (t.name, err)
                continue
            assert np.asarray(t.data).tobytes() == expected_bytes.tobytes(), f"{name} {t.name}: bytes"
    return len(tensors)


def test_types(tmp):
    # d 256: q4_K/q6_K fit most rows; ffn 704 = 22 blocks of 32 is not whole super-blocks, so
    # ffn_down falls back. 4 heads of 64 with 2 KV heads: k is permuted by its own head count.
    c = config_json(d=256, layers=1, heads=4, kv_heads=2, ffn=704)
    weights = random_weights(c, seed=5)
    model = os.path.join(tmp, "untied.safetensors")
    write_model(model, c, weights)
    for name in TYPES:
        out = os.path.join(tmp, f"untied-{name}.gguf")
        proc = run("export", model, "--gguf", name, "-o", out, "--tokenizer-from", "bytes")
        reader = gguf.GGUFReader(out)
        check_metadata(reader, c, name)
        n = check_tensors(out, reader, c, weights, name, tmp)
        print(f"{name}: {n} tensors, {os.path.getsize(out)} bytes; {proc.stdout.strip()}")


def test_tied(tmp):
    c = config_json(d=64, layers=2, heads=2, kv_heads=1, ffn=192, tied=True)
    weights = random_weights(c, seed=6)
    model = os.path.join(tmp, "tied.safetensors")
    write_model(model, c, weights)
    out = os.path.join(tmp, "tied-q8_0.gguf")
    run("export", model, "--gguf", "q8_0", "-o", out, "--tokenizer-from", "bytes")
    reader = gguf.GGUFReader(out)
    check_metadata(reader, c, "q8_0")
    assert "output.weight" not in {t.name for t in reader.tensors}, "a tied head has no output.weight"
    check_tensors(out, reader, c, weights, "q8_0", tmp)


def test_packed_copy(tmp):
    c = config_json(d=128, layers=1, heads=4, kv_heads=2, ffn=352)
    weights = random_weights(c, seed=7)
    model, packed = os.path.join(tmp, "p.safetensors"), os.path.join(tmp, "p-q4_0.safetensors")
    write_model(model, c, weights)
    run("quantize", model, "--format", "gguf:q4_0", "-o", packed)
    out = os.path.join(tmp, "p-q4_0.gguf")
    proc = run("export", packed, "--gguf", "q4_0", "-o", out, "--tokenizer-from", "bytes")
    assert "7 copied as packed blocks" in proc.stdout, proc.stdout
    tensors = {t.name: t for t in gguf.GGUFReader(out).tensors}
    with safe_open(packed, "numpy") as f:
        quantized = json.loads(f.metadata()["precis.quantized"])
        assert len(quantized) == 7
        for hf in quantized:
            blocks = f.get_tensor(hf).reshape(weights[hf].shape[0], -1)  # one row of blocks per row
            heads = heads_of(gguf_name(hf), c)
            want = permute(blocks, heads) if heads else blocks
            got = np.asarray(tensors[gguf_name(hf)].data).reshape(-1)
            assert got.tobytes() == want.tobytes(), f"{hf}: blocks were not copied unchanged"


def test_bad_input(tmp):
    c = config_json()
    model = os.path.join(tmp, "bad.safetensors")
    write_model(model, c, random_weights(c, seed=8))
    out = os.path.join(tmp, "bad.gguf")
    cases = [
        (["export", model, "--gguf", "q3_k", "-o", out, "--tokenizer-from", "bytes"], "unknown GGUF type"),
        (["export", model, "--gguf", "q8_0", "-o", out], "does not record its tokenizer"),
        (["export", os.path.join(tmp, "missing.safetensors"), "--gguf", "f32", "-o", out], "does not exist"),
    ]
    extra = config_json(extra_norm=True)
    extra_model = os.path.join(tmp, "extra.safetensors")
    write_model(extra_model, extra, random_weights(extra, seed=9))
    cases.append((["export", extra_model, "--gguf", "f32", "-o", out, "--tokenizer-from", "bytes"],
                  "extra_norm"))
    big = config_json(vocab=300)
    big_model = os.path.join(tmp, "big.safetensors")
    write_model(big_model, big, random_weights(big, seed=10))
    cases.append((["export", big_model, "--gguf", "f32", "-o", out, "--tokenizer-from", "bytes"],
                  "256 tokens but the model's vocabulary is 300"))
    for args, message in cases:
        proc = run(*args, check=False)
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 1 and len(lines) == 1 and lines[0].startswith("precis: error:"), \
            (args, proc.returncode, proc.stderr)
        assert message in lines[0], (message, lines[0])
        assert not os.path.exists(out), f"{args}: a failed export left {out}"
        print(f"refused: {lines[0]}")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        test_types(tmp)
        test_tied(tmp)
        test_packed_copy(tmp)
        test_bad_input(tmp)
    print("ok")


if __name__ == "__main__":
    main()
