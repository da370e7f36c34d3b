#include "precis/data/unigram.hpp"

#include <cmath>

#include "precis/core/error.hpp"

namespace precis::data {

std::vector<std::uint64_t> count_tokens(std::span<const std::uint16_t> tokens, int vocab_size) {
  std::vector<std::uint64_t> counts(static_cast<std::size_t>(vocab_size), 0);
  for (std::uint16_t t : tokens) {
    require(t < vocab_size, "token id {} is not below the vocabulary size {}", t, vocab_size);
    ++counts[t];
  }
  return counts;
}

double unigram_entropy_nats(std::span<const std::uint64_t> counts) {
  std::uint64_t total = 0;
  for (auto c : counts) total += c;
  if (total == 0) return 0.0;
  // H = log N - (1/N) sum c log c: one log per distinct id, exact for integer counts.
  double sum = 0.0;
  for (auto c : counts) {
    if (c > 0) sum += static_cast<double>(c) * std::log(static_cast<double>(c));
  }
  return std::log(static_cast<double>(total)) - sum / static_cast<double>(total);
}

}  // namespace precis::data
