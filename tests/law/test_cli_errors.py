"""Bad input to precis fit / predict / plan: a one-line error that says what to do, a non-zero exit,
and no output file. Also a small end-to-end fit -> predict -> plan on good data."""
import math
import os
import subprocess
import sys
import tempfile

PRECIS = os.environ["PRECIS_BIN"]


def run(*args):
    p = subprocess.run([PRECIS, *args], capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def chinchilla_rows(ns, ds):
    lines = ["N,D,loss"]
    for n in ns:
        for d in ds:
            lines.append(f"{n},{d},{406.4 * n ** -0.34 + 410.7 * d ** -0.28 + 1.69}")
    return "\n".join(lines) + "\n"


def expect_error(tmp, args, *needles):
    out = os.path.join(tmp, "law.json")
    if os.path.exists(out):
        os.remove(out)
    code, stdout, stderr = run(*args, "-o", out) if args[0] == "fit" else run(*args)
    print(f"precis {' '.join(args[:4])} ... -> exit {code}: {stderr.strip()}")
    assert code != 0, f"expected failure, got exit 0: {stdout}"
    assert stderr.startswith("precis: error:"), stderr
    assert len(stderr.strip().splitlines()) == 1, "the error must be one line"
    for needle in needles:
        assert needle in stderr, f"'{needle}' missing from: {stderr}"
    assert not os.path.exists(out), "a failed fit must not leave law.json behind"
    assert not [f for f in os.listdir(tmp) if ".tmp-" in f], "temporary file left behind"


def main():
    with tempfile.TemporaryDirectory() as tmp:
        good = os.path.join(tmp, "good.csv")
        write(good, chinchilla_rows([1e7, 1e8, 1e9], [1e9, 1e10, 1e11]))
        few = os.path.join(tmp, "few.csv")
        write(few, chinchilla_rows([1e7, 1e8], [1e9, 1e10]))
        nan = os.path.join(tmp, "nan.csv")
        rows = chinchilla_rows([1e7, 1e8, 1e9], [1e9, 1e10]).splitlines()
        rows[1] = "1e7,1e9,nan"
        write(nan, "\n".join(rows) + "\n")
        negative = os.path.join(tmp, "neg.csv")
        write(negative, "N,D,loss\n1e7,1e9,2.5\n1e8,1e9,-1\n1e9,1e10,2.0\n1e7,1e10,2.2\n"
                        "1e8,1e11,2.1\n1e9,1e11,1.9\n")
        single_n = os.path.join(tmp, "single.csv")
        write(single_n, chinchilla_rows([1e8], [1e9, 3e9, 1e10, 3e10, 1e11, 3e11, 1e12]))
        ragged = os.path.join(tmp, "ragged.csv")
        write(ragged, "N,D,loss\n1e7,1e9\n")
        text = os.path.join(tmp, "text.csv")
        write(text, "N,D,loss\n1e7,lots,2.5\n")

        expect_error(tmp, ["fit", "--csv", few, "--law", "chinchilla"], "4 rows", "5 free parameters")
        expect_error(tmp, ["fit", "--csv", nan, "--law", "chinchilla"], "row 1", "loss is nan")
        expect_error(tmp, ["fit", "--csv", negative, "--law", "chinchilla"], "row 2",
                     "not positive", "--drop-nonpositive")
        expect_error(tmp, ["fit", "--csv", good, "--law", "ptq_degradation"],
                     "P_post, delta_ptq", "missing")
        expect_error(tmp, ["fit", "--csv", single_n, "--law", "chinchilla"], "every row has N",
                     "single value")
        expect_error(tmp, ["fit", "--csv", good, "--law", "kaplan"], "unknown law form 'kaplan'",
                     "chinchilla")
        expect_error(tmp, ["fit", "--csv", ragged, "--law", "chinchilla"], "row 1 has 2 cells")
        expect_error(tmp, ["fit", "--csv", text, "--law", "chinchilla"], "'lots' is not a number")
        expect_error(tmp, ["fit", "--csv", os.path.join(tmp, "absent.csv"), "--law", "chinchilla"],
                     "cannot read")
        expect_error(tmp, ["fit", "--db", "runs.db", "--law", "chinchilla"], "--csv")
        expect_error(tmp, ["fit", "--csv", good, "--law", "ouyang", "--tie-alpha-beta"],
                     "no Chinchilla exponents")
        expect_error(tmp, ["fit", "--csv", good, "--law", "chinchilla", "--holdout", "kfold:1"],
                     "at least 2")
        expect_error(tmp, ["fit", "--csv", good, "--law", "chinchilla", "--threads", "two"],
                     "thread count")

        # Good data: fit (noise-free Chinchilla data is recovered exactly), predict, plan.
        law = os.path.join(tmp, "chinchilla_law.json")
        code, out, err = run("fit", "--csv", good, "--law", "chinchilla", "--bootstrap", "20",
                             "--holdout", "kfold:3", "--threads", "2", "-o", law)
        print(out)
        assert code == 0, err
        code, out, err = run("predict", "--law", law, "--N", "3e8", "--D", "3e10")
        print(out)
        assert code == 0, err
        expected = 406.4 * 3e8 ** -0.34 + 410.7 * 3e10 ** -0.28 + 1.69
        value = float(out.split("loss = ")[1].split()[0])
        assert math.isclose(value, expected, rel_tol=1e-4), (value, expected)
        expect_error(tmp, ["predict", "--law", law, "--N", "3e8"], "needs D", "--D")
        expect_error(tmp, ["predict", "--law", good, "--N", "3e8", "--D", "1e9"], "not valid JSON")
        code, out, err = run("plan", "--law", law)
        print(out)
        assert code == 0 and "N*" in out and "D_crit: needs" in out, out + err
        expect_error(tmp, ["plan", "--law", law, "--offsets", "on"], "no fitted offsets")
        expect_error(tmp, ["plan", "--preset", "kumar2024"], "unknown preset")
        expect_error(tmp, ["plan", "--preset", "kumar2025", "--budget", "lots"], "--budget")
    print("all bad inputs rejected with clear errors")


if __name__ == "__main__":
    sys.exit(main())
