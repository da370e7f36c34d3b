// Spec grammar: parsing and canonical printing. The two are inverse on every valid spec, which
// the tests check over the whole catalogue.
#include "precis/formats/spec.hpp"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <optional>

#include "precis/core/error.hpp"

namespace precis::formats {
namespace {

std::vector<std::string> split(std::string_view text, char sep) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t pos = text.find(sep, start);
    parts.emplace_back(text.substr(start, pos == std::string_view::npos ? pos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return parts;
}

// A whole decimal number, or nullopt (no sign, no spaces, no trailing characters).
std::optional<int> whole_number(std::string_view s) {
  if (s.empty() || s.size() > 9) return std::nullopt;
  int value = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return value;
}

[[noreturn]] void bad(std::string_view text, const std::string& why) {
  fail("invalid format spec '{}': {}; valid forms: {}", text, why, format_grammar());
}

constexpr int kMaxGroup = 1 << 24;

// Applies one GRAN option (tensor | channel | token | head | gN); false if `opt` is not one.
bool parse_granularity(std::string_view text, const std::string& opt, FormatSpec& spec) {
  Granularity g;
  if (opt == "tensor") {
    g = Granularity::Tensor;
  } else if (opt == "channel") {
    g = Granularity::Channel;
  } else if (opt == "token") {
    g = Granularity::Token;
  } else if (opt == "head") {
    g = Granularity::Head;
  } else if (opt.size() >= 1 && opt[0] == 'g' && opt.size() > 1 && std::isdigit(opt[1])) {
    auto n = whole_number(std::string_view(opt).substr(1));
    if (!n) bad(text, fmt::format("group size in '{}' is not a whole number", opt));
    if (*n < 2 || *n > kMaxGroup)
      bad(text, fmt::format("group size {} is out of range 2..{}", *n, kMaxGroup));
    g = Granularity::Group;
    spec.group_size = *n;
  } else {
    return false;
  }
  if (spec.granularity_explicit) bad(text, "more than one granularity given");
  spec.granularity = g;
  spec.granularity_explicit = true;
  return true;
}

FormatSpec parse_int(std::string_view text, const std::vector<std::string>& parts) {
  FormatSpec spec;
  spec.family = Family::Int;
  auto k = whole_number(std::string_view(parts[0]).substr(3));
  if (!k) bad(text, "expected intK with K a whole number, e.g. int4");
  if (*k < 2 || *k > 16) bad(text, fmt::format("integer width {} is out of range 2..16", *k));
  spec.bits = *k;
  spec.exp_bits = 0;
  spec.man_bits = 0;
  spec.granularity = Granularity::Tensor;  // until a role default or an explicit GRAN says more
  bool seen_asym = false, seen_mse = false;
  for (std::size_t i = 1; i < parts.size(); ++i) {
    const std::string& opt = parts[i];
    if (opt == "asym") {
      if (seen_asym) bad(text, "'asym' given twice");
      seen_asym = spec.asymmetric = true;
    } else if (opt == "mse") {
      if (seen_mse) bad(text, "'mse' given twice");
      seen_mse = true;
      spec.clipping = Clipping::MseSearch;
    } else if (!parse_granularity(text, opt, spec)) {
      bad(text, fmt::format("unknown integer option '{}'", opt));
    }
  }
  return spec;
}

FormatSpec parse_float(std::string_view text, const std::vector<std::string>& parts) {
  if (parts.size() < 2) bad(text, "expected fp:eXmY, e.g. fp:e4m3");
  const std::string& em = parts[1];
  std::size_t mpos = em.find('m');
  if (em.size() < 4 || em[0] != 'e' || mpos == std::string::npos)
    bad(text, fmt::format("'{}' is not of the form eXmY", em));
  auto e = whole_number(std::string_view(em).substr(1, mpos - 1));
  auto m = whole_number(std::string_view(em).substr(mpos + 1));
  if (!e || !m) bad(text, fmt::format("'{}' is not of the form eXmY", em));
  if (*e < 1 || *e > 8) bad(text, fmt::format("exponent bits {} are out of range 1..8", *e));
  if (*m < 0 || *m > 10) bad(text, fmt::format("mantissa bits {} are out of range 0..10", *m));
  FormatSpec spec;
  spec.family = Family::Float;
  spec.exp_bits = *e;
  spec.man_bits = *m;
  spec.bits = 1 + *e + *m;
  spec.convention = default_convention(*e, *m);
  for (std::size_t i = 2; i < parts.size(); ++i) {
    if (!parse_granularity(text, parts[i], spec))
      bad(text, fmt::format("unknown float option '{}'", parts[i]));
  }
  return spec;
}

FormatSpec mx_spec(MxElement element) {
  FormatSpec spec;
  spec.family = Family::Mx;
  spec.mx_element = element;
  spec.group_size = 32;
  spec.convention = FloatConvention::Finite;
  switch (element) {
    case MxElement::Fp8E4M3:
      spec.exp_bits = 4, spec.man_bits = 3, spec.convention = FloatConvention::Fn;
      break;
    case MxElement::Fp8E5M2:
      spec.exp_bits = 5, spec.man_bits = 2, spec.convention = FloatConvention::Ieee;
      break;
    case MxElement::Fp6E3M2:
      spec.exp_bits = 3, spec.man_bits = 2;
      break;
    case MxElement::Fp6E2M3:
      spec.exp_bits = 2, spec.man_bits = 3;
      break;
    case MxElement::Fp4E2M1:
      spec.exp_bits = 2, spec.man_bits = 1;
      break;
    case MxElement::Int8:
      spec.exp_bits = 0, spec.man_bits = 0, spec.bits = 8;
      return spec;
  }
  spec.bits = 1 + spec.exp_bits + spec.man_bits;
  return spec;
}

FormatSpec parse_mx(std::string_view text, const std::vector<std::string>& parts) {
  const std::string& head = parts[0];
  if (parts.size() > 2) bad(text, fmt::format("{} takes at most one element option", head));
  std::string opt = parts.size() == 2 ? parts[1] : "";
  if (!opt.empty() && opt[0] == 'g')
    bad(text, fmt::format("{} has a fixed block of 32 elements; write '{}' without '{}'", head,
                          head, opt));
  if (head == "mxfp8") {
    if (opt.empty() || opt == "e4m3") return mx_spec(MxElement::Fp8E4M3);
    if (opt == "e5m2") return mx_spec(MxElement::Fp8E5M2);
    bad(text, fmt::format("mxfp8 elements are e4m3 or e5m2, not '{}'", opt));
  }
  if (head == "mxfp6") {
    if (opt.empty() || opt == "e3m2") return mx_spec(MxElement::Fp6E3M2);
    if (opt == "e2m3") return mx_spec(MxElement::Fp6E2M3);
    bad(text, fmt::format("mxfp6 elements are e3m2 or e2m3, not '{}'", opt));
  }
  if (!opt.empty()) bad(text, fmt::format("{} takes no option, got '{}'", head, opt));
  return mx_spec(head == "mxfp4" ? MxElement::Fp4E2M1 : MxElement::Int8);
}

struct GgufName {
  const char* name;
  GgufType type;
  int block;
};
constexpr GgufName kGgufNames[] = {
    {"q8_0", GgufType::Q8_0, 32},  {"q4_0", GgufType::Q4_0, 32},  {"q4_1", GgufType::Q4_1, 32},
    {"q5_0", GgufType::Q5_0, 32},  {"q5_1", GgufType::Q5_1, 32},  {"mxfp4", GgufType::MXFP4, 32},
    {"q4_k", GgufType::Q4_K, 256}, {"q6_k", GgufType::Q6_K, 256},
};

FormatSpec parse_gguf(std::string_view text, const std::vector<std::string>& parts) {
  if (parts.size() != 2) bad(text, "expected gguf:TYPE, e.g. gguf:q4_0");
  for (const auto& g : kGgufNames) {
    if (parts[1] == g.name) {
      FormatSpec spec;
      spec.family = Family::Gguf;
      spec.gguf_type = g.type;
      spec.group_size = g.block;
      spec.exp_bits = spec.man_bits = 0;
      spec.bits = g.type == GgufType::Q8_0                                 ? 8
                  : (g.type == GgufType::Q5_0 || g.type == GgufType::Q5_1) ? 5
                  : g.type == GgufType::Q6_K                               ? 6
                                                                           : 4;
      return spec;
    }
  }
  bad(text, fmt::format("unknown GGUF type '{}'", parts[1]));
}

}  // namespace

FloatConvention default_convention(int exp_bits, int man_bits) {
  if (exp_bits == 4 && man_bits == 3) return FloatConvention::Fn;
  // E = 8 keeps the top exponent reserved as IEEE does: a Finite E8 layout would have values past
  // fp32's range, which no fp32 input could reach and no fp32 output could hold.
  if ((exp_bits == 5 && man_bits == 2) || exp_bits == 8) return FloatConvention::Ieee;
  return FloatConvention::Finite;
}

std::string format_grammar() {
  return "intK[:tensor|:channel|:token|:head|:gN][:asym][:mse] (K=2..16, N>=2) | "
         "fp:eXmY[:tensor|:channel|:token|:head|:gN] (X=1..8, Y=0..10) | fp16 | bf16 | fp32 | "
         "mxfp8[:e4m3|:e5m2] | mxfp6[:e3m2|:e2m3] | mxfp4 | mxint8 | nvfp4 | "
         "gguf:q8_0|q4_0|q4_1|q5_0|q5_1|mxfp4|q4_k|q6_k";
}

FormatSpec parse_format(std::string_view text) {
  std::string lower;
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) continue;
    lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (lower.empty()) bad(text, "the spec is empty");
  std::vector<std::string> parts = split(lower, ':');
  for (const auto& p : parts)
    if (p.empty()) bad(text, "empty field between ':'");
  const std::string& head = parts[0];
  if (head == "fp32" || head == "fp16" || head == "bf16") {
    if (parts.size() != 1) bad(text, fmt::format("{} takes no options", head));
    FormatSpec spec;
    if (head == "fp32") return spec;  // Identity
    spec.family = Family::Float;
    spec.convention = FloatConvention::Ieee;
    spec.saturating = false;
    spec.exp_bits = head == "fp16" ? 5 : 8;
    spec.man_bits = head == "fp16" ? 10 : 7;
    spec.bits = 16;
    return spec;
  }
  if (head.starts_with("int")) return parse_int(text, parts);
  if (head == "fp") return parse_float(text, parts);
  if (head == "mxfp8" || head == "mxfp6" || head == "mxfp4" || head == "mxint8")
    return parse_mx(text, parts);
  if (head == "nvfp4") {
    if (parts.size() != 1)
      bad(text, "nvfp4 has fixed blocks of 16 with E4M3 scales; write 'nvfp4' without options");
    FormatSpec spec;
    spec.family = Family::Nvfp4;
    spec.bits = 4;
    spec.exp_bits = 2;
    spec.man_bits = 1;
    spec.convention = FloatConvention::Finite;
    spec.group_size = 16;
    return spec;
  }
  if (head == "gguf") return parse_gguf(text, parts);
  bad(text, fmt::format("unknown format '{}'", head));
}

std::string to_string(Granularity g) {
  switch (g) {
    case Granularity::None:
      return "none";
    case Granularity::Tensor:
      return "tensor";
    case Granularity::Channel:
      return "channel";
    case Granularity::Token:
      return "token";
    case Granularity::Head:
      return "head";
    case Granularity::Group:
      return "group";
  }
  return "?";
}

std::string to_string(MxElement e) {
  switch (e) {
    case MxElement::Fp8E4M3:
      return "e4m3";
    case MxElement::Fp8E5M2:
      return "e5m2";
    case MxElement::Fp6E3M2:
      return "e3m2";
    case MxElement::Fp6E2M3:
      return "e2m3";
    case MxElement::Fp4E2M1:
      return "e2m1";
    case MxElement::Int8:
      return "int8";
  }
  return "?";
}

std::string to_string(GgufType t) {
  for (const auto& g : kGgufNames)
    if (g.type == t) return g.name;
  switch (t) {
    case GgufType::F32:
      return "f32";
    case GgufType::F16:
      return "f16";
    case GgufType::BF16:
      return "bf16";
    default:
      return fmt::format("type{}", static_cast<std::uint32_t>(t));
  }
}

std::string to_string(Family f) {
  switch (f) {
    case Family::Identity:
      return "identity";
    case Family::Int:
      return "int";
    case Family::Float:
      return "float";
    case Family::Mx:
      return "mx";
    case Family::Nvfp4:
      return "nvfp4";
    case Family::Gguf:
      return "gguf";
  }
  return "?";
}

std::string to_string(FloatConvention c) {
  switch (c) {
    case FloatConvention::Finite:
      return "finite";
    case FloatConvention::Fn:
      return "fn";
    case FloatConvention::Ieee:
      return "ieee";
  }
  return "?";
}

namespace {
std::string granularity_suffix(const FormatSpec& s) {
  if (!s.granularity_explicit) return "";
  if (s.granularity == Granularity::Group) return fmt::format(":g{}", s.group_size);
  return fmt::format(":{}", to_string(s.granularity));
}
}  // namespace

std::string FormatSpec::canonical() const {
  switch (family) {
    case Family::Identity:
      return "fp32";
    case Family::Int:
      return fmt::format("int{}{}{}{}", bits, granularity_suffix(*this), asymmetric ? ":asym" : "",
                         clipping == Clipping::MseSearch ? ":mse" : "");
    case Family::Float:
      if (!saturating) return exp_bits == 5 ? "fp16" : "bf16";
      return fmt::format("fp:e{}m{}{}", exp_bits, man_bits, granularity_suffix(*this));
    case Family::Mx:
      switch (mx_element) {
        case MxElement::Fp8E4M3:
          return "mxfp8:e4m3";
        case MxElement::Fp8E5M2:
          return "mxfp8:e5m2";
        case MxElement::Fp6E3M2:
          return "mxfp6:e3m2";
        case MxElement::Fp6E2M3:
          return "mxfp6:e2m3";
        case MxElement::Fp4E2M1:
          return "mxfp4";
        case MxElement::Int8:
          return "mxint8";
      }
      break;
    case Family::Nvfp4:
      return "nvfp4";
    case Family::Gguf:
      return fmt::format("gguf:{}", to_string(gguf_type));
  }
  return "?";
}

FormatSpec FormatSpec::resolve_head(int head_size) const {
  if (granularity != Granularity::Head) return *this;
  require(head_size >= 2 && head_size <= kMaxGroup,
          "cannot resolve per-head granularity of '{}' with head size {} (need 2..{})", canonical(),
          head_size, kMaxGroup);
  FormatSpec out = *this;
  out.granularity = Granularity::Group;
  out.group_size = head_size;
  return out;
}

FormatSpec FormatSpec::with_default_granularity(Granularity g) const {
  // Only integers take a role default: a minifloat without GRAN is a plain cast and stays one.
  if (family != Family::Int || granularity_explicit) return *this;
  FormatSpec out = *this;
  out.granularity = g;
  // The default is now part of the spec: its canonical form names it, so a file that records
  // the spec reads back with the same granularity whatever role the reader has in mind.
  out.granularity_explicit = true;
  return out;
}

std::vector<FormatSpec> catalogue() {
  const char* specs[] = {
      "fp32",
      "fp16",
      "bf16",
      "int8:tensor",
      "int8:channel",
      "int8:token",
      "int8:head",
      "int8:g128",
      "int4:channel",
      "int4:g128",
      "int4:g128:asym",
      "int4:g32",
      "int4:channel:mse",
      "int3:g128",
      "int2:g64:asym",
      "int16:tensor",
      "fp:e4m3",
      "fp:e5m2",
      "fp:e3m2",
      "fp:e2m3",
      "fp:e2m1",
      "fp:e2m0",
      "fp:e3m0",
      "fp:e4m1",
      "fp:e4m2",
      "fp:e5m6",
      "fp:e4m3:channel",
      "fp:e2m1:g32",
      "mxfp8:e4m3",
      "mxfp8:e5m2",
      "mxfp6:e3m2",
      "mxfp6:e2m3",
      "mxfp4",
      "mxint8",
      "nvfp4",
      "gguf:q8_0",
      "gguf:q4_0",
      "gguf:q4_1",
      "gguf:q5_0",
      "gguf:q5_1",
      "gguf:mxfp4",
      "gguf:q4_k",
      "gguf:q6_k",
  };
  std::vector<FormatSpec> out;
  for (const char* s : specs) out.push_back(parse_format(s));
  return out;
}

}  // namespace precis::formats
