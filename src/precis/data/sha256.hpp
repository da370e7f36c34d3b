// SHA-256 (through OpenSSL's libcrypto) for the checksums recorded with every dataset: the
// extracted corpus text, the recipe, and the tokenizer model.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace precis::data {

// Incremental hashing: feed bytes in any pieces, read the lowercase hex digest once.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(std::string_view bytes);
  void update(const void* data, std::size_t bytes);
  std::string hex_digest();  // finishes the hash; further updates are an error

 private:
  struct State;
  std::unique_ptr<State> state_;
};

std::string sha256_hex(std::string_view bytes);

}  // namespace precis::data
