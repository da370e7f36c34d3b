#include "precis/io/gguf_value.hpp"

#include <fmt/format.h>

#include <limits>

#include "precis/core/error.hpp"

namespace precis::io {

std::string to_string(GgufValueType type) {
  static constexpr const char* kNames[] = {"UINT8",  "INT8",    "UINT16", "INT16",  "UINT32",
                                           "INT32",  "FLOAT32", "BOOL",   "STRING", "ARRAY",
                                           "UINT64", "INT64",   "FLOAT64"};
  auto id = static_cast<std::uint32_t>(type);
  if (id < kGgufValueTypeCount) return kNames[id];
  return fmt::format("type {}", id);
}

std::size_t gguf_value_size(GgufValueType type) {
  switch (type) {
    case GgufValueType::U8:
    case GgufValueType::I8:
    case GgufValueType::Bool:
      return 1;
    case GgufValueType::U16:
    case GgufValueType::I16:
      return 2;
    case GgufValueType::U32:
    case GgufValueType::I32:
    case GgufValueType::F32:
      return 4;
    case GgufValueType::U64:
    case GgufValueType::I64:
    case GgufValueType::F64:
      return 8;
    case GgufValueType::String:
    case GgufValueType::Array:
      return 0;
  }
  return 0;
}

namespace detail {
void gguf_type_mismatch(std::string_view wanted, GgufValueType actual, bool element) {
  if (element) fail("expected an array of {} but the array holds {}", wanted, to_string(actual));
  fail("expected a {} value but the value is {}", wanted, to_string(actual));
}
}  // namespace detail

std::size_t GgufArray::size() const {
  return std::visit([](const auto& v) { return v.size(); }, elements_);
}

const GgufArray& GgufValue::array() const {
  if (auto* a = std::get_if<GgufArray>(&value_)) return *a;
  detail::gguf_type_mismatch("ARRAY", type(), false);
}

std::int64_t GgufValue::to_int() const {
  return std::visit(
      [&](const auto& v) -> std::int64_t {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
          if constexpr (std::is_same_v<T, std::uint64_t>) {
            require(v <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()),
                    "integer value {} is out of range", v);
          }
          return static_cast<std::int64_t>(v);
        } else {
          fail("expected an integer value but the value is {}", to_string(type()));
        }
      },
      value_);
}

double GgufValue::to_double() const {
  if (auto* f = std::get_if<float>(&value_)) return *f;
  if (auto* d = std::get_if<double>(&value_)) return *d;
  return static_cast<double>(to_int());
}

namespace {

// Control characters escaped so that a value (a chat template, say) stays on one line.
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
    } else {
      out += c;
    }
  }
  return out + "\"";
}

template <typename T>
std::string render(const T& v) {
  if constexpr (std::is_same_v<T, std::string>) {
    return quoted(v);
  } else if constexpr (std::is_same_v<T, bool>) {
    return v ? "true" : "false";
  } else if constexpr (std::is_same_v<T, std::uint8_t> || std::is_same_v<T, std::int8_t>) {
    return fmt::format("{}", static_cast<int>(v));
  } else if constexpr (std::is_same_v<T, GgufArray>) {
    return GgufValue(v).to_display();
  } else {
    return fmt::format("{}", v);
  }
}

}  // namespace

std::string GgufValue::to_display(std::size_t max_items) const {
  if (!is_array()) {
    return std::visit([](const auto& v) { return render(v); }, value_);
  }
  const GgufArray& a = array();
  return std::visit(
      [&](const auto& elements) {
        std::string out = fmt::format("[{} x {}: ", elements.size(), to_string(a.element_type()));
        std::size_t shown = std::min(elements.size(), max_items);
        for (std::size_t i = 0; i < shown; ++i) {
          if (i) out += ", ";
          using E = typename std::decay_t<decltype(elements)>::value_type;
          out += render(static_cast<E>(elements[i]));
        }
        if (shown < elements.size()) out += ", ...";
        return out + "]";
      },
      a.elements());
}

}  // namespace precis::io
