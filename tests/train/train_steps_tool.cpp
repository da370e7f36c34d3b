// Runs S training steps of the engine with clipping and AdamW, for test_train_steps_oracle.py.
//
//   train_steps_tool IN.safetensors OUT.safetensors
//
// IN: every parameter under its HF name, "inputs" and "targets" (I32, S × B × T), metadata
// "config", "policy" and "optim" ({"lr", "beta1", "beta2", "eps", "weight_decay", "clip"}).
// OUT: "losses" (S, the loss of each step before its update) and the final parameters.
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "precis/core/error.hpp"
#include "precis/io/safetensors.hpp"
#include "precis/model/model.hpp"
#include "precis/train/adamw.hpp"
#include "precis/train/grad_clip.hpp"
#include "precis/train/trainer.hpp"

using namespace precis;

int main(int argc, char** argv) {
  try {
    require(argc == 3, "usage: train_steps_tool IN.safetensors OUT.safetensors");
    auto in = io::SafetensorsFile::open(argv[1]);
    auto cfg = model::ModelConfig::from_json(in.metadata_value("config"));
    auto policy = model::PrecisionPolicy::from_json(in.metadata_value("policy"));
    auto o = nlohmann::json::parse(in.metadata_value("optim"));
    const auto& ti = in.get("inputs");
    require(ti.dtype == io::Dtype::I32 && ti.shape.size() == 3, "inputs must be I32 S×B×T");
    const int S = static_cast<int>(ti.shape[0]), B = static_cast<int>(ti.shape[1]),
              T = static_cast<int>(ti.shape[2]);
    std::vector<std::int32_t> inputs(ti.numel()), targets(ti.numel());
    std::memcpy(inputs.data(), ti.data.data(), inputs.size() * 4);
    std::memcpy(targets.data(), in.get("targets").data.data(), targets.size() * 4);

    model::Model m(cfg, policy, B, 1);
    for (const auto& t : m.tensors())
      io::copy_to_f32(in.get(t.name), m.params().subspan(t.offset, t.count));
    train::AdamWConfig ac{.beta1 = o["beta1"],
                          .beta2 = o["beta2"],
                          .eps = o["eps"],
                          .weight_decay = o["weight_decay"]};
    train::AdamW opt(ac, m.params().size(), train::decay_segments(m, true));
    std::vector<float> losses;
    for (int s = 0; s < S; ++s) {
      std::size_t at = static_cast<std::size_t>(s) * B * T;
      m.zero_grads();
      losses.push_back(m.forward(inputs.data() + at, targets.data() + at, B, T));
      m.backward();
      train::clip_grad_norm(m.grads(), o["clip"].get<double>(), 1);
      opt.step(m.params(), m.grads(), o["lr"].get<double>(), 1);
    }
    io::SafetensorsWriter out;
    out.add_f32("losses", {S}, losses);
    for (const auto& t : m.tensors())
      out.add_f32(t.name, t.shape, m.params().subspan(t.offset, t.count));
    out.write(argv[2]);
    return 0;
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
