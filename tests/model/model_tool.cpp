// Drives the engine for the PyTorch oracle tests (test_model_oracle.py).
//
//   model_tool IN.safetensors OUT.safetensors [THREADS]
//
// IN holds the parameters under their HF names, "inputs" and "targets" (I32, B×T), and metadata
// "config" (ModelConfig JSON) and "policy" (PrecisionPolicy JSON). OUT receives "logits"
// (B×T×V), "loss" (1) and "grad.<name>" for every parameter after one forward and backward.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "precis/core/error.hpp"
#include "precis/io/safetensors.hpp"
#include "precis/model/model.hpp"

using namespace precis;

int main(int argc, char** argv) {
  try {
    require(argc == 3 || argc == 4, "usage: model_tool IN.safetensors OUT.safetensors [THREADS]");
    const int threads = argc == 4 ? std::stoi(argv[3]) : 1;
    auto in = io::SafetensorsFile::open(argv[1]);
    auto cfg = model::ModelConfig::from_json(in.metadata_value("config"));
    auto policy = model::PrecisionPolicy::from_json(in.metadata_value("policy"));
    const auto& ti = in.get("inputs");
    require(ti.dtype == io::Dtype::I32 && ti.shape.size() == 2, "inputs must be I32 B×T");
    const int B = static_cast<int>(ti.shape[0]), T = static_cast<int>(ti.shape[1]);
    std::vector<std::int32_t> inputs(B * T), targets(B * T);
    std::memcpy(inputs.data(), ti.data.data(), inputs.size() * 4);
    const auto& tt = in.get("targets");
    require(tt.dtype == io::Dtype::I32 && tt.numel() == B * T, "targets must be I32 B×T");
    std::memcpy(targets.data(), tt.data.data(), targets.size() * 4);

    model::Model m(cfg, policy, B, threads);
    for (const auto& t : m.tensors()) {
      const auto& src = in.get(t.name);
      require(src.shape == t.shape, "tensor {} has the wrong shape", t.name);
      io::copy_to_f32(src, m.params().subspan(t.offset, t.count));
    }
    m.zero_grads();
    float loss = m.forward(inputs.data(), targets.data(), B, T);
    m.backward();

    io::SafetensorsWriter out;
    const auto logits = m.logits();
    out.add_f32("logits", {B, T, cfg.vocab_size}, logits);
    out.add_f32("loss", {1}, std::span<const float>(&loss, 1));
    std::vector<std::string> names;
    for (const auto& t : m.tensors()) names.push_back("grad." + t.name);
    for (std::size_t i = 0; i < m.tensors().size(); ++i) {
      const auto& t = m.tensors()[i];
      out.add_f32(names[i], t.shape, m.grads().subspan(t.offset, t.count));
    }
    out.write(argv[2]);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "model_tool: %s\n", e.what());
    return 1;
  }
}
