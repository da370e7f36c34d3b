#include "precis/data/build.hpp"

#include <exception>
#include <mutex>

#include "precis/core/atomic_file.hpp"
#include "precis/core/error.hpp"
#include "precis/core/threads.hpp"
#include "precis/core/timer.hpp"
#include "precis/data/corpus.hpp"
#include "precis/data/dataset.hpp"
#include "precis/data/shard.hpp"
#include "precis/data/unigram.hpp"

namespace precis::data {
namespace fs = std::filesystem;
namespace {

struct SplitTokens {
  std::vector<std::uint16_t> tokens;
  std::int64_t documents = 0;
  std::int64_t bytes = 0;  // document bytes + one per document for its end-of-document token
};

void begin(const BuildObserver& o, const std::string& phase, const std::string& unit) {
  if (o.begin) o.begin(phase, unit);
}

// Lines of every k-th training document, k chosen so that about `budget` bytes remain.
std::vector<std::string_view> sentencepiece_lines(const Corpus& corpus, std::int64_t budget) {
  std::int64_t train_bytes = 0;
  for (std::size_t i = 0; i < corpus.documents.size(); ++i) {
    if (!corpus.is_validation(i))
      train_bytes += static_cast<std::int64_t>(corpus.documents[i].text.size());
  }
  std::int64_t stride =
      std::max<std::int64_t>(1, (train_bytes + budget - 1) / std::max<std::int64_t>(budget, 1));
  std::vector<std::string_view> lines;
  std::int64_t k = 0;
  for (std::size_t i = 0; i < corpus.documents.size(); ++i) {
    if (corpus.is_validation(i)) continue;
    if (k++ % stride != 0) continue;
    std::string_view text = corpus.documents[i].text;
    std::size_t start = 0;
    while (start < text.size()) {
      std::size_t nl = text.find('\n', start);
      if (nl == std::string_view::npos) nl = text.size();
      lines.push_back(text.substr(start, nl - start));
      start = nl + 1;
    }
  }
  return lines;
}

// Encodes every document of one split, in blocks on `threads` threads; the result does not
// depend on the thread count (blocks are fixed and concatenated in order).
SplitTokens encode_split(const Corpus& corpus, bool validation, const Tokenizer& tok, int threads,
                         const BuildObserver& observer, std::int64_t& bytes_done,
                         std::int64_t bytes_total) {
  std::vector<std::size_t> docs;
  SplitTokens out;
  for (std::size_t i = 0; i < corpus.documents.size(); ++i) {
    if (corpus.is_validation(i) != validation) continue;
    docs.push_back(i);
    out.bytes += static_cast<std::int64_t>(corpus.documents[i].text.size()) + 1;
  }
  out.documents = static_cast<std::int64_t>(docs.size());
  constexpr std::size_t kBlockDocs = 64;
  const std::size_t blocks = (docs.size() + kBlockDocs - 1) / kBlockDocs;
  std::vector<std::vector<std::uint16_t>> encoded(blocks);
  std::vector<std::exception_ptr> errors(blocks);
  std::mutex progress_mutex;
  parallel_for(0, static_cast<std::int64_t>(blocks), threads, [&](std::int64_t b) {
    std::int64_t block_bytes = 0;
    try {
      for (std::size_t j = b * kBlockDocs; j < std::min(docs.size(), (b + 1) * kBlockDocs); ++j) {
        const std::string& text = corpus.documents[docs[j]].text;
        tok.encode(text, encoded[b]);
        encoded[b].push_back(static_cast<std::uint16_t>(tok.eot_id()));
        block_bytes += static_cast<std::int64_t>(text.size()) + 1;
      }
    } catch (...) {
      errors[b] = std::current_exception();
    }
    std::lock_guard lock(progress_mutex);
    bytes_done += block_bytes;
    if (observer.progress) observer.progress(bytes_done, bytes_total, validation ? "val" : "train");
  });
  for (auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
  std::size_t total = 0;
  for (const auto& e : encoded) total += e.size();
  out.tokens.reserve(total);
  for (auto& e : encoded) {
    out.tokens.insert(out.tokens.end(), e.begin(), e.end());
    std::vector<std::uint16_t>().swap(e);
  }
  return out;
}

nlohmann::json write_split(const fs::path& dir, const char* name, const SplitTokens& split,
                           const ShardInfo& info, std::int64_t shard_tokens) {
  nlohmann::json shards = nlohmann::json::array();
  const auto n = static_cast<std::int64_t>(split.tokens.size());
  for (std::int64_t start = 0, k = 0; start < n || k == 0; start += shard_tokens, ++k) {
    std::int64_t count = std::min(shard_tokens, n - start);
    std::string file = fmt::format("{}_{:06}.bin", name, k);
    write_shard(dir / file, std::span(split.tokens).subspan(start, count), info);
    shards.push_back({{"file", file}, {"tokens", count}});
  }
  return {
      {"documents", split.documents}, {"bytes", split.bytes}, {"tokens", n}, {"shards", shards}};
}

// Whether `out` already holds the dataset these options would build.
bool up_to_date(const fs::path& out, const Recipe& recipe, const BuildOptions& o) {
  if (!fs::exists(out / kManifestFile)) return false;
  try {
    auto m = read_manifest(out);
    return m["recipe"]["sha256"] == recipe.sha256 && m["tokenizer"]["name"] == o.tokenizer.text() &&
           m["build"]["seed"] == o.seed && m["build"]["shard_tokens"] == o.shard_tokens &&
           m["build"]["sp_train_bytes"] == o.sp_train_bytes;
  } catch (const Error&) {
    return false;
  }
}

void remove_quietly(const fs::path& p) {
  std::error_code ec;
  fs::remove_all(p, ec);
}

}  // namespace

BuildResult build_dataset(const BuildOptions& o, const BuildObserver& observer) {
  Stopwatch clock;
  require(!o.out.empty(), "give the dataset folder with --out DIR");
  require(o.shard_tokens > 0, "shard size must be positive");
  Recipe recipe = load_recipe(o.recipe);
  fs::path out = o.out.lexically_normal();
  if (out.filename().empty()) out = out.parent_path();
  if (fs::exists(out)) {
    require(fs::is_directory(out), "--out {} is a file, not a folder: choose another --out",
            out.string());
    bool empty = fs::is_empty(out);
    require(empty || fs::exists(out / kManifestFile),
            "--out {} exists and is not a precis dataset; refusing to replace it: choose another "
            "--out or remove that folder",
            out.string());
  }
  if (!o.force && up_to_date(out, recipe, o)) return {read_manifest(out), true};

  fs::path stage = out;
  stage += ".partial";
  remove_quietly(stage);  // what an interrupted build left
  fs::create_directories(stage);

  begin(observer, "extract", "src");
  Corpus corpus = build_corpus(recipe, o.threads, observer.progress);

  std::unique_ptr<Tokenizer> tok;
  nlohmann::json training = nullptr;
  if (o.tokenizer.kind == TokenizerChoice::Kind::Bytes) {
    tok = make_byte_tokenizer();
  } else if (o.tokenizer.kind == TokenizerChoice::Kind::Gguf) {
    tok = load_gguf_tokenizer(o.tokenizer.gguf);
    tok->save(stage);
  } else {
    begin(observer, "train tokenizer", "step");
    if (observer.progress)
      observer.progress(0, 1, fmt::format("SentencePiece BPE {}", o.tokenizer.vocab));
    auto lines = sentencepiece_lines(corpus, o.sp_train_bytes);
    std::int64_t text_bytes = 0;
    for (auto l : lines) text_bytes += static_cast<std::int64_t>(l.size()) + 1;
    tok = train_sentencepiece(lines, {o.tokenizer.vocab, o.seed, o.threads});
    require(tok->vocab_size() == o.tokenizer.vocab,
            "SentencePiece made a vocabulary of {} instead of {}", tok->vocab_size(),
            o.tokenizer.vocab);
    if (observer.progress) observer.progress(1, 1, "done");
    training = {{"model_type", "bpe"},
                {"seed", o.seed},
                {"text_bytes", text_bytes},
                {"lines", lines.size()}};
    tok->save(stage);
  }
  nlohmann::json tok_meta = tok->metadata();
  ShardInfo info{tok->vocab_size(), tok->eot_id(), tokenizer_id(tok_meta)};

  begin(observer, "encode", "B");
  std::int64_t bytes_total = corpus.bytes + static_cast<std::int64_t>(corpus.documents.size());
  std::int64_t bytes_done = 0;
  SplitTokens train =
      encode_split(corpus, false, *tok, o.threads, observer, bytes_done, bytes_total);
  SplitTokens val = encode_split(corpus, true, *tok, o.threads, observer, bytes_done, bytes_total);
  require(!train.tokens.empty() && !val.tokens.empty(),
          "recipe '{}' gives {} training and {} validation documents: both splits need text (use "
          "more sources or a smaller validation_every)",
          recipe.name, train.documents, val.documents);

  begin(observer, "write", "shard");
  auto train_counts = count_tokens(train.tokens, tok->vocab_size());
  auto val_counts = count_tokens(val.tokens, tok->vocab_size());
  nlohmann::json splits = {{"train", write_split(stage, "train", train, info, o.shard_tokens)},
                           {"val", write_split(stage, "val", val, info, o.shard_tokens)}};

  nlohmann::json sources = nlohmann::json::array();
  for (const auto& s : corpus.sources) {
    sources.push_back({{"name", s.name},
                       {"package", s.package},
                       {"documents", s.documents},
                       {"bytes", s.bytes},
                       {"duplicates_dropped", s.duplicates_dropped}});
  }
  tok_meta["id"] = info.tokenizer_id;
  tok_meta["training"] = training;
  auto ratio = [](const SplitTokens& s) {
    return static_cast<double>(s.bytes) / static_cast<double>(s.tokens.size());
  };
  nlohmann::json manifest = {
      {"format", kManifestFormat},
      {"version", kManifestVersion},
      {"created_by", o.created_by},
      {"recipe", {{"name", recipe.name}, {"sha256", recipe.sha256}, {"text", recipe.text}}},
      {"corpus",
       {{"sha256", corpus.sha256},
        {"checksum_rule", "sha256 of every document's text in corpus order, each followed by NUL"},
        {"documents", corpus.documents.size()},
        {"bytes", corpus.bytes},
        {"sources", sources}}},
      {"validation",
       {{"every", recipe.validation_every},
        {"rule", fmt::format("document i (0-based, after de-duplication) is validation iff i % {} "
                             "== {}",
                             recipe.validation_every, recipe.validation_every - 1)}}},
      {"tokenizer", tok_meta},
      {"splits", splits},
      {"bytes_per_token", {{"train", ratio(train)}, {"val", ratio(val)}}},
      {"unigram_entropy_nats", unigram_entropy_nats(train_counts)},
      {"val_unigram_entropy_nats", unigram_entropy_nats(val_counts)},
      {"build",
       {{"seed", o.seed},
        {"threads", o.threads},
        {"shard_tokens", o.shard_tokens},
        {"sp_train_bytes", o.sp_train_bytes},
        {"seconds", clock.seconds()}}},
  };
  // The manifest is written last: a folder without one is not a dataset.
  write_file_atomically(stage / kManifestFile, manifest.dump(2) + "\n");
  if (observer.progress) observer.progress(1, 1, "manifest");

  fs::path old = out;
  old += ".old";
  remove_quietly(old);
  if (fs::exists(out)) fs::rename(out, old);
  fs::rename(stage, out);
  remove_quietly(old);
  return {manifest, false};
}

}  // namespace precis::data
