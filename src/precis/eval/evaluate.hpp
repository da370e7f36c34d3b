// Evaluation of a model over a dataset's validation split, optionally against a reference model.
//
// Protocol (recorded in EvalResult): the split is cut into non-overlapping windows of the
// model's full context T (data::ValidationWindows: window i predicts tokens iT+1 .. iT+T), taken
// in order from the start, and every position of every window is scored; max_tokens caps the
// windows at floor(max_tokens / T). This is the protocol of `precis train`'s validation loss,
// so with the same token count the two losses agree.
#pragma once

#include <cstdint>

#include "precis/core/progress.hpp"
#include "precis/data/dataset.hpp"
#include "precis/eval/token_stats.hpp"
#include "precis/model/model.hpp"

namespace precis::eval {

struct EvalOptions {
  std::int64_t max_tokens = 0;  // 0: the whole validation split
  int batch = 4;                // windows per forward; must not exceed the models' max_batch
  int threads = 1;              // for the per-token statistics (the models carry their own)
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
  int context = 0;
  std::int64_t windows = 0;
  std::int64_t tokens = 0;  // windows · context, all scored
  // The model alone.
  double loss = 0;  // mean next-token cross-entropy, nats
  double perplexity = 0;
  double bytes_per_token = 0;  // of the split; 0 when the dataset does not know
  double bits_per_byte = 0;    // loss / ln 2 / bytes_per_token; 0 when unknown
  bool has_ref = false;
  Comparison vs_ref;  // filled when a reference was given
};

// ref may be null. Both models must share the vocabulary and context. Throws precis::Error for a
// dataset whose vocabulary exceeds the model's or a split shorter than one window.
EvalResult evaluate(model::Model& model, model::Model* ref, const data::Dataset& dataset,
                    const EvalOptions& options, const ProgressFn& progress = nullptr);

}  // namespace precis::eval
