// format_tool: drives one format from Python oracle tests over raw little-endian files.
//   format_tool SPEC ROWS COLS IN.f32 FAKE.f32 PACKED.bin DEQ.f32 [reference|avx2|avx512|best]
// Reads ROWS·COLS float32 values, writes fake_quant's output, the packed storage and the
// dequantized packed storage. Exits non-zero with a message on any error.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "precis/core/error.hpp"
#include "precis/formats/format.hpp"

namespace {

template <typename T>
std::vector<T> read_file(const std::string& path, std::size_t count) {
  std::ifstream in(path, std::ios::binary);
  precis::require(static_cast<bool>(in), "cannot open {}", path);
  std::vector<T> v(count);
  in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(count * sizeof(T)));
  precis::require(in.gcount() == static_cast<std::streamsize>(count * sizeof(T)),
                  "{} holds fewer than {} values", path, count);
  return v;
}

void write_file(const std::string& path, const void* data, std::size_t bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(bytes));
  precis::require(static_cast<bool>(out), "cannot write {}", path);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 8 || argc > 9) {
    std::fprintf(stderr,
                 "usage: format_tool SPEC ROWS COLS IN.f32 FAKE.f32 PACKED.bin DEQ.f32 [isa]\n");
    return 2;
  }
  try {
    precis::Isa isa = precis::best_isa();
    if (argc == 9) {
      std::string s = argv[8];
      isa = s == "reference" ? precis::Isa::Reference
            : s == "avx2"    ? precis::Isa::Avx2
            : s == "avx512"  ? precis::Isa::Avx512
                             : precis::best_isa();
    }
    auto spec = precis::formats::parse_format(argv[1]);
    std::int64_t rows = std::stoll(argv[2]), cols = std::stoll(argv[3]);
    auto f = precis::formats::make_format(spec, isa);
    f->check_shape(rows, cols);
    auto x = read_file<float>(argv[4], static_cast<std::size_t>(rows * cols));
    std::vector<float> fake = x;
    f->fake_quant(fake.data(), rows, cols);
    write_file(argv[5], fake.data(), fake.size() * 4);
    std::vector<std::byte> packed(f->packed_bytes(rows, cols));
    f->quantize(x.data(), rows, cols, packed.data());
    write_file(argv[6], packed.data(), packed.size());
    std::vector<float> deq(x.size());
    f->dequantize(packed.data(), rows, cols, deq.data());
    write_file(argv[7], deq.data(), deq.size() * 4);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "format_tool: %s\n", e.what());
    return 1;
  }
  return 0;
}
