// Drives PTQ for the Python oracle tests: reads raw little-endian f32 files, writes Q as raw f32.
//
//   ptq_tool gptq --w W --x X --rows R --cols C --n N --format SPEC --out Q
//            [--damp D] [--block B] [--act-order] [--static-groups] [--fp32] [--threads T]
//   ptq_tool rtn  --w W --rows R --cols C --format SPEC --out Q
//
// W is R×C (out × in), X is N×C calibration inputs. GPTQ runs in fp64 unless --fp32.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <string>
#include <vector>

#include "precis/core/error.hpp"
#include "precis/formats/group_quantizer.hpp"
#include "precis/formats/spec.hpp"
#include "precis/kernels/gemm.hpp"
#include "precis/ptq/gptq.hpp"
#include "precis/ptq/hessian.hpp"

namespace {

std::vector<float> read_f32(const std::string& path, std::size_t count) {
  std::ifstream in(path, std::ios::binary);
  precis::require(bool(in), "cannot open {}", path);
  std::vector<float> v(count);
  in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(count * sizeof(float)));
  precis::require(in.gcount() == static_cast<std::streamsize>(count * sizeof(float)),
                  "{} holds fewer than {} floats", path, count);
  return v;
}

void write_f32(const std::string& path, const float* data, std::size_t count) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(count * 4));
  precis::require(bool(out), "cannot write {}", path);
}

int run(int argc, char** argv) {
  precis::require(argc >= 2, "usage: ptq_tool gptq|rtn --w W --rows R --cols C ...");
  const std::string mode = argv[1];
  std::string w_path, x_path, out_path, spec = "int4:g128";
  std::int64_t rows = 0, cols = 0, n = 0;
  precis::ptq::GptqOptions opt;
  bool fp32 = false;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      precis::require(i + 1 < argc, "{} needs a value", a);
      return argv[++i];
    };
    if (a == "--w")
      w_path = next();
    else if (a == "--x")
      x_path = next();
    else if (a == "--out")
      out_path = next();
    else if (a == "--format")
      spec = next();
    else if (a == "--rows")
      rows = std::stoll(next());
    else if (a == "--cols")
      cols = std::stoll(next());
    else if (a == "--n")
      n = std::stoll(next());
    else if (a == "--damp")
      opt.damp = std::stod(next());
    else if (a == "--block")
      opt.block_size = std::stoll(next());
    else if (a == "--threads")
      opt.threads = std::stoi(next());
    else if (a == "--act-order")
      opt.act_order = true;
    else if (a == "--static-groups")
      opt.static_groups = true;
    else if (a == "--fp32")
      fp32 = true;
    else
      precis::fail("unknown option {}", a);
  }
  auto w = read_f32(w_path, static_cast<std::size_t>(rows * cols));
  auto quantizer = precis::formats::make_group_quantizer(precis::formats::parse_format(spec));
  if (mode == "rtn") {
    quantizer->fake_quant(w.data(), rows, cols);
    write_f32(out_path, w.data(), w.size());
    return 0;
  }
  precis::require(mode == "gptq", "unknown mode {}", mode);
  auto x = read_f32(x_path, static_cast<std::size_t>(n * cols));
  precis::kernels::Gemm gemm(opt.threads);
  precis::ptq::GptqResult result;
  if (fp32) {
    precis::ptq::Hessian<float> h(cols);
    h.add(x.data(), n, gemm);
    result = precis::ptq::gptq(w.data(), rows, cols, h.matrix().data(), *quantizer, opt);
  } else {
    precis::ptq::Hessian<double> h(cols);
    h.add(x.data(), n, gemm);
    result = precis::ptq::gptq(w.data(), rows, cols, h.matrix().data(), *quantizer, opt);
  }
  write_f32(out_path, result.q.data(), result.q.size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ptq_tool: error: %s\n", e.what());
    return 1;
  }
}
