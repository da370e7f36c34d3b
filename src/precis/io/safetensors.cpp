#include "precis/io/safetensors.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "precis/core/atomic_file.hpp"
#include "precis/core/error.hpp"
#include "precis/formats/half.hpp"

namespace precis::io {
namespace {

using nlohmann::json;

// The Rust reference implementation refuses headers above 100 MB; so do we, before allocating.
constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;

struct DtypeName {
  Dtype dtype;
  std::string_view name;
  std::size_t size;
};
constexpr DtypeName kDtypes[] = {
    {Dtype::F32, "F32", 4}, {Dtype::F16, "F16", 2}, {Dtype::BF16, "BF16", 2},
    {Dtype::I8, "I8", 1},   {Dtype::U8, "U8", 1},   {Dtype::I16, "I16", 2},
    {Dtype::U16, "U16", 2}, {Dtype::I32, "I32", 4}, {Dtype::I64, "I64", 8},
    {Dtype::U32, "U32", 4},
};

std::uint64_t read_u64_le(const std::byte* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<std::uint8_t>(p[i]);
  return v;
}

// Product of the dims, or fail when it overflows (such a shape cannot match any real byte count).
std::uint64_t checked_numel(const std::vector<std::int64_t>& shape, const std::string& where) {
  std::uint64_t n = 1;
  for (std::int64_t d : shape) {
    if (__builtin_mul_overflow(n, static_cast<std::uint64_t>(d), &n)) {
      fail("{}: the shape's element count overflows 64 bits (corrupt header)", where);
    }
  }
  return n;
}

TensorInfo parse_entry(const std::string& name, const json& entry,
                       std::span<const std::byte> buffer, const std::string& where,
                       std::uint64_t& begin_out) {
  std::string at = fmt::format("{}: tensor '{}'", where, name);
  require(entry.is_object(), "{} is not a JSON object (corrupt header)", at);
  require(entry.size() == 3 && entry.contains("dtype") && entry.contains("shape") &&
              entry.contains("data_offsets"),
          "{} must have exactly the keys dtype, shape and data_offsets (corrupt header)", at);
  const json& dtype = entry["dtype"];
  require(dtype.is_string(), "{}: dtype is not a string (corrupt header)", at);
  TensorInfo t;
  t.name = name;
  try {
    t.dtype = parse_dtype(dtype.get<std::string>());
  } catch (const Error& e) {
    fail("{}: {}", at, e.what());
  }
  const json& shape = entry["shape"];
  require(shape.is_array(), "{}: shape is not an array (corrupt header)", at);
  for (const json& d : shape) {
    require(d.is_number_unsigned() && d.get<std::uint64_t>() <= INT64_MAX,
            "{}: shape entries must be non-negative integers (corrupt header)", at);
    t.shape.push_back(static_cast<std::int64_t>(d.get<std::uint64_t>()));
  }
  const json& offsets = entry["data_offsets"];
  require(offsets.is_array() && offsets.size() == 2 && offsets[0].is_number_unsigned() &&
              offsets[1].is_number_unsigned(),
          "{}: data_offsets must be two non-negative integers [begin, end] (corrupt header)", at);
  std::uint64_t begin = offsets[0].get<std::uint64_t>();
  std::uint64_t end = offsets[1].get<std::uint64_t>();
  require(begin <= end, "{}: data_offsets [{}, {}] run backwards (corrupt header)", at, begin, end);
  require(end <= buffer.size(),
          "{}: data_offsets [{}, {}] reach past the {}-byte data buffer (truncated file?)", at,
          begin, end, buffer.size());
  std::uint64_t numel = checked_numel(t.shape, at);
  std::uint64_t bytes = 0;
  require(!__builtin_mul_overflow(numel, dtype_size(t.dtype), &bytes) && bytes == end - begin,
          "{}: {} bytes stored but shape × {} needs {} (corrupt header)", at, end - begin,
          to_string(t.dtype), numel * dtype_size(t.dtype));
  t.data = buffer.subspan(begin, end - begin);
  begin_out = begin;
  return t;
}

}  // namespace

std::size_t dtype_size(Dtype dtype) {
  for (const auto& d : kDtypes) {
    if (d.dtype == dtype) return d.size;
  }
  fail("unknown dtype {}", static_cast<int>(dtype));
}

std::string_view to_string(Dtype dtype) {
  for (const auto& d : kDtypes) {
    if (d.dtype == dtype) return d.name;
  }
  fail("unknown dtype {}", static_cast<int>(dtype));
}

Dtype parse_dtype(std::string_view text) {
  for (const auto& d : kDtypes) {
    if (d.name == text) return d.dtype;
  }
  fail("unsupported dtype '{}' (precis reads F32, F16, BF16, I8, U8, I16, U16, I32, I64, U32)",
       text);
}

std::int64_t TensorInfo::numel() const {
  std::int64_t n = 1;
  for (std::int64_t d : shape) n *= d;
  return n;
}

void copy_to_f32(const TensorInfo& tensor, std::span<float> out) {
  require(out.size() == static_cast<std::size_t>(tensor.numel()),
          "tensor '{}' has {} elements, but {} were expected", tensor.name, tensor.numel(),
          out.size());
  const std::byte* p = tensor.data.data();
  switch (tensor.dtype) {
    case Dtype::F32:
      if (!out.empty()) std::memcpy(out.data(), p, out.size() * 4);
      return;
    case Dtype::F16:
    case Dtype::BF16:
      for (std::size_t i = 0; i < out.size(); ++i) {
        std::uint16_t h;
        std::memcpy(&h, p + 2 * i, 2);
        out[i] = tensor.dtype == Dtype::F16 ? formats::fp16_to_fp32(h) : formats::bf16_to_fp32(h);
      }
      return;
    default:
      fail("tensor '{}' is {}, not a floating-point tensor (F32, F16 or BF16)", tensor.name,
           to_string(tensor.dtype));
  }
}

SafetensorsFile SafetensorsFile::parse(std::span<const std::byte> bytes, std::string_view source) {
  SafetensorsFile file;
  file.source_ = std::string(source);
  const std::string& where = file.source_;
  require(bytes.size() >= 8, "{}: {} bytes is too short for a safetensors file (truncated?)", where,
          bytes.size());
  std::uint64_t header_bytes = read_u64_le(bytes.data());
  require(header_bytes <= bytes.size() - 8,
          "{}: the header claims {} bytes but the file holds only {} after the size field "
          "(truncated or not a safetensors file)",
          where, header_bytes, bytes.size() - 8);
  require(header_bytes <= kMaxHeaderBytes, "{}: header of {} bytes exceeds the 100 MB limit", where,
          header_bytes);
  std::string_view text(reinterpret_cast<const char*>(bytes.data() + 8), header_bytes);
  std::span<const std::byte> buffer = bytes.subspan(8 + header_bytes);

  // Duplicate names would silently shadow each other in a JSON object; reject them while parsing.
  std::set<std::string> seen;
  std::string duplicate;
  json::parser_callback_t on_event = [&](int depth, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::key && depth == 1 && duplicate.empty()) {
      std::string key = parsed.get<std::string>();
      if (!seen.insert(key).second) duplicate = key;
    }
    return true;
  };
  json header = json::parse(text, on_event, /*allow_exceptions=*/false);
  require(!header.is_discarded(), "{}: the header is not valid JSON (corrupt file)", where);
  require(header.is_object(), "{}: the header is not a JSON object (corrupt file)", where);
  require(duplicate.empty(), "{}: the header names '{}' twice (corrupt file)", where, duplicate);

  std::vector<std::pair<std::uint64_t, std::size_t>> order;  // (begin, index) to check tiling
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") {
      require(it.value().is_object(), "{}: __metadata__ is not a JSON object", where);
      for (auto m = it.value().begin(); m != it.value().end(); ++m) {
        require(m.value().is_string(), "{}: __metadata__ value '{}' is not a string", where,
                m.key());
        file.metadata_[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    std::uint64_t begin = 0;
    file.tensors_.push_back(parse_entry(it.key(), it.value(), buffer, where, begin));
    order.emplace_back(begin, file.tensors_.size() - 1);
  }
  // Sorting by (begin, size) puts empty tensors before a non-empty one at the same offset.
  std::sort(order.begin(), order.end(), [&](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first < b.first;
    return file.tensors_[a.second].data.size() < file.tensors_[b.second].data.size();
  });
  std::uint64_t expected = 0;
  std::vector<TensorInfo> sorted;
  sorted.reserve(order.size());
  for (const auto& [begin, index] : order) {
    const TensorInfo& t = file.tensors_[index];
    require(begin == expected,
            "{}: tensor '{}' starts at byte {} of the data buffer but the previous tensor ends at "
            "{} (overlapping or gapped tensors: corrupt file)",
            where, t.name, begin, expected);
    expected = begin + t.data.size();
    sorted.push_back(t);
  }
  require(expected == buffer.size(),
          "{}: the tensors cover {} bytes but the data buffer holds {} (corrupt or padded file)",
          where, expected, buffer.size());
  file.tensors_ = std::move(sorted);
  return file;
}

SafetensorsFile SafetensorsFile::open(const std::filesystem::path& path) {
  std::string where = path.string();
  MappedFile mapping = MappedFile::open(path, "safetensors file");
  if (mapping.size() < 8) {
    fail("{}: {} bytes is too short for a safetensors file (truncated?)", where, mapping.size());
  }
  SafetensorsFile file = parse(mapping.bytes(), where);
  file.mapping_ = std::move(mapping);
  return file;
}

const std::string& SafetensorsFile::metadata_value(const std::string& key) const {
  auto it = metadata_.find(key);
  require(it != metadata_.end(), "{}: no '{}' in the metadata (not a file precis wrote?)", source_,
          key);
  return it->second;
}

const TensorInfo* SafetensorsFile::find(std::string_view name) const {
  for (const auto& t : tensors_) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

const TensorInfo& SafetensorsFile::get(std::string_view name) const {
  const TensorInfo* t = find(name);
  require(t != nullptr, "{}: no tensor named '{}'", source_, name);
  return *t;
}

void SafetensorsWriter::add(std::string name, Dtype dtype, std::vector<std::int64_t> shape,
                            std::span<const std::byte> data) {
  require(!name.empty() && name != "__metadata__", "'{}' cannot name a tensor", name);
  for (const auto& e : entries_) {
    require(e.name != name, "tensor '{}' added twice", name);
  }
  for (std::int64_t d : shape) require(d >= 0, "tensor '{}' has a negative dimension", name);
  std::uint64_t numel = checked_numel(shape, name);
  require(numel * dtype_size(dtype) == data.size(),
          "tensor '{}': {} bytes given but shape × {} needs {}", name, data.size(),
          to_string(dtype), numel * dtype_size(dtype));
  entries_.push_back({std::move(name), dtype, std::move(shape), data});
}

void SafetensorsWriter::add_f32(std::string name, std::vector<std::int64_t> shape,
                                std::span<const float> data) {
  add(std::move(name), Dtype::F32, std::move(shape), std::as_bytes(data));
}

void SafetensorsWriter::set_metadata(std::string key, std::string value) {
  metadata_[std::move(key)] = std::move(value);
}

std::string SafetensorsWriter::header_json() const {
  json header = json::object();
  if (!metadata_.empty()) header["__metadata__"] = metadata_;
  std::uint64_t offset = 0;
  for (const auto& e : entries_) {
    header[e.name] = {{"dtype", to_string(e.dtype)},
                      {"shape", e.shape},
                      {"data_offsets", {offset, offset + e.data.size()}}};
    offset += e.data.size();
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const json::exception&) {
    fail("a tensor name or metadata string is not valid UTF-8");
  }
  // Pad with spaces so the data buffer starts 8-byte aligned, as the reference writer does.
  text.append((8 - text.size() % 8) % 8, ' ');
  return text;
}

std::string SafetensorsWriter::serialize() const {
  std::string header = header_json();
  std::string out(8, '\0');
  std::uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xFF);
  out += header;
  for (const auto& e : entries_)
    out.append(reinterpret_cast<const char*>(e.data.data()), e.data.size());
  return out;
}

void SafetensorsWriter::write(const std::filesystem::path& path) const {
  std::string header = header_json();
  char size_field[8];
  std::uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) size_field[i] = static_cast<char>((n >> (8 * i)) & 0xFF);
  AtomicFile file(path);
  file.write(size_field, 8);
  file.write(header);
  for (const auto& e : entries_) file.write(e.data.data(), e.data.size());
  file.commit();
}

}  // namespace precis::io
