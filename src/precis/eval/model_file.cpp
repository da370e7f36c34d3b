#include "precis/eval/model_file.hpp"

#include <set>
#include <span>

#include "precis/core/error.hpp"
#include "precis/io/safetensors.hpp"
#include "precis/ptq/quantized_file.hpp"

namespace precis::eval {

LoadedModel load_model_file(const std::filesystem::path& path, int max_batch, int threads,
                            int context,
                            const std::function<void(model::PrecisionPolicy&)>& adjust_policy) {
  require(std::filesystem::is_regular_file(path),
          "model file {} does not exist; give a training run's model.safetensors or a "
          "`precis quantize` output",
          path.string());
  const io::SafetensorsFile file = io::SafetensorsFile::open(path);
  const auto& meta = file.metadata();
  require(meta.count("config") && meta.count("policy"),
          "{} has no 'config'/'policy' metadata, so it was not written by precis train or "
          "precis quantize",
          path.string());
  auto config = model::ModelConfig::from_json(meta.at("config"));
  require(context >= 0 && context <= config.context,
          "--context {} must be between 1 and {}'s context {} (0 = the file's)", context,
          path.string(), config.context);
  if (context > 0) config.context = context;
  auto policy = model::PrecisionPolicy::from_json(meta.at("policy"));
  if (adjust_policy) adjust_policy(policy);
  const auto quantized = ptq::quantized_tensors(file);

  LoadedModel out;
  out.model = std::make_unique<model::Model>(config, policy, max_batch, threads);
  std::span<float> params = out.model->params();
  std::set<std::string> formats;
  double linear_bits = 0, linear_weights = 0;
  for (const model::ParamTensor& t : out.model->tensors()) {
    require(file.find(t.name) != nullptr,
            "{} lacks the parameter {}; is it a model file of this precis version?", path.string(),
            t.name);
    const std::int64_t n = ptq::dequantized_numel(file, t.name);
    require(n == static_cast<std::int64_t>(t.count),
            "{}: tensor {} holds {} values but its config needs {}; the file is damaged or its "
            "metadata is wrong",
            path.string(), t.name, n, t.count);
    ptq::dequantize_tensor(file, t.name, params.subspan(t.offset, t.count));
    if (ptq::is_quantized_weight(t.name, /*include_head=*/false)) {
      linear_bits += 8.0 * static_cast<double>(file.get(t.name).data.size());
      linear_weights += static_cast<double>(t.count);
    }
    if (auto it = quantized.find(t.name); it != quantized.end()) {
      ++out.quantized_tensors;
      formats.insert(it->second.spec.canonical());
    }
  }
  if (linear_weights > 0) out.linear_bits_per_weight = linear_bits / linear_weights;
  for (const auto& f : formats) out.formats += (out.formats.empty() ? "" : ",") + f;
  return out;
}

}  // namespace precis::eval
