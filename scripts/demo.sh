#!/usr/bin/env bash
# make demo: the longest end-to-end path precis can run today.
# Today: the format tour: the catalogue, what a spec means, and what each format costs a tensor.
set -euo pipefail
precis=${1:-build/precis}
"$precis" --version
echo
echo "== The format catalogue: every format with its true bits per weight =="
"$precis" formats
echo
echo "== What a spec means =="
for spec in int4:g128:asym fp:e4m3 mxfp4 nvfp4; do
  "$precis" formats show "$spec"
done
echo
echo "== The tour: a seeded 256 x 4096 Gaussian matrix in each format =="
"$precis" formats compare --rows 256 --cols 4096 --seed 1
echo
echo "== The same with 0.1% heavy-tailed outliers: per-tensor and per-channel scales suffer =="
"$precis" formats compare --rows 256 --cols 4096 --seed 1 --outliers 0.001 \
  int8:tensor int8:channel int4:channel int4:g128 int4:channel:mse fp:e4m3 mxfp8:e4m3 mxfp4 nvfp4
echo
echo "== A bad spec is a one-line error listing the valid forms =="
if "$precis" formats show int4:g0; then
  echo "expected an error" >&2
  exit 1
fi
