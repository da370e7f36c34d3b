// Drives the safetensors reader and writer for the Python interop test (test_safetensors.py).
//   safetensors_tool write OUT   writes one tensor of every dtype precis supports, with metadata
//   safetensors_tool dump IN     prints every tensor (dtype, shape, bytes as hex) and the metadata
//                                as JSON, in the reader's order
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "precis/core/error.hpp"
#include "precis/io/safetensors.hpp"

namespace {

using precis::io::Dtype;

// Deterministic, dtype-agnostic contents: byte i of a tensor is a hash of (tensor index, i), so
// every bit pattern class (NaN payloads, negative ints, subnormals) turns up somewhere.
std::vector<std::byte> pattern(int tensor, std::size_t bytes) {
  std::vector<std::byte> out(bytes);
  std::uint32_t h = 2166136261u ^ static_cast<std::uint32_t>(tensor);
  for (std::size_t i = 0; i < bytes; ++i) {
    h = (h ^ static_cast<std::uint32_t>(i)) * 16777619u;
    out[i] = static_cast<std::byte>(h >> 13);
  }
  return out;
}

int write(const char* path) {
  const Dtype dtypes[] = {Dtype::F32, Dtype::F16, Dtype::BF16, Dtype::I8,  Dtype::U8,
                          Dtype::I16, Dtype::U16, Dtype::I32,  Dtype::I64, Dtype::U32};
  std::vector<std::vector<std::byte>> storage;
  precis::io::SafetensorsWriter w;
  int index = 0;
  for (Dtype d : dtypes) {
    std::vector<std::int64_t> shape = {index % 3 + 1, 5, 2};
    std::size_t bytes = static_cast<std::size_t>(shape[0] * 10) * precis::io::dtype_size(d);
    storage.push_back(pattern(index, bytes));
    w.add("model.layers." + std::to_string(index) + ".t_" + std::string(precis::io::to_string(d)),
          d, shape, storage.back());
    ++index;
  }
  w.add("empty", Dtype::F32, {0, 3}, {});
  w.set_metadata("format", "pt");
  w.set_metadata("precis.config", R"({"d_model": 64, "name": "ünïcode ✓"})");
  w.write(path);
  return 0;
}

int dump(const char* path) {
  auto file = precis::io::SafetensorsFile::open(path);
  nlohmann::json out;
  out["metadata"] = file.metadata();
  out["tensors"] = nlohmann::json::array();
  for (const auto& t : file.tensors()) {
    std::string hex;
    static const char* digits = "0123456789abcdef";
    for (std::byte b : t.data) {
      hex += digits[static_cast<int>(b) >> 4];
      hex += digits[static_cast<int>(b) & 15];
    }
    out["tensors"].push_back({{"name", t.name},
                              {"dtype", precis::io::to_string(t.dtype)},
                              {"shape", t.shape},
                              {"hex", hex}});
  }
  std::puts(out.dump().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc == 3 && std::string(argv[1]) == "write") return write(argv[2]);
    if (argc == 3 && std::string(argv[1]) == "dump") return dump(argv[2]);
    std::fprintf(stderr, "usage: safetensors_tool write OUT | dump IN\n");
    return 2;
  } catch (const precis::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
