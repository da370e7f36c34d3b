// Order-0 (unigram) statistics of a token stream: the entropy a model that ignores context can
// reach, which a trained model's validation loss should beat by a wide margin.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace precis::data {

// Occurrences of each id in [0, vocab_size); ids >= vocab_size are an error.
std::vector<std::uint64_t> count_tokens(std::span<const std::uint16_t> tokens, int vocab_size);

// -sum p log p over the ids that occur, in nats per token (0 for an empty count).
double unigram_entropy_nats(std::span<const std::uint64_t> counts);

}  // namespace precis::data
