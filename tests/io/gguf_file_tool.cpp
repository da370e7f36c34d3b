// Drives the GGUF reader and writer for the Python oracle test (tests/io/test_gguf_file.py):
//   gguf_file_tool dump FILE                 JSON: header, metadata (typed), tensors with FNV-1a
//   checksums gguf_file_tool dequant FILE TENSOR OUT   the tensor dequantized by precis, raw
//   little-endian fp32 gguf_file_tool write-sample OUT [ALIGN]  a file with every metadata type and
//   tensors of every ggml
//                                       type (catalogue types quantized by formats/gguf from a
//                                       fixed signal, the others random bytes)
#include <cmath>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "precis/core/atomic_file.hpp"
#include "precis/core/error.hpp"
#include "precis/formats/gguf/gguf_format.hpp"
#include "precis/formats/gguf/type_info.hpp"
#include "precis/io/gguf_dequantize.hpp"
#include "precis/io/gguf_file.hpp"
#include "precis/io/gguf_tensor_type.hpp"
#include "precis/io/gguf_writer.hpp"

namespace {

using namespace precis;
using namespace precis::io;
using nlohmann::json;

std::string fnv1a(std::span<const std::byte> bytes) {
  std::uint64_t h = 1469598103934665603ull;
  for (std::byte b : bytes) {
    h ^= static_cast<std::uint8_t>(b);
    h *= 1099511628211ull;
  }
  return fmt::format("{:016x}", h);
}

template <typename T>
json element_json(const T& v) {
  if constexpr (std::is_same_v<T, GgufArray>) {
    return std::visit(
        [](const auto& elements) {
          json out = json::array();
          using E = typename std::decay_t<decltype(elements)>::value_type;
          for (const auto& e : elements) out.push_back(element_json(static_cast<E>(e)));
          return out;
        },
        v.elements());
  } else {
    return json(v);
  }
}

json value_json(const GgufValue& v) {
  json out = {{"type", to_string(v.type())}};
  out["value"] = std::visit([](const auto& x) { return element_json(x); }, v.variant());
  if (v.is_array()) out["element_type"] = to_string(v.array().element_type());
  return out;
}

int dump(const std::string& path) {
  GgufFile file = GgufFile::open(path);
  json out = {{"version", file.version()},
              {"alignment", file.alignment()},
              {"data_offset", file.data_offset()}};
  json metadata = json::array();
  for (const auto& kv : file.metadata()) {
    json entry = value_json(kv.value);
    entry["key"] = kv.key;
    metadata.push_back(entry);
  }
  out["metadata"] = metadata;
  json tensors = json::array();
  for (const auto& t : file.tensors()) {
    json entry = {{"name", t.name},
                  {"dims", t.dims},
                  {"type", static_cast<std::uint32_t>(t.type)},
                  {"type_name", ggml_type_name(t.type)},
                  {"offset", t.offset},
                  {"nbytes", t.data.size()},
                  {"fnv1a", fnv1a(t.data)},
                  {"dequantizable", gguf_can_dequantize(t)}};
    tensors.push_back(entry);
  }
  out["tensors"] = tensors;
  std::puts(out.dump(1, ' ', false, json::error_handler_t::replace).c_str());
  return 0;
}

int types() {
  json out = json::array();
  for (const GgmlTypeLayout& l : ggml_type_layouts()) {
    out.push_back(
        {{"id", l.id}, {"name", l.name}, {"block", l.block_size}, {"bytes", l.type_size}});
  }
  std::puts(out.dump().c_str());
  return 0;
}

int dequant(const std::string& path, const std::string& name, const std::string& out_path) {
  GgufFile file = GgufFile::open(path);
  const GgufTensorInfo& t = file.tensor(name);
  std::vector<float> values(t.numel());
  gguf_dequantize(t, values);
  write_file_atomically(
      out_path, {reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float)});
  return 0;
}

// The signal every catalogue tensor quantizes: smooth with outliers, different per tensor.
std::vector<float> signal(std::size_t n, std::uint32_t seed) {
  std::vector<float> x(n);
  for (std::size_t i = 0; i < n; ++i) {
    x[i] = std::sin(0.37f * static_cast<float>(i) + static_cast<float>(seed)) *
           (i % 61 == 0 ? 8.0f : 1.0f);
  }
  return x;
}

int write_sample(const std::string& out, std::uint32_t alignment) {
  GgufWriter w;
  if (alignment != kGgufDefaultAlignment) w.set_alignment(alignment);
  w.set("general.architecture", "llama");
  w.set("general.name", "precis sample");
  w.set("general.quantization_version", std::uint32_t{2});
  w.set("t.u8", std::uint8_t{200});
  w.set("t.i8", std::int8_t{-100});
  w.set("t.u16", std::uint16_t{60000});
  w.set("t.i16", std::int16_t{-30000});
  w.set("t.u32", std::uint32_t{4000000000u});
  w.set("t.i32", std::int32_t{-2000000000});
  w.set("t.f32", 0.1f);
  w.set("t.bool", true);
  w.set("t.string", "caf\xc3\xa9 \xe2\x96\x81token");
  w.set("t.u64", std::uint64_t{18000000000000000000ull});
  w.set("t.i64", std::int64_t{-9000000000000000000ll});
  w.set("t.f64", 1e-300);
  w.set("a.u8", std::vector<std::uint8_t>{0, 128, 255});
  w.set("a.i8", std::vector<std::int8_t>{-128, 0, 127});
  w.set("a.u16", std::vector<std::uint16_t>{0, 65535});
  w.set("a.i16", std::vector<std::int16_t>{-32768, 32767});
  w.set("a.u32", std::vector<std::uint32_t>{1, 2, 3});
  w.set("a.i32", std::vector<std::int32_t>{-1, -2, -3});
  w.set("a.f32", std::vector<float>{0.5f, -1.25f, 3e38f});
  w.set("a.bool", std::vector<bool>{true, false});
  w.set("a.string", std::vector<std::string>{"<s>", "", "\xe2\x96\x81the"});
  w.set("a.u64", std::vector<std::uint64_t>{0, 18446744073709551615ull});
  w.set("a.i64", std::vector<std::int64_t>{-9223372036854775807ll - 1});
  w.set("a.f64", std::vector<double>{2.718281828459045, -0.0});
  w.set("a.empty", std::vector<std::int32_t>{});
  w.set("a.nested", std::vector<GgufArray>{GgufArray(std::vector<std::int32_t>{1, 2}),
                                           GgufArray(std::vector<std::string>{"x", "yz"})});

  std::mt19937 rng(1234);
  std::vector<std::vector<std::byte>> payloads;
  payloads.reserve(64);
  for (const GgmlTypeLayout& layout : ggml_type_layouts()) {
    auto type = static_cast<formats::GgufType>(layout.id);
    std::vector<std::uint64_t> dims = {2ull * layout.block_size, 3};
    std::size_t n = dims[0] * dims[1];
    std::vector<std::byte> bytes(n / layout.block_size * layout.type_size);
    if (formats::find_gguf_type(layout.id) != nullptr) {
      formats::FormatSpec spec;
      spec.family = formats::Family::Gguf;
      spec.gguf_type = type;
      auto x = signal(n, layout.id);
      formats::make_gguf_format(spec)->quantize(x.data(), static_cast<std::int64_t>(dims[1]),
                                                static_cast<std::int64_t>(dims[0]), bytes.data());
    } else {
      for (auto& b : bytes) b = static_cast<std::byte>(rng());
    }
    payloads.push_back(std::move(bytes));
    w.add_tensor(fmt::format("t.{}", layout.name), dims, type, payloads.back());
  }
  w.write(out);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string cmd = argc > 1 ? argv[1] : "";
    if (cmd == "dump" && argc == 3) return dump(argv[2]);
    if (cmd == "types" && argc == 2) return types();
    if (cmd == "dequant" && argc == 5) return dequant(argv[2], argv[3], argv[4]);
    if (cmd == "write-sample" && (argc == 3 || argc == 4)) {
      return write_sample(argv[2],
                          argc == 4 ? static_cast<std::uint32_t>(std::stoul(argv[3])) : 32);
    }
    std::fputs(
        "usage: gguf_file_tool dump FILE | types | dequant FILE TENSOR OUT | write-sample OUT "
        "[ALIGN]\n",
        stderr);
    return 2;
  } catch (const precis::Error& e) {
    std::fprintf(stderr, "gguf_file_tool: error: %s\n", e.what());
    return 1;
  }
}
