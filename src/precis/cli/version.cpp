// precis version: the version, the build, and what this CPU offers the kernels.
#include <fmt/format.h>

#include "precis/cli/commands.hpp"
#include "precis/core/cpu_features.hpp"
#include "precis/core/threads.hpp"

namespace precis::cli {

void add_version_command(CLI::App& app) {
  auto* cmd =
      app.add_subcommand("version", "Print the version, the build and the CPU features used");
  cmd->callback([] {
    CpuFeatures f = detect_cpu_features();
    fmt::print("precis {} ({})\n", PRECIS_VERSION, PRECIS_GIT);
    fmt::print("compiler: g++ {}.{}.{}, C++{}\n", __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__,
               __cplusplus / 100 % 100);
    fmt::print(
        "cpu: {} cores; avx2 {}; avx512 {}; avx512_bf16 {}; avx512_vnni {}; kernels use {}\n",
        available_cores(), f.has_avx2_core() ? "yes" : "no", f.has_avx512_core() ? "yes" : "no",
        f.avx512bf16 ? "yes" : "no", f.avx512vnni ? "yes" : "no", to_string(best_isa()));
  });
}

}  // namespace precis::cli
