// Evaluation of a model over a dataset's validation split, optionally against a reference model.
//
// Protocol (recorded in EvalResult): the split is cut into non-overlapping windows of `context`
// tokens (the model's own context unless shorter windows are asked for), taken in order from the
// start. Two ways of scoring them:
//  - AllPositions (precis): window i predicts tokens iT+1 .. iT+T, every position scored; this is
//    `precis train`'s validation loss, so with the same token count the two agree;
//  - SecondHalf (llama.cpp's llama-perplexity): chunk i is tokens iT .. iT+T−1, its first token
//    replaced by BOS when the model adds one, and only the predictions of chunk tokens
//    T/2+1 .. T−1 from within the chunk are scored (T − 1 − T/2 per chunk), so every scored token
//    sees at least T/2 tokens of context. Perplexities are comparable with llama.cpp's.
// max_tokens caps the windows at floor(max_tokens / T).
#pragma once

#include <cstdint>
#include <string_view>

#include "precis/core/progress.hpp"
#include "precis/data/dataset.hpp"
#include "precis/eval/token_stats.hpp"
#include "precis/model/model.hpp"

namespace precis::eval {

enum class Protocol { AllPositions, SecondHalf };

// "all" and "llama-perplexity", as the CLI and the JSON name them.
std::string_view protocol_name(Protocol p);
// Throws precis::Error listing the valid names.
Protocol parse_protocol(std::string_view name);

struct EvalOptions {
  std::int64_t max_tokens = 0;  // 0: the whole validation split
  int batch = 4;                // windows per forward; must not exceed the models' max_batch
  int threads = 1;              // for the per-token statistics (the models carry their own)
  int context = 0;              // window length; 0: the model's context
  Protocol protocol = Protocol::AllPositions;
  int bos = -1;  // SecondHalf: the id replacing each chunk's first token; -1: none (no BOS added)
};

struct Comparison {
  Summary kl;       // KL(ref || model) per token, nats
  Summary delta_p;  // p_model(target) − p_ref(target)
  Fraction same_top;
  double ref_loss = 0;
  double delta_loss = 0;  // loss − ref_loss
};

struct EvalResult {
  // Protocol.
  Protocol protocol = Protocol::AllPositions;
  int context = 0;
  int bos = -1;
  int first_scored = 0;  // position in the window of the first scored prediction
  int scored_per_window = 0;
  std::int64_t windows = 0;
  std::int64_t tokens = 0;  // scored: windows · scored_per_window
  // The model alone.
  double loss = 0;  // mean next-token cross-entropy, nats
  double perplexity = 0;
  double bytes_per_token = 0;  // of the split; 0 when the dataset does not know
  double bits_per_byte = 0;    // loss / ln 2 / bytes_per_token; 0 when unknown
  bool has_ref = false;
  Comparison vs_ref;  // filled when a reference was given
};

// ref may be null. Both models must share the vocabulary and hold windows of the chosen context.
// Throws precis::Error for a dataset whose vocabulary exceeds the model's, a context the model
// cannot hold, or a split shorter than one window.
EvalResult evaluate(model::Model& model, model::Model* ref, const data::Dataset& dataset,
                    const EvalOptions& options, const ProgressFn& progress = nullptr);

}  // namespace precis::eval
