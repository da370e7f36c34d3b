// Prints nothing, computes logits: loads any precis model file (trained, imported or quantized)
// the way `precis eval` does and runs one forward on given token ids, for the oracle tests that
// compare precis's logits with transformers' and llama.cpp's.
//
//   logits_tool MODEL.safetensors IDS.i32 B T OUT.f32 [THREADS] [exact|llama.cpp] [f32|f16]
//
// The optional arithmetic is `precis eval --arith`'s, the last argument its --kv-cache.
// IDS: B·T little-endian int32 token ids, row-major. OUT: B·T·vocab fp32 logits, row-major.
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "precis/core/error.hpp"
#include "precis/eval/llama_cpp_arithmetic.hpp"
#include "precis/eval/model_file.hpp"

using namespace precis;

int main(int argc, char** argv) {
  try {
    require(argc >= 6 && argc <= 9,
            "usage: logits_tool MODEL IDS.i32 B T OUT.f32 [THREADS] [exact|llama.cpp] [f32|f16]");
    const int B = std::stoi(argv[3]), T = std::stoi(argv[4]);
    const int threads = argc >= 7 ? std::stoi(argv[6]) : 1;
    const std::string arith = argc >= 8 ? argv[7] : "exact";
    require(arith == "exact" || arith == "llama.cpp", "arithmetic: exact or llama.cpp");
    require(B > 0 && T > 0, "B and T must be positive");
    std::vector<std::int32_t> ids(static_cast<std::size_t>(B) * T);
    std::ifstream in(argv[2], std::ios::binary);
    in.read(reinterpret_cast<char*>(ids.data()), static_cast<std::streamsize>(ids.size() * 4));
    require(in.gcount() == static_cast<std::streamsize>(ids.size() * 4),
            "{} holds fewer than {} ids", argv[2], ids.size());
    eval::LoadedModel m = arith == "exact" ? eval::load_model_file(argv[1], B, threads)
                                           : eval::load_with_llama_cpp_arithmetic(
                                                 argv[1], B, threads, 0,
                                                 eval::parse_kv_cache(argc == 9 ? argv[8] : "f32"));
    m.model->forward(ids.data(), nullptr, B, T);
    const auto logits = m.model->logits();
    std::ofstream out(argv[5], std::ios::binary);
    out.write(reinterpret_cast<const char*>(logits.data()),
              static_cast<std::streamsize>(logits.size() * sizeof(float)));
    require(out.good(), "cannot write {}", argv[5]);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "logits_tool: %s\n", e.what());
    return 1;
  }
}
