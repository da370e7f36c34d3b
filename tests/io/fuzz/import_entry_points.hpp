// What the import fuzzers run on one input, shared by the libFuzzer targets (gguf_import_fuzz.cpp,
// hf_import_fuzz.cpp) and the ordinary build's replay of what they found
// (tests/io/import_fuzz_regression_test.cpp), so that a kept input meets the very same code.
//
// Each function either returns or throws precis::Error. Anything else is a bug: a sanitizer
// report, a crash, another exception type (std::logic_error marks a broken invariant below), or
// an allocation past libFuzzer's -malloc_limit_mb.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "precis/core/error.hpp"
#include "precis/data/gguf_tokenizer.hpp"
#include "precis/io/gguf_file.hpp"
#include "precis/io/gguf_import.hpp"
#include "precis/io/hf_import.hpp"
#include "precis/io/safetensors.hpp"

namespace precis::fuzz {

inline void expect(bool ok, const char* what) {
  if (!ok) throw std::logic_error(what);
}

// The importers' promise: exactly the expected tensors, each with as many values as its shape.
inline void check_imported(const io::ImportedLlama& m) {
  const auto expected = io::expected_llama_tensors(m.hp);
  expect(m.tensors.size() == expected.size(), "imported tensor count differs from the expected");
  for (std::size_t i = 0; i < expected.size(); ++i) {
    expect(m.tensors[i].name == expected[i].name && m.tensors[i].shape == expected[i].shape,
           "imported tensor differs from the expected one");
    std::size_t n = 1;
    for (std::int64_t d : expected[i].shape) n *= static_cast<std::size_t>(d);
    expect(m.tensors[i].values.size() == n, "imported tensor has the wrong number of values");
  }
}

// `precis import FILE.gguf` minus writing (metadata -> hyperparameters, tensor names, shapes and
// types, dequantization, q/k un-permute), then the GGUF tokenizer data builds from the same
// metadata, encoding a fixed text. The two are independent: a file whose weights are refused may
// still carry a usable tokenizer, so both always run.
// Returns whether the model imported (the tokenizer's refusal is thrown).
inline bool import_gguf_bytes(std::span<const std::byte> bytes) {
  const io::GgufFile file = io::GgufFile::parse(bytes, "fuzz.gguf");
  bool imported = false;
  try {
    check_imported(io::import_gguf_llama(file));
    imported = true;
  } catch (const Error&) {
  }
  // Mixed scripts, digits, whitespace runs, a contraction and an invalid UTF-8 byte: every branch
  // of the pre-tokenizers and the byte fallback.
  constexpr std::string_view kText = "Hello  world's 12345 \xC3\xA9t\xC3\xA9\n\t\xE4\xB8\xAD\xFF!";
  const auto tokenizer = data::make_gguf_tokenizer(file, "fuzz");
  std::vector<std::uint16_t> ids;
  tokenizer->encode(kText, ids);
  for (std::uint16_t id : ids) expect(id < tokenizer->vocab_size(), "token id outside the vocab");
  return imported;
}

// `precis import DIR` minus the file system: the input is config.json's text, a NUL byte, and one
// safetensors file (JSON never holds a raw NUL). Without a NUL only the config is parsed (and
// false returned); otherwise true once the model imported.
inline bool import_hf_bytes(std::span<const std::byte> bytes) {
  const auto* text = reinterpret_cast<const char*>(bytes.data());
  const std::string_view all(text, bytes.size());
  const std::size_t nul = all.find('\0');
  if (nul == std::string_view::npos) {
    io::parse_hf_llama_config(all, "fuzz");
    return false;
  }
  const io::SafetensorsFile weights =
      io::SafetensorsFile::parse(bytes.subspan(nul + 1), "fuzz/model.safetensors");
  check_imported(io::import_hf_llama(all.substr(0, nul), std::span(&weights, 1), "fuzz"));
  return true;
}

}  // namespace precis::fuzz
