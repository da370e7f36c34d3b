#include "precis/ptq/quantized_file.hpp"

#include <nlohmann/json.hpp>
#include <regex>
#include <vector>

#include "precis/core/aligned_buffer.hpp"
#include "precis/core/error.hpp"
#include "precis/formats/format.hpp"
#include "precis/ptq/rtn.hpp"

namespace precis::ptq {
namespace {

constexpr const char* kQuantizedKey = "precis.quantized";
constexpr const char* kPtqKey = "precis.ptq";

}  // namespace

std::map<std::string, QuantizedTensor> quantized_tensors(const io::SafetensorsFile& file) {
  std::map<std::string, QuantizedTensor> out;
  const auto it = file.metadata().find(kQuantizedKey);
  if (it == file.metadata().end()) return out;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(it->second);
  } catch (const nlohmann::json::exception& e) {
    fail("{}: metadata '{}' is not valid JSON ({}); the file is damaged", file.source(),
         kQuantizedKey, e.what());
  }
  require(j.is_object(), "{}: metadata '{}' must be a JSON object", file.source(), kQuantizedKey);
  for (const auto& [name, entry] : j.items()) {
    const bool shaped =
        entry.is_object() && entry.contains("format") && entry["format"].is_string() &&
        entry.contains("shape") && entry["shape"].is_array() && entry["shape"].size() == 2 &&
        entry["shape"][0].is_number_integer() && entry["shape"][1].is_number_integer();
    require(shaped, "{}: quantized tensor '{}' needs {{\"format\": spec, \"shape\": [rows, cols]}}",
            file.source(), name);
    QuantizedTensor q;
    q.spec = formats::parse_format(entry["format"].get<std::string>());
    q.rows = entry["shape"][0].get<std::int64_t>();
    q.cols = entry["shape"][1].get<std::int64_t>();
    require(q.rows > 0 && q.cols > 0, "{}: quantized tensor '{}' has shape {}×{}", file.source(),
            name, q.rows, q.cols);
    const auto& t = file.get(name);
    const std::size_t expected = formats::make_format(q.spec)->packed_bytes(q.rows, q.cols);
    require(t.dtype == io::Dtype::U8 && t.data.size() == expected,
            "{}: quantized tensor '{}' holds {} bytes of {}, but {} of a {}×{} tensor takes {} "
            "bytes of U8; the file is damaged",
            file.source(), name, t.data.size(), io::to_string(t.dtype), q.spec.canonical(), q.rows,
            q.cols, expected);
    out.emplace(name, q);
  }
  return out;
}

std::int64_t dequantized_numel(const io::SafetensorsFile& file, std::string_view name) {
  const auto q = quantized_tensors(file);
  const auto it = q.find(std::string(name));
  if (it != q.end()) return it->second.rows * it->second.cols;
  return file.get(name).numel();
}

void dequantize_tensor(const io::SafetensorsFile& file, std::string_view name,
                       std::span<float> out) {
  const auto q = quantized_tensors(file);
  const auto it = q.find(std::string(name));
  if (it == q.end()) {
    io::copy_to_f32(file.get(name), out);
    return;
  }
  const QuantizedTensor& t = it->second;
  require(static_cast<std::int64_t>(out.size()) == t.rows * t.cols,
          "dequantizing '{}': output holds {} floats, the tensor {}", name, out.size(),
          t.rows * t.cols);
  // The mapping gives no alignment; packed blocks hold 16- and 32-bit fields.
  const auto& data = file.get(name).data;
  AlignedBuffer<std::byte> packed(data.size());
  std::copy(data.begin(), data.end(), packed.begin());
  formats::make_format(t.spec)->dequantize(packed.data(), t.rows, t.cols, out.data());
}

bool is_quantized_weight(std::string_view name, bool include_head) {
  static const std::regex linear(R"(model\.layers\.\d+\.(self_attn|mlp)\.\w+_proj\.weight)");
  if (include_head && name == "lm_head.weight") return true;
  return std::regex_match(name.begin(), name.end(), linear);
}

int rtn_quantize_checkpoint(const std::filesystem::path& in, const std::filesystem::path& out,
                            const RtnCheckpointOptions& options) {
  const auto file = io::SafetensorsFile::open(in);
  require(quantized_tensors(file).empty(),
          "{} is already quantized; quantize the unquantized checkpoint instead", in.string());
  io::SafetensorsWriter writer;
  std::vector<std::vector<std::byte>> packed;  // kept alive until write()
  std::vector<AlignedBuffer<float>> floats;
  packed.reserve(file.tensors().size());
  floats.reserve(file.tensors().size());
  nlohmann::json declared = nlohmann::json::object();
  int count = 0;
  for (const auto& t : file.tensors()) {
    if (t.name.starts_with("optimizer.")) continue;
    if (!is_quantized_weight(t.name, options.include_head)) {
      writer.add(t.name, t.dtype, t.shape, t.data);
      continue;
    }
    require(t.shape.size() == 2, "{}: '{}' is a linear weight but has {} dimensions", in.string(),
            t.name, t.shape.size());
    const std::int64_t rows = t.shape[0], cols = t.shape[1];
    AlignedBuffer<float> w(static_cast<std::size_t>(rows * cols));
    io::copy_to_f32(t, w.span());
    formats::FormatSpec spec;
    try {
      spec = weight_spec(options.spec, rows, cols);
      packed.push_back(rtn_pack(w.data(), rows, cols, spec));
    } catch (const Error& e) {
      fail("{}: tensor '{}' ({}×{}): {}", in.string(), t.name, rows, cols, e.what());
    }
    writer.add(t.name, io::Dtype::U8, {static_cast<std::int64_t>(packed.back().size())},
               packed.back());
    declared[t.name] = {{"format", spec.canonical()}, {"shape", {rows, cols}}};
    ++count;
  }
  for (const auto& [key, value] : file.metadata()) writer.set_metadata(key, value);
  writer.set_metadata("format", "pt");
  writer.set_metadata(kQuantizedKey, declared.dump());
  writer.set_metadata(kPtqKey, nlohmann::json{{"method", "rtn"},
                                              {"format", options.spec.canonical()},
                                              {"include_head", options.include_head}}
                                   .dump());
  writer.write(out);
  return count;
}

}  // namespace precis::ptq
