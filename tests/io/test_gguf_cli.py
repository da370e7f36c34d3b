"""`precis gguf info`: prints the metadata and tensor table of a GGUF file, and turns a truncated
or foreign file into one clear error line with exit status 1 and nothing on stdout."""
import os
import subprocess
import sys
import tempfile

BUILD = os.environ["PRECIS_BUILD"]
PRECIS = os.environ["PRECIS_BIN"]
TOOL = os.path.join(BUILD, "tests", "gguf_file_tool")


def run(*args):
    return subprocess.run([PRECIS, *args], capture_output=True, text=True)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "sample.gguf")
        subprocess.run([TOOL, "write-sample", path], check=True)
        out = run("gguf", "info", path)
        assert out.returncode == 0, out.stderr
        for needle in ("GGUF v3", "metadata (29 keys)", "general.architecture", '"llama"',
                       "a.nested", "tensors (34)", "t.q4_K", "34 tensors"):
            assert needle in out.stdout, f"'{needle}' missing from:\n{out.stdout}"
        # q8_0 spends 34 bytes on 32 weights: 8.5 bits per weight.
        assert any(line.split()[0] == "q8_0" and "8.5000 bits/weight" in line
                   for line in out.stdout.splitlines() if line.strip()), out.stdout
        print(f"gguf info: {len(out.stdout.splitlines())} lines for the sample file")

        data = open(path, "rb").read()
        cases = {"truncated": data[:200], "not gguf": b"PK\x03\x04" + data[4:],
                 "absurd tensor count": data[:8] + b"\xff" * 8 + data[16:]}
        for what, bad in cases.items():
            bad_path = os.path.join(tmp, "bad.gguf")
            open(bad_path, "wb").write(bad)
            out = run("gguf", "info", bad_path)
            lines = out.stderr.strip().splitlines()
            assert out.returncode == 1, f"{what}: exit {out.returncode}"
            assert out.stdout == "", f"{what}: printed {out.stdout!r}"
            assert len(lines) == 1 and lines[0].startswith("precis: error: "), out.stderr
            print(f"{what}: {lines[0]}")
    print("ok")


if __name__ == "__main__":
    main()
