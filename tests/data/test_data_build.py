"""End-to-end `precis data build` / `precis data info` on the small recipe (fortunes + jargon-text),
checked independently in Python:

- every shard's llm.c header (magic, version, count, precis slots) against its file size;
- the corpus checksum recomputed from the shards themselves: the byte-level shards decode to the
  documents, the validation rule (i % k == k - 1) interleaves them back into corpus order, and
  sha256 over every document followed by NUL must equal the manifest's;
- the manifest's byte counts and unigram entropy recomputed with numpy;
- the SentencePiece model precis trained (libsentencepiece 0.1.97) loaded by PyPI sentencepiece:
  every validation document decoded from the shard equals the byte-level one, and PyPI's encoding
  of it equals precis's ids exactly;
- bad input: a truncated shard, an unknown tokenizer, a missing recipe, a non-dataset --out, and a
  build killed with SIGKILL (nothing half-written; the next run completes).
"""
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np
import sentencepiece as spm

PRECIS = os.environ["PRECIS_BIN"]


def run(*args, ok=True):
    p = subprocess.run([PRECIS, *args], capture_output=True, text=True)
    if ok and p.returncode != 0:
        sys.exit(f"precis {' '.join(args)} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    return p


def read_shard(path):
    raw = np.fromfile(path, dtype="<u1")
    header = raw[:1024].view("<i4")
    assert header[0] == 20240520 and header[1] == 1, (path, header[:3])
    count = int(header[2])
    assert raw.size == 1024 + 2 * count, (path, raw.size, count)
    assert header[3] == 0x53435250, "precis mark"
    assert not header[7:].any(), "unused header slots must be zero"
    return raw[1024:].view("<u2"), dict(vocab=int(header[4]), eot=int(header[5]), tok=int(header[6]))


def split_tokens(manifest, root, name):
    parts, infos = [], []
    for s in manifest["splits"][name]["shards"]:
        tokens, info = read_shard(os.path.join(root, s["file"]))
        assert tokens.size == s["tokens"]
        parts.append(tokens)
        infos.append(info)
    return np.concatenate(parts), infos


def documents(tokens, eot):
    ends = np.flatnonzero(tokens == eot)
    assert ends.size and ends[-1] == tokens.size - 1, "every document ends with the eot token"
    starts = np.concatenate([[0], ends[:-1] + 1])
    return [tokens[a:b] for a, b in zip(starts, ends)]


def entropy(tokens, vocab):
    counts = np.bincount(tokens, minlength=vocab).astype(np.float64)
    p = counts[counts > 0] / tokens.size
    return float(-(p * np.log(p)).sum())


def main():
    work = tempfile.mkdtemp(prefix="precis-data-e2e-")
    try:
        check(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("test_data_build: all checks passed")


def check(work):
    b_dir, s_dir = os.path.join(work, "bytes"), os.path.join(work, "sp")
    t0 = time.time()
    run("data", "build", "--recipe", "small", "--out", b_dir, "--threads", "2")
    run("data", "build", "--recipe", "small", "--tokenizer", "sp:1000", "--out", s_dir,
        "--threads", "2", "--seed", "7")
    print(f"built both datasets in {time.time() - t0:.1f}s")

    mb = json.load(open(os.path.join(b_dir, "manifest.json")))
    ms = json.load(open(os.path.join(s_dir, "manifest.json")))
    assert mb["corpus"]["sha256"] == ms["corpus"]["sha256"], "same recipe, same corpus"
    every = mb["validation"]["every"]

    # Byte-level: tokens are the text; rebuild the corpus order and its checksum.
    train, tinfo = split_tokens(mb, b_dir, "train")
    val, vinfo = split_tokens(mb, b_dir, "val")
    assert all(i == dict(vocab=256, eot=0, tok=mb["tokenizer"]["id"]) for i in tinfo + vinfo)
    train_docs, val_docs = documents(train, 0), documents(val, 0)
    assert len(train_docs) == mb["splits"]["train"]["documents"]
    assert len(val_docs) == mb["splits"]["val"]["documents"]
    h, ti, vi = hashlib.sha256(), 0, 0
    for i in range(len(train_docs) + len(val_docs)):
        if i % every == every - 1:
            doc, vi = val_docs[vi], vi + 1
        else:
            doc, ti = train_docs[ti], ti + 1
        h.update(doc.astype(np.uint8).tobytes() + b"\0")
    print("corpus sha256 recomputed", h.hexdigest(), "manifest", mb["corpus"]["sha256"])
    assert h.hexdigest() == mb["corpus"]["sha256"]
    assert mb["splits"]["val"]["bytes"] == val.size and mb["splits"]["train"]["bytes"] == train.size
    H = entropy(train, 256)
    print(f"unigram entropy numpy {H:.12f} manifest {mb['unigram_entropy_nats']:.12f}")
    assert abs(H - mb["unigram_entropy_nats"]) < 1e-9

    # SentencePiece: PyPI sentencepiece loads precis's model and encodes exactly as precis did.
    sp = spm.SentencePieceProcessor(model_file=os.path.join(s_dir, "tokenizer.model"))
    assert sp.get_piece_size() == 1000 == ms["tokenizer"]["vocab_size"]
    assert sp.eos_id() == ms["tokenizer"]["eot_id"]
    sval, _ = split_tokens(ms, s_dir, "val")
    sp_docs = documents(sval, sp.eos_id())
    assert len(sp_docs) == len(val_docs)
    for ids, ref in zip(sp_docs, val_docs):
        text = sp.decode(ids.tolist())
        assert text.encode("utf-8") == ref.astype(np.uint8).tobytes(), "decode(shard) == text"
        assert sp.encode(text) == ids.tolist(), "PyPI encoding == precis encoding"
    ratio = ms["bytes_per_token"]["val"]
    print(f"sp:1000 on {len(sp_docs)} validation documents: PyPI sentencepiece "
          f"{spm.__version__} agrees on {sval.size} ids; {ratio:.3f} bytes/token")
    assert abs(ratio - mb["splits"]["val"]["bytes"] / sval.size) < 1e-12
    assert 2.0 < ratio < 5.0

    info = run("data", "info", s_dir).stdout
    assert ms["corpus"]["sha256"] in info and "sp:1000" in info, info
    shard_info = run("data", "info", os.path.join(b_dir, "val_000000.bin")).stdout
    assert f"tokens      {val.size}" in shard_info, shard_info

    # Bad input: each a one-line error, non-zero exit.
    bad = os.path.join(work, "bad.bin")
    shutil.copy(os.path.join(b_dir, "val_000000.bin"), bad)
    os.truncate(bad, os.path.getsize(bad) - 3)
    p = run("data", "info", bad, ok=False)
    assert p.returncode == 1 and "truncated" in p.stderr, p.stderr
    p = run("data", "build", "--recipe", "small", "--tokenizer", "wordpiece", "--out",
            os.path.join(work, "x"), ok=False)
    assert p.returncode != 0 and "bytes" in p.stderr and not os.path.exists(os.path.join(work, "x"))
    p = run("data", "build", "--recipe", "nonexistent", "--out", os.path.join(work, "x"), ok=False)
    assert p.returncode == 1 and "default" in p.stderr, p.stderr
    keep = os.path.join(work, "mine")
    os.makedirs(keep)
    open(os.path.join(keep, "notes.txt"), "w").write("mine")
    p = run("data", "build", "--recipe", "small", "--out", keep, ok=False)
    assert p.returncode == 1 and "not a precis dataset" in p.stderr
    assert os.listdir(keep) == ["notes.txt"]
    for p in [p]:
        print("error:", p.stderr.strip())

    # SIGKILL mid-build: the old dataset stays whole, and the next run completes it.
    proc = subprocess.Popen([PRECIS, "data", "build", "--recipe", "small", "--out", b_dir,
                             "--force", "--threads", "1"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    time.sleep(0.4)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert json.load(open(os.path.join(b_dir, "manifest.json")))["corpus"]["sha256"] == \
        mb["corpus"]["sha256"]
    run("data", "build", "--recipe", "small", "--out", b_dir, "--force")
    assert not os.path.exists(b_dir + ".partial")
    again = json.load(open(os.path.join(b_dir, "manifest.json")))
    assert again["corpus"]["sha256"] == mb["corpus"]["sha256"]
    assert again["splits"]["train"]["tokens"] == mb["splits"]["train"]["tokens"]


if __name__ == "__main__":
    main()
