// Drives precis's GGUF tokenizers for the Python oracle test (tests/data/test_gguf_tokenizer.py):
//   gguf_tokenize_tool GGUF IN.json OUT.json [SAVE_DIR]
// IN is a JSON array of hex-encoded byte strings (so that any bytes pass, valid UTF-8 or not).
// OUT holds, per string, the ids precis encodes it to and the hex of decode(ids); with SAVE_DIR the
// tokenizer is first saved there and loaded back the way a dataset loads it, and that copy
// encodes. "seconds" is the CPU time of all encode calls after a warm-up call that builds the
// Unicode class table (for a MB/s figure on a shared machine; never asserted).
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "precis/core/atomic_file.hpp"
#include "precis/core/error.hpp"
#include "precis/data/tokenizer.hpp"

namespace {

std::string from_hex(const std::string& hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  }
  return out;
}

std::string to_hex(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes) out += fmt::format("{:02x}", c);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace precis;
  try {
    require(argc == 4 || argc == 5, "usage: gguf_tokenize_tool GGUF IN.json OUT.json [SAVE_DIR]");
    std::unique_ptr<data::Tokenizer> tok = data::load_gguf_tokenizer(argv[1]);
    if (argc == 5) {
      tok->save(argv[4]);
      tok = data::load_tokenizer(tok->metadata(), argv[4]);
    }
    std::vector<std::uint16_t> warm_up;
    tok->encode("warm up", warm_up);
    auto in = nlohmann::json::parse(read_file(argv[2]));
    nlohmann::json ids = nlohmann::json::array(), decoded = nlohmann::json::array();
    double seconds = 0;
    std::size_t bytes = 0;
    for (const auto& h : in) {
      std::string text = from_hex(h.get<std::string>());
      std::vector<std::uint16_t> out;
      std::clock_t t0 = std::clock();
      tok->encode(text, out);
      seconds += static_cast<double>(std::clock() - t0) / CLOCKS_PER_SEC;
      bytes += text.size();
      ids.push_back(out);
      decoded.push_back(to_hex(tok->decode(out)));
    }
    nlohmann::json result = {{"ids", ids},
                             {"decoded", decoded},
                             {"seconds", seconds},
                             {"bytes", bytes},
                             {"metadata", tok->metadata()}};
    write_file_atomically(argv[3], result.dump());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gguf_tokenize_tool: %s\n", e.what());
    return 1;
  }
}
