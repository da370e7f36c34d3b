#!/usr/bin/env bash
# make demo: the longest end-to-end path precis can run today.
#   1. the format tour: what a spec means and what each format costs a tensor;
#   2. build the default corpus, train a small model for about three minutes on 2 threads;
#   3. quantize it after training (RTN into nine formats, GPTQ at 8/6/4/3 bits per channel, AWQ at
#      4/3) and evaluate each against the fp32 model;
#   4. export it to GGUF for llama.cpp (Q8_0, Q4_0), read the files back, and evaluate them with
#      precis's exact arithmetic and with llama.cpp's CPU arithmetic, bit for bit.
# Outputs go under demo-out/ (gitignored). Re-running reuses the corpus and a completed training
# run; DEMO_RETRAIN=1 trains afresh.
set -euo pipefail
precis=${1:-build/precis}
out=demo-out
threads=2
eval_tokens=65536
mkdir -p "$out"
"$precis" --version
echo
echo "== The format catalogue: every format with its true bits per weight =="
"$precis" formats
echo
echo "== What a spec means =="
for spec in int4:g128:asym mxfp4 nvfp4; do
  "$precis" formats show "$spec"
done
echo
echo "== A seeded 256 x 4096 matrix with 0.1% heavy-tailed outliers in a few formats =="
"$precis" formats compare --rows 256 --cols 4096 --seed 1 --outliers 0.001 \
  int8:tensor int8:channel int4:channel int4:g128 fp:e4m3 mxfp4 nvfp4
echo
echo "== A bad spec is a one-line error listing the valid forms =="
if "$precis" formats show int4:g0; then
  echo "expected an error" >&2
  exit 1
fi

echo
echo "== The default corpus (bytes tokenizer; a rebuild with the same recipe does nothing) =="
"$precis" data build --out "$out/data" --threads "$threads"

echo
echo "== Training a small model on 2.6 million tokens on $threads threads =="
run="$out/run"
if [[ "${DEMO_RETRAIN:-0}" == 1 ]]; then rm -rf "$run"; fi
if [[ -f "$run/model.safetensors" ]]; then
  echo "(reusing the completed run in $run; DEMO_RETRAIN=1 trains afresh)"
else
  rm -rf "$run"
  # d_model 128 and ffn 384 are multiples of 128, so every format below (g128 included) applies.
  "$precis" train --data "$out/data" -o "$run" --d-model 128 --layers 4 --heads 4 --ffn 384 \
    --context 256 --batch 16 --tokens 2600000 --lr 3e-3 --warmup 50 --eval-every 100 \
    --eval-tokens "$eval_tokens" --seed 1 --threads "$threads"
fi
python3 - "$run/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
print(f"{s['steps']} steps, {s['tokens']:,} tokens, {s['parameters']:,} parameters: "
      f"validation loss {s['final_val_loss']:.4f} nats/token vs the corpus's unigram entropy "
      f"{s['unigram_entropy_nats']:.4f} (a model that ignores context)")
PY

echo
echo "== Post-training quantization of the linear weights, each evaluated against fp32 =="
echo "(RTN: no data; GPTQ and AWQ: calibrated on 64 windows of 256 tokens of the train split,"
echo " block by block; docs/ptq.md)"
model="$run/model.safetensors"
ptq="$out/ptq"
rm -f "$ptq"/eval-*.json  # the model may have been retrained
table() { METHODS=$1 FORMATS=$2 THREADS=$threads scripts/ptq_table.sh "$precis" "$model" \
  "$out/data" "$ptq" "$eval_tokens" 64 > /dev/null; }
per_channel="int8:channel int6:channel int4:channel int3:channel"
table rtn "$per_channel int4:g128 mxfp4 nvfp4 gguf:q8_0 gguf:q4_0"
table gptq "$per_channel"
table awq "int4:channel int3:channel"
results=("$ptq/eval-fp32.json")
for f in $per_channel; do
  for m in rtn gptq awq; do
    if [[ -f "$ptq/eval-$m-${f//:/_}.json" ]]; then results+=("$ptq/eval-$m-${f//:/_}.json"); fi
  done
done
for f in int4:g128 mxfp4 nvfp4 gguf:q8_0 gguf:q4_0; do results+=("$ptq/eval-rtn-${f//:/_}.json"); done
python3 scripts/ptq_table.py "${results[@]}"

echo
echo "== GGUF for llama.cpp: export, read back, evaluate as precis and as llama.cpp computes it =="
echo "(--arith llama.cpp runs llama.cpp's CPU kernels op by op: 8-bit activation blocks included;"
echo " its logits equal llama.cpp's bit for bit, docs/eval.md; the first 8,192 validation tokens)"
gguf="$out/gguf"
mkdir -p "$gguf"
for type in q8_0 q4_0; do
  "$precis" export "$model" --gguf "$type" --tokenizer-from bytes -o "$gguf/model-$type.gguf"
  "$precis" import "$gguf/model-$type.gguf" -o "$gguf/model-$type.safetensors" > /dev/null
  for arith in exact llama.cpp; do
    "$precis" eval "$gguf/model-$type.safetensors" --data "$out/data" --ref "$model" \
      --max-tokens 8192 --threads "$threads" --arith "$arith" -q \
      -o "$gguf/eval-$type-$arith.json" > /dev/null
  done
done
python3 - "$gguf" <<'PY'
import json, sys
print(f"{'GGUF':<6} {'arithmetic':<10} {'loss':>7} {'δ':>8} {'KL mean':>10} {'same top':>8}")
for t in ("q8_0", "q4_0"):
    for a in ("exact", "llama.cpp"):
        e = json.load(open(f"{sys.argv[1]}/eval-{t}-{a}.json"))
        r = e["ref"]
        print(f"{t:<6} {a:<10} {e['loss']:7.4f} {r['delta_loss']:+8.4f} {r['kl']['mean']:10.3e} "
              f"{r['same_top']['fraction']:8.4f}")
PY
