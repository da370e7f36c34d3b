#!/usr/bin/env bash
# The δ/KL table of docs/eval.md: quantize one trained model with each method into each format,
# evaluate every result against the fp32 model, print the table (scripts/ptq_table.py).
#   scripts/ptq_table.sh PRECIS MODEL DATA OUT_DIR [EVAL_TOKENS] [CALIB_WINDOWS]
# METHODS and FORMATS (space-separated) override the defaults; THREADS (2).
# Each (method, format) is skipped when its eval JSON exists, so an interrupted run resumes.
set -euo pipefail
precis=$1 model=$2 data=$3 out=$4
eval_tokens=${5:-16384}
windows=${6:-64}
threads=${THREADS:-2}
methods=${METHODS:-rtn gptq awq}
formats=${FORMATS:-int8:channel int6:channel int4:channel int3:channel int4:g128 int3:g128 \
fp:e2m1:channel mxfp4 nvfp4 gguf:q4_0 gguf:q8_0}
mkdir -p "$out"
evaluate() {  # quantized-or-fp32 model, json
  "$precis" eval "$1" --data "$data" --ref "$model" --max-tokens "$eval_tokens" \
    --threads "$threads" -q -o "$2" > /dev/null
}
[[ -f "$out/eval-fp32.json" ]] || evaluate "$model" "$out/eval-fp32.json"
results=("$out/eval-fp32.json")
for fmt in $formats; do
  for method in $methods; do
    name="$method-${fmt//:/_}"
    json="$out/eval-$name.json"
    if [[ ! -f "$json" ]]; then
      calib=()
      if [[ $method != rtn ]]; then
        calib=(--data "$data" --calib-windows "$windows" --calib-seed 1)
      fi
      "$precis" quantize "$model" --method "$method" --format "$fmt" -o "$out/$name.safetensors" \
        --threads "$threads" "${calib[@]}" -q > /dev/null
      evaluate "$out/$name.safetensors" "$json"
      rm -f "$out/$name.safetensors"
    fi
    results+=("$json")
  done
done
python3 "$(dirname "$0")/ptq_table.py" ${MARKDOWN:+--markdown} "${results[@]}"
