// GPTQ or AWQ of a checkpoint file: the model is loaded, calibration windows are drawn (seeded)
// from the dataset's train split, quantize_model runs, and the result is written as a quantized
// checkpoint (quantized_file.hpp) with the packed weights, the F32 tensors as the method left them
// (AWQ folds scales into norm gains and rows) and metadata "precis.ptq" recording the method, the
// format, every option and the calibration draw.
#pragma once

#include <cstdint>
#include <filesystem>

#include "precis/core/progress.hpp"
#include "precis/ptq/model_ptq.hpp"

namespace precis::ptq {

struct PtqCheckpointOptions {
  ModelPtqOptions ptq;
  std::filesystem::path data;  // dataset folder (precis data build)
  int calib_windows = 128;
  int calib_length = 0;  // tokens per window; 0 = the model's context
  std::uint64_t calib_seed = 0;
  int threads = 1;  // model kernels (GPTQ/AWQ threads are in ptq)
};

// Returns the number of tensors quantized. Throws precis::Error (and writes nothing) for an
// unreadable or already quantized checkpoint, a dataset whose ids exceed the model's vocabulary, a
// train split with no whole window, or a format that does not fit some tensor.
int ptq_quantize_checkpoint(const std::filesystem::path& in, const std::filesystem::path& out,
                            const PtqCheckpointOptions& options, const ProgressFn& progress = {});

}  // namespace precis::ptq
