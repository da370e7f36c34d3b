#!/usr/bin/env python3
"""Prints the table of δ and KL statistics of `precis eval --ref` JSON files (one per
method × format, and the fp32 model against itself first), as in docs/eval.md.

usage: ptq_table.py [--markdown] EVAL.json...   (each file's method comes from its 'method' key
if present, else from the file name: eval-METHOD-FORMAT.json)."""
import json
import os
import sys


def main(argv):
    markdown = "--markdown" in argv
    paths = [a for a in argv if a != "--markdown"]
    rows = []
    for p in paths:
        with open(p) as f:
            r = json.load(f)
        name = os.path.basename(p)[len("eval-"):-len(".json")]
        r["_method"] = name.split("-", 1)[0] if "-" in name else "-"
        rows.append(r)
    first = rows[0]
    print(f"protocol: {first['tokens']:,} validation tokens, non-overlapping windows of "
          f"{first['protocol']['context']}, all positions scored; δ = loss − fp32 loss; "
          f"KL(fp32 || quantized) per token in nats")
    cols = ["method", "format", "bits/w", "loss", "δ", "KL mean", "± SE", "KL p50", "KL p99",
            "KL max", "Δp RMS %", "same top"]
    table = []
    for r in rows:
        ref = r["ref"]
        kl = ref["kl"]
        table.append([r["_method"], r["formats"] or "fp32", f"{r['linear_bits_per_weight']:.3f}",
                      f"{r['loss']:.4f}", f"{ref['delta_loss']:+.4f}", f"{kl['mean']:.3e}",
                      f"{kl['stderr']:.1e}", f"{kl['percentiles']['50']:.2e}",
                      f"{kl['percentiles']['99']:.2e}", f"{kl['max']:.2e}",
                      f"{100 * ref['delta_p']['rms']:.2f}", f"{ref['same_top']['fraction']:.4f}"])
    if markdown:
        print("| " + " | ".join(cols) + " |")
        print("|" + "---|" * len(cols))
        for t in table:
            print("| " + " | ".join(t) + " |")
        return
    widths = [max(len(c), *(len(t[i]) for t in table)) + 2 for i, c in enumerate(cols)]
    print("".join(c.rjust(w) if i > 1 else c.ljust(w) for i, (c, w) in enumerate(zip(cols, widths))))
    print("-" * sum(widths))
    for t in table:
        print("".join(c.rjust(w) if i > 1 else c.ljust(w) for i, (c, w) in enumerate(zip(t, widths))))


if __name__ == "__main__":
    main(sys.argv[1:])
