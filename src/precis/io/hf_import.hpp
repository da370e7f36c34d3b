// Reading a Hugging Face Llama checkpoint directory (what transformers' save_pretrained writes):
// config.json, and the weights in model.safetensors or in shards listed by
// model.safetensors.index.json. Tensors stored as F32, F16 or BF16 become fp32.
#pragma once

#include <filesystem>
#include <span>
#include <string_view>

#include "precis/io/hf_import_model.hpp"
#include "precis/io/safetensors.hpp"

namespace precis::io {

// Hyperparameters from a config.json text. Refuses, naming the key: an architecture other than
// LlamaForCausalLM, attention or MLP biases, RoPE scaling, an explicit head_dim other than
// hidden/heads, an activation other than silu, and what check_llama_hyperparameters refuses.
LlamaHyperparameters parse_hf_llama_config(std::string_view config_json, const std::string& source);

// The whole checkpoint. Throws precis::Error naming the file and the defect: a missing or foreign
// config, missing/duplicate/extra tensors, wrong shapes, other dtypes, damaged safetensors files.
ImportedLlama import_hf_llama(const std::filesystem::path& dir);

// The same from parts already read: config.json's text and the weight files (the fuzzer's entry,
// tests/io/fuzz). `source` prefixes the errors and is recorded as the provenance's source.
ImportedLlama import_hf_llama(std::string_view config_json, std::span<const SafetensorsFile> shards,
                              const std::string& source);

}  // namespace precis::io
