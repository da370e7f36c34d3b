// Quantized checkpoints: a safetensors file in which each quantized weight is stored as its
// Format's packed bytes (dtype U8, shape [bytes]), so the file's size reflects the true bits per
// weight; every other tensor (embedding, norms, and the head unless asked) stays F32, and a
// training checkpoint's optimizer state is dropped. Metadata:
//   "precis.quantized"  JSON {tensor name: {"format": canonical spec, "shape": [rows, cols]}}
//   "precis.ptq"        JSON record of how it was made (method, format, options)
// and the source's own metadata (config, policy, ...) copied through, so a reader can dequantize
// one layer at a time (dequantize_tensor) without an fp32 copy of the whole model.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <string_view>

#include "precis/formats/spec.hpp"
#include "precis/io/safetensors.hpp"

namespace precis::ptq {

struct QuantizedTensor {
  formats::FormatSpec spec;
  std::int64_t rows = 0;
  std::int64_t cols = 0;
};

// The quantized tensors a file declares, each checked against its stored byte count; an empty
// map for an unquantized checkpoint. Throws precis::Error for malformed or inconsistent metadata.
std::map<std::string, QuantizedTensor> quantized_tensors(const io::SafetensorsFile& file);

// Elements of a tensor once dequantized (rows · cols for quantized ones, numel otherwise).
std::int64_t dequantized_numel(const io::SafetensorsFile& file, std::string_view name);

// One tensor as fp32 (out.size() == dequantized_numel): Format::dequantize of its packed bytes for
// a quantized tensor, a conversion for F32/F16/BF16 ones.
void dequantize_tensor(const io::SafetensorsFile& file, std::string_view name,
                       std::span<float> out);

// True for the weights PTQ quantizes: the linear layers of the Transformer blocks (HF names
// "model.layers.N.*_proj.weight"), and the output head when include_head.
bool is_quantized_weight(std::string_view name, bool include_head);

struct RtnCheckpointOptions {
  formats::FormatSpec spec;
  bool include_head = false;
};

// Round-to-nearest of every linear weight of a checkpoint into `out`, written atomically (nothing
// is written when any tensor does not fit the format). Returns the number of tensors quantized.
int rtn_quantize_checkpoint(const std::filesystem::path& in, const std::filesystem::path& out,
                            const RtnCheckpointOptions& options);

}  // namespace precis::ptq
