#include "precis/ptq/ptq_checkpoint.hpp"

#include <nlohmann/json.hpp>
#include <span>
#include <vector>

#include "precis/core/error.hpp"
#include "precis/data/dataset.hpp"
#include "precis/io/safetensors.hpp"
#include "precis/ptq/calibration.hpp"
#include "precis/ptq/quantized_file.hpp"

namespace precis::ptq {
namespace {

std::unique_ptr<model::Model> load_unquantized(const io::SafetensorsFile& file, int threads) {
  const auto& meta = file.metadata();
  require(meta.count("config") && meta.count("policy"),
          "{} has no 'config'/'policy' metadata; give a model written by precis train",
          file.source());
  require(quantized_tensors(file).empty(),
          "{} is already quantized; quantize the unquantized checkpoint instead", file.source());
  auto m = std::make_unique<model::Model>(model::ModelConfig::from_json(meta.at("config")),
                                          model::PrecisionPolicy::from_json(meta.at("policy")), 1,
                                          threads);
  for (const model::ParamTensor& t : m->tensors()) {
    const io::TensorInfo& info = file.get(t.name);
    require(info.numel() == static_cast<std::int64_t>(t.count),
            "{}: tensor {} holds {} values but the config needs {}", file.source(), t.name,
            info.numel(), t.count);
    io::copy_to_f32(info, m->params().subspan(t.offset, t.count));
  }
  return m;
}

const char* method_name(PtqMethod m) { return m == PtqMethod::Gptq ? "gptq" : "awq"; }

}  // namespace

int ptq_quantize_checkpoint(const std::filesystem::path& in, const std::filesystem::path& out,
                            const PtqCheckpointOptions& o, const ProgressFn& progress) {
  const auto file = io::SafetensorsFile::open(in);
  auto m = load_unquantized(file, o.threads);
  const auto dataset = data::Dataset::open(o.data, /*check_ids=*/false);
  require(dataset.vocab_size() <= m->config().vocab_size,
          "dataset {} has a vocabulary of {} tokens but the model only {}; calibrate on the "
          "dataset the model was trained on",
          o.data.string(), dataset.vocab_size(), m->config().vocab_size);
  std::vector<std::span<const std::uint16_t>> shards;
  for (const auto& s : dataset.split(data::Split::Train).shards()) shards.push_back(s.tokens());
  const int length = o.calib_length > 0 ? o.calib_length : m->config().context;
  const CalibrationWindows windows =
      draw_calibration_windows(shards, o.calib_windows, length, o.calib_seed);
  ModelPtqResult result = quantize_model(*m, windows, o.ptq, progress);

  io::SafetensorsWriter writer;
  nlohmann::json declared = nlohmann::json::object();
  for (const model::ParamTensor& t : m->tensors()) {
    const auto it = result.packed.find(t.name);
    if (it == result.packed.end()) {
      writer.add_f32(t.name, t.shape, m->params().subspan(t.offset, t.count));
      continue;
    }
    const PackedWeight& p = it->second;
    writer.add(t.name, io::Dtype::U8, {static_cast<std::int64_t>(p.bytes.size())}, p.bytes);
    declared[t.name] = {{"format", p.spec.canonical()}, {"shape", {p.rows, p.cols}}};
  }
  for (const auto& [key, value] : file.metadata()) writer.set_metadata(key, value);
  nlohmann::json record{{"method", method_name(o.ptq.method)},
                        {"format", o.ptq.spec.canonical()},
                        {"include_head", o.ptq.include_head},
                        {"calibration",
                         {{"data", o.data.string()},
                          {"split", "train"},
                          {"windows", windows.count},
                          {"length", windows.length},
                          {"seed", o.calib_seed}}}};
  if (o.ptq.method == PtqMethod::Gptq) {
    record["damp"] = o.ptq.gptq.damp;
    record["block_size"] = o.ptq.gptq.block_size;
    record["act_order"] = o.ptq.gptq.act_order;
    record["static_groups"] = o.ptq.gptq.static_groups;
    record["true_sequential"] = true;
  } else {
    record["scale_grid"] = o.ptq.awq.scale_grid;
    record["clip_grid"] = o.ptq.awq.clip_grid;
    record["clip_steps"] = o.ptq.awq.clip_steps;
    record["clip_tokens"] = o.ptq.awq.clip_tokens;
    record["awq_tokens"] = o.ptq.awq_tokens;
    record["clip"] = o.ptq.awq_clip;
    record["scale_objective"] = "module output";
    record["alpha"] = result.awq_alpha;
  }
  writer.set_metadata("format", "pt");
  writer.set_metadata("precis.quantized", declared.dump());
  writer.set_metadata("precis.ptq", record.dump());
  writer.write(out);
  return static_cast<int>(result.packed.size());
}

}  // namespace precis::ptq
