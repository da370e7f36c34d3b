// FormatSpec: the one value type that names a number format everywhere in precis (training
// policy, PTQ, export, evaluation, results). Parsed from the spec grammar, printed canonically.
//
// Grammar (see format_grammar() for the text users see):
//   intK[:GRAN][:asym][:mse]     K = 2..16; GRAN = tensor | channel | token | head | gN
//   fp:eXmY[:GRAN]               X = 1..8, Y = 0..10; without GRAN a plain cast, with GRAN scaled
//                                (e4m3: OCP E4M3, Fn convention; e5m2 and every X = 8: IEEE layout,
//                                saturating; every other ExMy: Finite)
//   fp16 | bf16 | fp32           IEEE half, bfloat16, no quantization
//   mxfp8[:e4m3|:e5m2] | mxfp6[:e3m2|:e2m3] | mxfp4 | mxint8     OCP MX v1.0, blocks of 32
//   nvfp4                        E2M1 in blocks of 16 with E4M3 scales and an fp32 tensor scale
//   gguf:TYPE                    TYPE = q8_0 | q4_0 | q4_1 | q5_0 | q5_1 | mxfp4 | q4_k | q6_k
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace precis::formats {

enum class Family {
  Identity,  // fp32: no quantization
  Int,       // k-bit integers with a scale (and zero point when asymmetric)
  Float,     // minifloat ExMy, plain cast or with an absmax scale per granularity group
  Mx,        // OCP MX block formats: 32 elements sharing an E8M0 scale
  Nvfp4,     // NVIDIA FP4: E2M1, blocks of 16 with E4M3 scales, one fp32 tensor scale
  Gguf,      // ggml block types, byte-exact with ggml's reference quantizers
};

// Which elements share a scale. Tensors are viewed as rows × cols, row-major: a weight's rows are
// its output channels (out × in), an activation's rows are its tokens.
enum class Granularity {
  None,    // no scale of the spec's own: a plain cast, or a fixed block structure (MX, NVFP4, GGUF)
  Tensor,  // one scale for the whole tensor
  Channel,  // one scale per row (weights: per output channel)
  Token,    // one scale per row (activations: per token); same arithmetic as Channel
  Head,     // one scale per head of each row; the caller supplies the head size (resolve_head)
  Group,    // one scale per group_size consecutive elements of a row
};

// How a minifloat spends its top codes. OCP E4M3 keeps only S.1111.111 for NaN (no Inf); IEEE
// layouts (E5M2, fp16, bf16) reserve the top exponent for Inf/NaN; Finite layouts (FP6, FP4 and
// every other ExMy) use all codes for finite values.
enum class FloatConvention { Finite, Fn, Ieee };

enum class Clipping { Absmax, MseSearch };

enum class MxElement { Fp8E4M3, Fp8E5M2, Fp6E3M2, Fp6E2M3, Fp4E2M1, Int8 };

// ggml type ids (GGUF on-disk values).
enum class GgufType : std::uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q4_K = 12,
  Q6_K = 14,
  BF16 = 30,
  MXFP4 = 39,
};

struct FormatSpec {
  Family family = Family::Identity;
  int bits = 32;      // bits per element including sign (Int: K; Float: 1 + X + Y; MX: element)
  int exp_bits = 8;   // Float: X
  int man_bits = 23;  // Float: Y
  FloatConvention convention = FloatConvention::Ieee;
  // Float: values past the largest finite value clamp to it (every ExMy); false only for fp16 and
  // bf16, which are IEEE casts (overflow to Inf, Inf and NaN kept).
  bool saturating = true;
  Granularity granularity = Granularity::None;
  bool granularity_explicit = false;  // false: the user gave none and a role default may apply
  int group_size = 0;                 // Group: g; MX/NVFP4/GGUF: the block size
  bool asymmetric = false;            // Int only
  Clipping clipping = Clipping::Absmax;
  MxElement mx_element = MxElement::Fp8E4M3;
  GgufType gguf_type = GgufType::F32;

  // The canonical spec string; parse_format(canonical()) == *this.
  std::string canonical() const;
  // A few plain-English lines: what the format stores, its scale, rounding and range.
  std::string describe() const;
  // Copy with Head granularity turned into groups of head_size (per token, per head).
  FormatSpec resolve_head(int head_size) const;
  // Copy with the role default granularity applied when the user gave none (Int and scaled
  // formats only; e.g. the paper's policy: weights Channel, activations Tensor, KV Head).
  FormatSpec with_default_granularity(Granularity g) const;
  bool is_identity() const { return family == Family::Identity; }

  friend bool operator==(const FormatSpec&, const FormatSpec&) = default;
};

// Parses a spec; throws precis::Error with a one-line message that names the problem and lists
// the valid forms.
FormatSpec parse_format(std::string_view text);

// The valid forms, one line, for error messages and --help.
std::string format_grammar();

// Every format of the catalogue in canonical form, as `precis formats` lists them.
std::vector<FormatSpec> catalogue();

// The layout an fp:eXmY spec gets (see the grammar above).
FloatConvention default_convention(int exp_bits, int man_bits);

std::string to_string(Family f);
std::string to_string(FloatConvention c);

std::string to_string(Granularity g);
std::string to_string(MxElement e);
std::string to_string(GgufType t);

}  // namespace precis::formats
