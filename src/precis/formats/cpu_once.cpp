#include "precis/formats/cpu_once.hpp"

namespace precis::formats {

bool cpu_runs(Isa isa) {
  static const bool avx2 = cpu_supports(Isa::Avx2), avx512 = cpu_supports(Isa::Avx512);
  switch (isa) {
    case Isa::Reference:
      return true;
    case Isa::Avx2:
      return avx2;
    case Isa::Avx512:
      return avx512;
  }
  return false;
}

Isa best_isa_once() {
  static const Isa best = best_isa();
  return best;
}

}  // namespace precis::formats
