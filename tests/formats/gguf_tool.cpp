// Drives the GGUF formats for the Python oracle tests (test_gguf_oracle.py):
//   gguf_tool quantize   TYPE ISA ROWS COLS in.f32 out.bin
//   gguf_tool dequantize TYPE ISA ROWS COLS in.bin out.f32
// TYPE is a ggml type name (q8_0, q4_K, mxfp4, ...); ISA is reference, avx2, avx512 or best.
// Raw little-endian files; the output is written only when the whole operation succeeded.
#include <strings.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "precis/core/error.hpp"
#include "precis/formats/gguf/gguf_format.hpp"
#include "precis/formats/gguf/type_info.hpp"

namespace {

using namespace precis;
using namespace precis::formats;

GgufType parse_type(const std::string& name) {
  for (const GgufTypeInfo& t : gguf_types()) {
    if (strcasecmp(t.name, name.c_str()) == 0) return t.type;
  }
  fail("unknown ggml type '{}'", name);
}

Isa parse_isa(const std::string& s) {
  if (s == "reference") return Isa::Reference;
  if (s == "avx2") return Isa::Avx2;
  if (s == "avx512") return Isa::Avx512;
  if (s == "best") return best_isa();
  fail("unknown isa '{}' (reference, avx2, avx512, best)", s);
}

std::vector<char> read_all(const std::string& path, std::size_t expect) {
  std::ifstream in(path, std::ios::binary);
  require(bool(in), "cannot open {}", path);
  std::vector<char> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  require(data.size() == expect, "{} holds {} bytes, expected {}", path, data.size(), expect);
  return data;
}

void write_all(const std::string& path, const void* data, std::size_t n) {
  std::ofstream out(path, std::ios::binary);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(n));
  require(bool(out), "cannot write {}", path);
}

int run(int argc, char** argv) {
  require(argc == 8, "usage: gguf_tool quantize|dequantize TYPE ISA ROWS COLS IN OUT");
  const std::string op = argv[1];
  FormatSpec spec;
  spec.family = Family::Gguf;
  spec.gguf_type = parse_type(argv[2]);
  const auto format = make_gguf_format(spec, parse_isa(argv[3]));
  const std::int64_t rows = std::stoll(argv[4]);
  const std::int64_t cols = std::stoll(argv[5]);
  const std::size_t n = static_cast<std::size_t>(rows * cols);
  const std::size_t packed_size = format->packed_bytes(rows, cols);
  if (op == "quantize") {
    const std::vector<char> raw = read_all(argv[6], n * 4);
    std::vector<float> x(n);
    std::memcpy(x.data(), raw.data(), raw.size());
    std::vector<std::byte> packed(packed_size);
    format->quantize(x.data(), rows, cols, packed.data());
    write_all(argv[7], packed.data(), packed.size());
  } else if (op == "dequantize") {
    // Copied into 8-byte-aligned storage: the blocks hold uint16 fields.
    const std::vector<char> raw = read_all(argv[6], packed_size);
    std::vector<std::uint64_t> packed((raw.size() + 7) / 8);
    std::memcpy(packed.data(), raw.data(), raw.size());
    std::vector<float> x(n);
    format->dequantize(reinterpret_cast<const std::byte*>(packed.data()), rows, cols, x.data());
    write_all(argv[7], x.data(), x.size() * 4);
  } else {
    fail("unknown operation '{}' (quantize, dequantize)", op);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gguf_tool: %s\n", e.what());
    return 1;
  }
}
