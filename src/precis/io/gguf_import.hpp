// Reading a llama.cpp GGUF file of the llama architecture as a model in Hugging Face terms:
// hyperparameters from the llama.* keys, every tensor dequantized to fp32 (any type
// gguf_dequantize reads), renamed to HF names, and the q/k rows put back from ggml's interleaved
// RoPE layout into HF's rotate-half layout (llama_gguf.hpp). A file without output.weight ties
// the head to the token embedding, as llama.cpp does.
#pragma once

#include <filesystem>

#include "precis/io/gguf_file.hpp"
#include "precis/io/hf_import_model.hpp"

namespace precis::io {

// Refuses, naming the key or tensor: an architecture other than llama, experts (Mixtral-style
// files also say "llama"), RoPE scaling or frequency factors, a RoPE dimension or key/value length
// other than the head size, tensor types precis cannot dequantize, and every defect
// LlamaTensorSet finds.
LlamaHyperparameters gguf_llama_hyperparameters(const GgufFile& file);
ImportedLlama import_gguf_llama(const GgufFile& file);
ImportedLlama import_gguf_llama(const std::filesystem::path& path);

}  // namespace precis::io
