#!/usr/bin/env bash
# make demo: the longest end-to-end path precis can run today.
# Today: the format tour: the catalogue, what a spec means, and what each format costs a tensor.
set -euo pipefail
precis=${1:-build/precis}
"$precis" --version
echo
echo "== The format catalogue: every format with its true bits per weight =="
"$precis" formats
