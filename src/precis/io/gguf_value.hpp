// GGUF metadata values: the thirteen on-disk value types, scalars, strings and (nested) arrays.
//
// A GgufValue's variant index is its on-disk type id, so the type a file declares and the C++ type
// that holds it cannot drift apart. Arrays keep their elements in one typed vector (not a vector of
// GgufValue): a tokenizer's 50k-entry score array costs 4 bytes an entry, as on disk, and a hostile
// file cannot make the reader spend much more memory per element than the file spends bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

namespace precis::io {

// On-disk ids (gguf_type in ggml's gguf.h).
enum class GgufValueType : std::uint32_t {
  U8 = 0,
  I8 = 1,
  U16 = 2,
  I16 = 3,
  U32 = 4,
  I32 = 5,
  F32 = 6,
  Bool = 7,
  String = 8,
  Array = 9,
  U64 = 10,
  I64 = 11,
  F64 = 12,
};
inline constexpr std::uint32_t kGgufValueTypeCount = 13;

// "UINT32", "ARRAY", ... as llama.cpp's tools print them; "type 17" for an unknown id.
std::string to_string(GgufValueType type);

// Bytes one element of a fixed-size type takes on disk; 0 for String and Array.
std::size_t gguf_value_size(GgufValueType type);

class GgufArray;

// Typed element storage of an array, again indexed by the element's on-disk type id. Arrays of
// arrays nest (std::vector allows the incomplete element type).
using GgufElements =
    std::variant<std::vector<std::uint8_t>, std::vector<std::int8_t>, std::vector<std::uint16_t>,
                 std::vector<std::int16_t>, std::vector<std::uint32_t>, std::vector<std::int32_t>,
                 std::vector<float>, std::vector<bool>, std::vector<std::string>,
                 std::vector<GgufArray>, std::vector<std::uint64_t>, std::vector<std::int64_t>,
                 std::vector<double>>;

class GgufArray {
 public:
  GgufArray() : elements_(std::vector<std::uint8_t>{}) {}
  template <typename T>
  explicit GgufArray(std::vector<T> elements) : elements_(std::move(elements)) {}
  explicit GgufArray(GgufElements elements) : elements_(std::move(elements)) {}

  GgufValueType element_type() const { return static_cast<GgufValueType>(elements_.index()); }
  std::size_t size() const;
  const GgufElements& elements() const { return elements_; }
  // The elements as std::vector<T>; precis::Error naming both types when T does not match.
  template <typename T>
  const std::vector<T>& as() const;

  friend bool operator==(const GgufArray&, const GgufArray&) = default;

 private:
  GgufElements elements_;
};

// Index i holds on-disk type i.
using GgufVariant = std::variant<std::uint8_t, std::int8_t, std::uint16_t, std::int16_t,
                                 std::uint32_t, std::int32_t, float, bool, std::string, GgufArray,
                                 std::uint64_t, std::int64_t, double>;

// One metadata value.
class GgufValue {
 public:
  GgufValue() : GgufValue(std::uint8_t{0}) {}
  GgufValue(std::uint8_t v) : value_(v) {}
  GgufValue(std::int8_t v) : value_(v) {}
  GgufValue(std::uint16_t v) : value_(v) {}
  GgufValue(std::int16_t v) : value_(v) {}
  GgufValue(std::uint32_t v) : value_(v) {}
  GgufValue(std::int32_t v) : value_(v) {}
  GgufValue(float v) : value_(v) {}
  GgufValue(bool v) : value_(v) {}
  GgufValue(std::string v) : value_(std::move(v)) {}
  GgufValue(const char* v) : value_(std::string(v)) {}
  GgufValue(std::uint64_t v) : value_(v) {}
  GgufValue(std::int64_t v) : value_(v) {}
  GgufValue(double v) : value_(v) {}
  GgufValue(GgufArray v) : value_(std::move(v)) {}
  template <typename T>
  GgufValue(std::vector<T> v) : GgufValue(GgufArray(std::move(v))) {}

  GgufValueType type() const { return static_cast<GgufValueType>(value_.index()); }
  bool is_array() const { return type() == GgufValueType::Array; }
  const GgufArray& array() const;  // precis::Error unless is_array()

  // Strictly typed access: T must be the C++ type of the stored on-disk type, or std::vector<E>
  // of an array's element type. A mismatch is a precis::Error naming both types.
  template <typename T>
  T get() const;

  // Any integer type, range-checked into int64 (files disagree on u32 vs u64 for counts).
  std::int64_t to_int() const;
  // F32 or F64 (or any integer), as double.
  double to_double() const;

  // Short human-readable rendering; arrays longer than `max_items` are elided.
  std::string to_display(std::size_t max_items = 8) const;

  const GgufVariant& variant() const { return value_; }

  friend bool operator==(const GgufValue&, const GgufValue&) = default;

 private:
  GgufVariant value_;
};

namespace detail {
template <typename T>
struct is_vector : std::false_type {};
template <typename T>
struct is_vector<std::vector<T>> : std::true_type {
  using element = T;
};
[[noreturn]] void gguf_type_mismatch(std::string_view wanted, GgufValueType actual, bool element);
template <typename T>
constexpr std::string_view gguf_cpp_name() {
  if constexpr (std::is_same_v<T, std::uint8_t>) return "UINT8";
  if constexpr (std::is_same_v<T, std::int8_t>) return "INT8";
  if constexpr (std::is_same_v<T, std::uint16_t>) return "UINT16";
  if constexpr (std::is_same_v<T, std::int16_t>) return "INT16";
  if constexpr (std::is_same_v<T, std::uint32_t>) return "UINT32";
  if constexpr (std::is_same_v<T, std::int32_t>) return "INT32";
  if constexpr (std::is_same_v<T, float>) return "FLOAT32";
  if constexpr (std::is_same_v<T, bool>) return "BOOL";
  if constexpr (std::is_same_v<T, std::string>) return "STRING";
  if constexpr (std::is_same_v<T, GgufArray>) return "ARRAY";
  if constexpr (std::is_same_v<T, std::uint64_t>) return "UINT64";
  if constexpr (std::is_same_v<T, std::int64_t>) return "INT64";
  if constexpr (std::is_same_v<T, double>) return "FLOAT64";
  return "?";
}
}  // namespace detail

template <typename T>
const std::vector<T>& GgufArray::as() const {
  if (auto* v = std::get_if<std::vector<T>>(&elements_)) return *v;
  detail::gguf_type_mismatch(detail::gguf_cpp_name<T>(), element_type(), true);
}

template <typename T>
T GgufValue::get() const {
  if constexpr (detail::is_vector<T>::value) {
    return array().as<typename detail::is_vector<T>::element>();
  } else if constexpr (std::is_same_v<T, GgufArray>) {
    return array();
  } else {
    if (auto* v = std::get_if<T>(&value_)) return *v;
    detail::gguf_type_mismatch(detail::gguf_cpp_name<T>(), type(), false);
  }
}

}  // namespace precis::io
