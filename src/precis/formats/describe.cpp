// FormatSpec::describe: the plain-English account `precis formats show` prints.
#include <fmt/format.h>

#include "precis/formats/minifloat.hpp"
#include "precis/formats/spec.hpp"

namespace precis::formats {
namespace {

std::string granularity_text(const FormatSpec& s) {
  switch (s.granularity) {
    case Granularity::None:
      return "none";
    case Granularity::Tensor:
      return s.granularity_explicit ? "one scale per tensor"
                                    : "one scale per tensor (a role default may replace it)";
    case Granularity::Channel:
      return "one scale per row (output channel)";
    case Granularity::Token:
      return "one scale per row (token)";
    case Granularity::Head:
      return "one scale per head of each row (head size set by the model)";
    case Granularity::Group:
      return fmt::format("one scale per {} consecutive elements of a row", s.group_size);
  }
  return "?";
}

std::string minifloat_text(const Minifloat& m) {
  const char* layout = m.convention == FloatConvention::Fn ? "OCP Fn: S.1..1.1..1 is NaN, no Inf"
                       : m.convention == FloatConvention::Ieee ? "IEEE: top exponent is Inf/NaN"
                                                               : "finite: no Inf, no NaN";
  return fmt::format(
      "E{}M{} ({} bits), bias {}, {}; max finite {:g}, min normal {:g}, min subnormal {:g}",
      m.exp_bits, m.man_bits, m.code_bits(), m.bias(), layout, m.max_value(), m.min_normal(),
      std::ldexp(1.0, m.emin() - m.man_bits));
}

}  // namespace

std::string FormatSpec::describe() const {
  std::string out = canonical() + "\n";
  auto line = [&out](const std::string& key, const std::string& value) {
    out += fmt::format("  {:<10} {}\n", key + ":", value);
  };
  switch (family) {
    case Family::Identity:
      line("stores", "fp32 values, unchanged (32 bits per weight)");
      break;
    case Family::Int: {
      int qmin = asymmetric ? 0 : -(1 << (bits - 1));
      int qmax = asymmetric ? (1 << bits) - 1 : (1 << (bits - 1)) - 1;
      line("stores", fmt::format("{}-bit integers q in [{}, {}]", bits, qmin, qmax));
      line("scale", granularity_text(*this) + ", fp32" + (asymmetric ? ", with a zero point" : ""));
      line("rule", asymmetric
                       ? "scale = (max - min)/(2^k - 1) over [min(x,0), max(x,0)], zero = "
                         "round(-min/scale); x' = (q - zero) * scale"
                       : "scale = max|x| / qmax; q = clamp(round(x / scale)); x' = q * scale");
      line("rounding", "round half to even of x * (1/scale)");
      if (clipping == Clipping::MseSearch)
        line("clipping",
             "range shrunk by the best of p = 1 - i/100, i < 80, by sum |err|^2.4 "
             "(GPTQ's search)");
      break;
    }
    case Family::Float: {
      Minifloat m = Minifloat::from_spec(*this);
      line("element", minifloat_text(m));
      if (!saturating) {
        line("rule", "IEEE cast: round half to even, overflow to Inf, Inf and NaN kept");
      } else if (granularity == Granularity::None) {
        line("rule", "plain cast: round half to even, saturating at max finite (Inf too)");
      } else {
        line("scale", granularity_text(*this) + ", fp32 = max|x| / max finite");
        line("rule", "element = cast(x / scale), round half to even, saturating");
      }
      if (!m.has_nan()) line("NaN", "encoded as +0 (the format has no NaN code)");
      break;
    }
    case Family::Mx: {
      line("block", "32 consecutive elements of a row share one E8M0 scale (2^-127..2^127)");
      if (mx_element == MxElement::Int8) {
        line("element", "int8 with implicit scale 2^-6, symmetric [-127, 127]");
      } else {
        line("element", minifloat_text(Minifloat::from_spec(*this)));
      }
      line("scale", "2^(floor(log2(amax)) - emax_elem); all-zero block 2^-127; NaN/Inf block NaN");
      line("rounding", "round half to even, saturating at the element max");
      line("bits", fmt::format("{} per element + 8 per block = {:g}", bits, bits + 0.25));
      break;
    }
    case Family::Nvfp4:
      line("element", "E2M1 (4 bits): 0, 0.5, 1, 1.5, 2, 3, 4, 6");
      line("block", "16 consecutive elements of a row share an E4M3 scale; one fp32 tensor scale");
      line("scale", "ts = amax/(448*6); block = e4m3(clamp(amax_b/6/ts, 2^-6, 448))");
      line("rounding", "round half to even, saturating at 6 (torchao 0.18 arithmetic)");
      line("bits", "4 per element + 8 per block of 16 = 4.5, plus 32 per tensor");
      break;
    case Family::Gguf:
      line("stores", fmt::format("ggml block type {} (blocks of {}), byte-exact with ggml",
                                 to_string(gguf_type), group_size));
      line("rounding", "ggml's reference quantizer rules");
      break;
  }
  return out;
}

}  // namespace precis::formats
