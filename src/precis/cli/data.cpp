// precis data build | info: corpora from Debian packages into token shards, and what a dataset
// or shard holds.
#include <fmt/format.h>
#include <unistd.h>

#include <cmath>
#include <memory>

#include "precis/cli/commands.hpp"
#include "precis/core/error.hpp"
#include "precis/core/progress.hpp"
#include "precis/core/threads.hpp"
#include "precis/data/build.hpp"
#include "precis/data/dataset.hpp"
#include "precis/data/shard.hpp"
#include "precis/data/unigram.hpp"

namespace precis::cli {
namespace {

struct DataBuildArgs {
  std::string recipe = "default";
  std::string tokenizer = "bytes";
  std::string out;
  std::string threads = "all";
  std::uint32_t seed = 1234;
  std::int64_t shard_tokens = std::int64_t{1} << 26;
  bool force = false;
};

std::string default_out(const std::string& recipe, const data::TokenizerChoice& tok) {
  std::string stem = std::filesystem::path(recipe).stem().string();
  std::string t = tok.kind == data::TokenizerChoice::Kind::Gguf
                      ? "gguf-" + tok.gguf.stem().string()  // the model's file name, not its path
                      : tok.text();
  std::erase(t, ':');
  return "datasets/" + stem + "-" + t;
}

void run_build(const DataBuildArgs& a) {
  data::BuildOptions o;
  o.recipe = a.recipe;
  o.tokenizer = data::parse_tokenizer_choice(a.tokenizer);
  o.out = a.out.empty() ? default_out(a.recipe, o.tokenizer) : a.out;
  o.threads = parse_thread_count(a.threads);
  o.seed = a.seed;
  o.shard_tokens = a.shard_tokens;
  o.force = a.force;
  o.created_by = fmt::format("precis {} ({})", PRECIS_VERSION, PRECIS_GIT);
  bool tty = isatty(fileno(stderr)) != 0;
  std::unique_ptr<ProgressBar> bar;
  data::BuildObserver observer;
  observer.begin = [&](const std::string& phase, const std::string& unit) {
    if (bar) bar->finish();
    bar = std::make_unique<ProgressBar>(stderr, phase, unit, tty);
  };
  observer.progress = [&](std::int64_t done, std::int64_t total, const std::string& detail) {
    if (bar) bar->update(done, total, detail);
  };
  auto result = data::build_dataset(o, observer);
  if (bar) bar->finish();
  const auto& m = result.manifest;
  if (result.up_to_date) {
    fmt::print("{} is up to date (recipe {} and tokenizer {} unchanged; --force rebuilds)\n",
               o.out.string(), m["recipe"]["name"].get<std::string>(), o.tokenizer.text());
    return;
  }
  fmt::print("built {}: {} documents, {:.1f} MB of text, corpus sha256 {}\n", o.out.string(),
             m["corpus"]["documents"].get<std::int64_t>(), m["corpus"]["bytes"].get<double>() / 1e6,
             m["corpus"]["sha256"].get<std::string>());
  fmt::print("train {} tokens, val {} tokens; unigram entropy {:.4f} nats/token; {:.1f}s\n",
             m["splits"]["train"]["tokens"].get<std::int64_t>(),
             m["splits"]["val"]["tokens"].get<std::int64_t>(),
             m["unigram_entropy_nats"].get<double>(), m["build"]["seconds"].get<double>());
}

void print_dataset(const std::filesystem::path& dir) {
  auto d = data::Dataset::open(dir);
  const auto& m = d.manifest();
  if (m.value("format", "") == "nanogpt") {
    fmt::print("{}: nanoGPT folder (headerless train.bin / val.bin)\n", dir.string());
  } else {
    fmt::print("dataset     {}\n", dir.string());
    fmt::print("recipe      {} (sha256 {})\n", m["recipe"]["name"].get<std::string>(),
               m["recipe"]["sha256"].get<std::string>());
    fmt::print("corpus      {} documents, {} bytes, sha256 {}\n",
               m["corpus"]["documents"].get<std::int64_t>(),
               m["corpus"]["bytes"].get<std::int64_t>(), m["corpus"]["sha256"].get<std::string>());
    for (const auto& s : m["corpus"]["sources"]) {
      fmt::print("  {:<14} {:>8} docs {:>12} bytes  (apt: {}; {} duplicates dropped)\n",
                 s["name"].get<std::string>(), s["documents"].get<std::int64_t>(),
                 s["bytes"].get<std::int64_t>(), s["package"].get<std::string>(),
                 s["duplicates_dropped"].get<std::int64_t>());
    }
    fmt::print("validation  {}\n", m["validation"]["rule"].get<std::string>());
    fmt::print("tokenizer   {} (vocab {}, end-of-document id {})\n",
               m["tokenizer"]["name"].get<std::string>(), d.vocab_size(), d.eot_id());
  }
  for (auto s : {data::Split::Train, data::Split::Val}) {
    const char* name = s == data::Split::Train ? "train" : "val";
    const auto& stream = d.split(s);
    fmt::print("{:<11} {} tokens in {} shard(s)", name, stream.size(), stream.shards().size());
    if (d.bytes_per_token(s) > 0) {
      fmt::print(", {} bytes of text, {:.4f} bytes/token",
                 m["splits"][name]["bytes"].get<std::int64_t>(), d.bytes_per_token(s));
    }
    fmt::print("\n");
  }
  fmt::print("unigram     {:.4f} nats/token ({:.4f} bits/byte) on the train split\n",
             d.unigram_entropy_nats(),
             d.bytes_per_token(data::Split::Train) > 0
                 ? d.unigram_entropy_nats() / std::log(2.0) / d.bytes_per_token(data::Split::Train)
                 : NAN);
}

void print_shard(const std::filesystem::path& path, bool raw) {
  auto shard =
      data::TokenShard::open(path, raw ? data::ShardFormat::Raw : data::ShardFormat::Header);
  const auto& info = shard.info();
  int vocab = info.vocab_size > 0 ? info.vocab_size : shard.max_id() + 1;
  if (info.vocab_size > 0) shard.check_ids(info.vocab_size);
  auto counts = data::count_tokens(shard.tokens(), vocab);
  fmt::print("shard       {} ({})\n", path.string(),
             raw                   ? "headerless uint16"
             : info.vocab_size > 0 ? "precis header"
                                   : "llm.c header");
  fmt::print("tokens      {}\n", shard.size());
  fmt::print("vocab       {}{}\n", vocab, info.vocab_size > 0 ? "" : " (largest id + 1)");
  if (info.vocab_size > 0) {
    fmt::print("eot id      {}\ntokenizer   id {}\n", info.eot_id, info.tokenizer_id);
  }
  fmt::print("unigram     {:.4f} nats/token\n", data::unigram_entropy_nats(counts));
}

}  // namespace

void add_data_command(CLI::App& app) {
  auto* data = app.add_subcommand("data", "Build token datasets from Debian corpora; inspect them");
  data->require_subcommand(1);

  auto build_args = std::make_shared<DataBuildArgs>();
  auto* build = data->add_subcommand(
      "build", "Extract a corpus recipe, tokenize it, write train/val shards and a manifest");
  build
      ->add_option("--recipe", build_args->recipe,
                   "Recipe name under data/recipes/ or a .toml file")
      ->capture_default_str();
  build
      ->add_option(
          "--tokenizer", build_args->tokenizer,
          "bytes, sp:VOCAB (SentencePiece BPE) or gguf:MODEL.gguf (the model's own tokenizer, "
          "encoding as llama.cpp does)")
      ->capture_default_str();
  build->add_option("--out", build_args->out, "Dataset folder (default datasets/RECIPE-TOKENIZER)");
  build->add_option("--threads", build_args->threads, "Threads, or 'all'")->capture_default_str();
  build->add_option("--seed", build_args->seed, "Seed of SentencePiece training")
      ->capture_default_str();
  build->add_option("--shard-tokens", build_args->shard_tokens, "Tokens per shard at most")
      ->capture_default_str();
  build->add_flag("--force", build_args->force, "Rebuild even if the folder is up to date");
  build->callback([build_args] { run_build(*build_args); });

  auto path = std::make_shared<std::string>();
  auto raw = std::make_shared<bool>(false);
  auto* info = data->add_subcommand("info",
                                    "Print a dataset's or a shard's tokens, vocabulary, "
                                    "checksum, unigram entropy and bytes per token");
  info->add_option("PATH", *path, "A dataset folder or one shard file")->required();
  info->add_flag("--raw", *raw, "The shard is a headerless nanoGPT uint16 file");
  info->callback([path, raw] {
    std::filesystem::path p(*path);
    require(std::filesystem::exists(p), "{} does not exist", p.string());
    if (std::filesystem::is_directory(p)) {
      print_dataset(p);
    } else {
      print_shard(p, *raw);
    }
  });
}

}  // namespace precis::cli
