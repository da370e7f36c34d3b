// ImportedLlama: a Llama model from elsewhere, in Hugging Face terms (hyperparameters and fp32
// tensors under HF names in the (out, in) layout), which both importers produce (hf_import.hpp
// from a transformers checkpoint, gguf_import.hpp from a llama.cpp file) and `precis import` turns
// into a precis model file.
//
// It lives in io/ and knows nothing of precis's Model, so the checks here are those of the Llama
// architecture itself: every tensor present once with its exact shape, and nothing precis cannot
// compute (biases, RoPE scaling, a head size other than hidden/heads).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "precis/io/llama_hyperparameters.hpp"

namespace precis::io {

struct ImportedTensor {
  std::string name;  // Hugging Face name, e.g. model.layers.0.self_attn.q_proj.weight
  std::vector<std::int64_t> shape;
  std::vector<float> values;
};

struct ImportedLlama {
  LlamaHyperparameters hp;
  std::vector<ImportedTensor> tensors;  // exactly expected_llama_tensors(hp), in that order
  // Provenance for the model file's "import" metadata: format, source path, architecture, tensor
  // types, tokenizer (JSON object text).
  std::string provenance_json;
};

struct ExpectedTensor {
  std::string name;
  std::vector<std::int64_t> shape;
};

// The tensors of a Llama model under HF names with their shapes (lm_head.weight only when the
// embeddings are untied).
std::vector<ExpectedTensor> expected_llama_tensors(const LlamaHyperparameters& hp);

// Collects tensors by name, checking each against the expected set as it arrives (so a bad file
// is refused before its other tensors are converted), then hands them out in expected order.
class LlamaTensorSet {
 public:
  LlamaTensorSet(const LlamaHyperparameters& hp, std::string source);

  // The expected shape of `name`, or a precis::Error for a tensor a Llama model has no place for.
  const ExpectedTensor& expect(const std::string& name) const;
  // Checks the shape against expect(name) and that it was not added before.
  void add(ImportedTensor tensor);
  // All tensors in expected order; precis::Error naming the first missing one.
  std::vector<ImportedTensor> take();

 private:
  std::string source_;
  std::vector<ExpectedTensor> expected_;
  std::map<std::string, std::size_t> index_;
  std::vector<ImportedTensor> slots_;
  std::vector<bool> filled_;
};

std::string shape_text(const std::vector<std::int64_t>& shape);

}  // namespace precis::io
