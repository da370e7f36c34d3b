// Constructors of the GroupQuantizer of each family (group_quantizer_<family>.cpp); use
// make_group_quantizer, which picks one by spec.family.
#pragma once

#include <memory>

#include "precis/formats/group_quantizer.hpp"

namespace precis::formats {

std::unique_ptr<GroupQuantizer> make_int_group_quantizer(const FormatSpec& spec);
std::unique_ptr<GroupQuantizer> make_float_group_quantizer(const FormatSpec& spec);
std::unique_ptr<GroupQuantizer> make_mx_group_quantizer(const FormatSpec& spec);
std::unique_ptr<GroupQuantizer> make_nvfp4_group_quantizer(const FormatSpec& spec);
std::unique_ptr<GroupQuantizer> make_gguf_group_quantizer(const FormatSpec& spec);
std::unique_ptr<GroupQuantizer> make_kquant_group_quantizer(const FormatSpec& spec);

}  // namespace precis::formats
