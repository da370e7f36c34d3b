// make_format: a spec and an instruction set to an executable format.
#include "precis/core/error.hpp"
#include "precis/formats/families.hpp"
#include "precis/formats/gguf/gguf_format.hpp"

namespace precis::formats {

std::unique_ptr<Format> make_format(const FormatSpec& spec, Isa isa) {
  if (!cpu_supports(isa)) isa = best_isa();
  const Kernels& k = kernels_for(isa);
  switch (spec.family) {
    case Family::Identity:
      return make_identity_format(spec);
    case Family::Int:
      return make_int_format(spec, k);
    case Family::Float:
      return make_float_format(spec, k);
    case Family::Mx:
      return make_mx_format(spec, k);
    case Family::Nvfp4:
      return make_nvfp4_format(spec, k);
    case Family::Gguf:
      return make_gguf_format(spec, isa);
  }
  fail("format {} has an unknown family", spec.canonical());
}

}  // namespace precis::formats
