// The running CPU's instruction sets, read once per process. Formats are built per call (site
// roundings, PTQ, evaluation), and each build asked CPUID several times; under a hypervisor CPUID
// traps, which cost about 1 % of a training step.
#pragma once

#include "precis/core/cpu_features.hpp"

namespace precis::formats {

// cpu_supports(isa), cached.
bool cpu_runs(Isa isa);
// best_isa(), cached: PRECIS_ISA is read at the first call.
Isa best_isa_once();

}  // namespace precis::formats
