#pragma once
/// @file Hugging Face safetensors files: a bounds-checked header parser over bytes in memory, a
/// memory-mapped file wrapper, sharded folders (model.safetensors.index.json), and dtype conversion to f32.
///
/// Format: 8-byte little-endian header length N, N bytes of JSON `{name: {dtype, shape, data_offsets}}`
/// (plus an optional "__metadata__" object of strings), then the raw data; offsets are relative to the data.
/// Every length and offset is validated before any tensor byte is touched.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "uag/core/error.hpp"

namespace uag {

/// @brief Element types a safetensors file may declare.
enum class dtype { f64, f32, f16, bf16, i64, i32, i16, i8, u64, u32, u16, u8, boolean, f8_e4m3, f8_e5m2 };

/// @brief The dtype named by a safetensors dtype string ("F32", "BF16", ...), or nullopt if unknown.
inline std::optional<dtype> dtype_from_string(std::string_view s) noexcept {
  static constexpr std::pair<std::string_view, dtype> names[] = {
      {"F64", dtype::f64},   {"F32", dtype::f32},   {"F16", dtype::f16},         {"BF16", dtype::bf16},
      {"I64", dtype::i64},   {"I32", dtype::i32},   {"I16", dtype::i16},         {"I8", dtype::i8},
      {"U64", dtype::u64},   {"U32", dtype::u32},   {"U16", dtype::u16},         {"U8", dtype::u8},
      {"BOOL", dtype::boolean}, {"F8_E4M3", dtype::f8_e4m3}, {"F8_E5M2", dtype::f8_e5m2}};
  for (const auto& [name, t] : names)
    if (name == s) return t;
  return std::nullopt;
}

/// @brief The safetensors spelling of t.
inline std::string_view to_string(dtype t) noexcept {
  switch (t) {
    case dtype::f64: return "F64";
    case dtype::f32: return "F32";
    case dtype::f16: return "F16";
    case dtype::bf16: return "BF16";
    case dtype::i64: return "I64";
    case dtype::i32: return "I32";
    case dtype::i16: return "I16";
    case dtype::i8: return "I8";
    case dtype::u64: return "U64";
    case dtype::u32: return "U32";
    case dtype::u16: return "U16";
    case dtype::u8: return "U8";
    case dtype::boolean: return "BOOL";
    case dtype::f8_e4m3: return "F8_E4M3";
    case dtype::f8_e5m2: return "F8_E5M2";
  }
  return "?";
}

/// @brief Bytes per element of t.
inline std::size_t dtype_size(dtype t) noexcept {
  switch (t) {
    case dtype::f64: case dtype::i64: case dtype::u64: return 8;
    case dtype::f32: case dtype::i32: case dtype::u32: return 4;
    case dtype::f16: case dtype::bf16: case dtype::i16: case dtype::u16: return 2;
    default: return 1;
  }
}

/// @brief One tensor declared in a safetensors header.
struct tensor_info {
  std::string name;
  dtype type = dtype::f32;
  std::vector<std::size_t> shape;  // row-major, outermost first; empty = scalar
  std::size_t begin = 0;           // byte offset of the first element, relative to the data section
  std::size_t end = 0;             // one past the last byte, relative to the data section

  /// @brief Number of elements (1 for a scalar).
  std::size_t n_elements() const noexcept {
    std::size_t n = 1;
    for (std::size_t d : shape) n *= d;
    return n;
  }
};

/// @brief Longest header accepted (the reference implementation's limit).
inline constexpr std::size_t safetensors_max_header_bytes = 100'000'000;
/// @brief Highest tensor rank accepted.
inline constexpr std::size_t safetensors_max_rank = 16;
/// @brief Deepest JSON nesting accepted in headers and config files (guards the parser's stack).
inline constexpr int json_max_depth = 32;

namespace detail {

/// @brief Parses JSON with a nesting limit; throws format_error "[uag.<id>] ..." on any problem.
/// `top_level_keys`, when given, receives every key of the top-level object in order (duplicates included).
inline nlohmann::json parse_json_limited(std::string_view text, std::string_view id, std::string_view what,
                                         std::vector<std::string>* top_level_keys = nullptr) {
  try {
    return nlohmann::json::parse(
        text.begin(), text.end(),
        [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
          if (depth > json_max_depth)
            throw format_error(id, std::string(what) + " nests deeper than " + std::to_string(json_max_depth));
          if (top_level_keys && event == nlohmann::json::parse_event_t::key && depth == 1)
            top_level_keys->push_back(parsed.get<std::string>());
          return true;
        });
  } catch (const nlohmann::json::exception& e) {
    throw format_error(id, std::string(what) + " is not valid JSON: " + e.what());
  }
}

/// @brief IEEE half to float, exact (subnormals, infinities and NaN included).
inline float half_to_float(std::uint16_t h) noexcept {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t exp = (h >> 10) & 0x1fu;
  const std::uint32_t mant = h & 0x3ffu;
  if (exp == 0) {
    const float mag = static_cast<float>(mant) * 0x1p-24f;
    return std::bit_cast<float>(std::bit_cast<std::uint32_t>(mag) | sign);
  }
  if (exp == 31) return std::bit_cast<float>(sign | 0x7f800000u | (mant << 13));
  return std::bit_cast<float>(sign | ((exp + 112u) << 23) | (mant << 13));
}

/// @brief bfloat16 to float (exact: bf16 is the top half of a float).
inline float bf16_to_float(std::uint16_t b) noexcept {
  return std::bit_cast<float>(static_cast<std::uint32_t>(b) << 16);
}

/// @brief Read-only memory map of a whole file (POSIX). Empty files map to an empty span.
class mapped_file {
 public:
  explicit mapped_file(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw io_error("io.open", "cannot open '" + path.string() + "': " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      throw io_error("io.open", "'" + path.string() + "' is not a regular file");
    }
    size_ = static_cast<std::size_t>(st.st_size);
    if (size_ > 0) {
      void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
      if (p == MAP_FAILED) {
        const int err = errno;
        ::close(fd);
        throw io_error("io.mmap", "cannot map '" + path.string() + "': " + std::strerror(err));
      }
      data_ = p;
    }
    ::close(fd);
  }
  mapped_file(const mapped_file&) = delete;
  mapped_file& operator=(const mapped_file&) = delete;
  ~mapped_file() {
    if (data_) ::munmap(data_, size_);
  }
  std::span<const std::byte> bytes() const noexcept { return {static_cast<const std::byte*>(data_), size_}; }

 private:
  void* data_ = nullptr;
  std::size_t size_ = 0;
};

inline std::uint64_t read_u64_le(const std::byte* p) noexcept {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<std::uint64_t>(p[i]);
  return v;
}

}  // namespace detail

/// @brief A parsed safetensors file: the validated tensor table plus a view of its data.
/// parse() views caller-owned bytes (which must outlive it); open() owns a memory map.
class safetensors_file {
 public:
  /// @brief Parses and validates a whole safetensors file held in memory.
  /// requires: bytes stays alive and unchanged while the result (or a copy) is used.
  /// throws: format_error with ids uag.safetensors.{too_small, header_size, json, entry, dtype, shape,
  ///         offset, size, overlap, duplicate, metadata}. cost: O(header size + n log n tensors).
  static safetensors_file parse(std::span<const std::byte> bytes, std::string source = "<memory>") {
    safetensors_file f;
    f.source_ = std::move(source);
    f.parse_into(bytes);
    return f;
  }

  /// @brief Memory-maps and parses the file at path. throws: io_error, or as parse().
  static safetensors_file open(const std::filesystem::path& path) {
    auto map = std::make_shared<detail::mapped_file>(path);
    safetensors_file f;
    f.source_ = path.string();
    f.parse_into(map->bytes());
    f.map_ = std::move(map);
    return f;
  }

  /// @brief All tensors, sorted by name.
  const std::vector<tensor_info>& tensors() const noexcept { return tensors_; }
  /// @brief The "__metadata__" strings (empty if absent).
  const std::map<std::string, std::string>& metadata() const noexcept { return metadata_; }
  /// @brief Where the bytes came from (a path or "<memory>"), for error messages.
  const std::string& source() const noexcept { return source_; }

  /// @brief The tensor named name, or nullptr.
  const tensor_info* find(std::string_view name) const noexcept {
    auto it = std::lower_bound(tensors_.begin(), tensors_.end(), name,
                               [](const tensor_info& t, std::string_view n) { return t.name < n; });
    return (it != tensors_.end() && it->name == name) ? &*it : nullptr;
  }

  /// @brief The raw bytes of t. requires: t belongs to this file (validated at parse time).
  std::span<const std::byte> bytes(const tensor_info& t) const noexcept {
    return data_.subspan(t.begin, t.end - t.begin);
  }

  /// @brief Converts t to float32 into out. requires: out.size() == t.n_elements().
  /// throws: unsupported_error "[uag.safetensors.dtype_unsupported]" for integer/bool/f8 tensors.
  void to_f32(const tensor_info& t, std::span<float> out) const {
    const std::byte* p = data_.data() + t.begin;
    const std::size_t n = t.n_elements();
    if (out.size() != n)
      throw input_error("safetensors.convert", "tensor '" + t.name + "' has " + std::to_string(n) +
                                                   " elements, destination " + std::to_string(out.size()));
    switch (t.type) {
      case dtype::f32:
        std::memcpy(out.data(), p, n * 4);
        return;
      case dtype::f64:
        for (std::size_t i = 0; i < n; ++i) {
          double d;
          std::memcpy(&d, p + 8 * i, 8);
          out[i] = static_cast<float>(d);
        }
        return;
      case dtype::f16:
      case dtype::bf16: {
        const bool is_bf16 = t.type == dtype::bf16;
        for (std::size_t i = 0; i < n; ++i) {
          std::uint16_t h;
          std::memcpy(&h, p + 2 * i, 2);
          out[i] = is_bf16 ? detail::bf16_to_float(h) : detail::half_to_float(h);
        }
        return;
      }
      default:
        throw unsupported_error("safetensors.dtype_unsupported",
                                "tensor '" + t.name + "' has dtype " + std::string(to_string(t.type)) +
                                    "; only F32, F16, BF16 and F64 convert to float32 (in " + source_ + ")");
    }
  }

 private:
  safetensors_file() = default;

  void parse_into(std::span<const std::byte> bytes) {
    if (bytes.size() < 8)
      throw format_error("safetensors.too_small", source_ + " has " + std::to_string(bytes.size()) +
                                                      " bytes; a safetensors file starts with an 8-byte header length");
    const std::uint64_t n = detail::read_u64_le(bytes.data());
    if (n > safetensors_max_header_bytes)
      throw format_error("safetensors.header_size", source_ + " declares a header of " + std::to_string(n) +
                                                        " bytes (limit " + std::to_string(safetensors_max_header_bytes) + ")");
    if (n > bytes.size() - 8)
      throw format_error("safetensors.header_size", source_ + " declares a header of " + std::to_string(n) +
                                                        " bytes but only " + std::to_string(bytes.size() - 8) +
                                                        " follow the length");
    const std::string_view header(reinterpret_cast<const char*>(bytes.data() + 8), static_cast<std::size_t>(n));
    data_ = bytes.subspan(8 + static_cast<std::size_t>(n));

    std::vector<std::string> keys;
    const nlohmann::json j = detail::parse_json_limited(header, "safetensors.json", source_ + " header", &keys);
    if (!j.is_object()) throw format_error("safetensors.json", source_ + " header is not a JSON object");
    {
      std::set<std::string_view> seen;
      for (const auto& k : keys)
        if (!seen.insert(k).second)
          throw format_error("safetensors.duplicate", source_ + " declares tensor '" + k + "' twice");
    }
    tensors_.reserve(j.size());
    for (const auto& [name, entry] : j.items()) {
      if (name == "__metadata__") {
        if (!entry.is_object()) throw format_error("safetensors.metadata", source_ + " __metadata__ is not an object");
        for (const auto& [k, v] : entry.items()) {
          if (!v.is_string())
            throw format_error("safetensors.metadata", source_ + " __metadata__ value '" + k + "' is not a string");
          metadata_[k] = v.get<std::string>();
        }
        continue;
      }
      tensors_.push_back(parse_entry(name, entry));
    }
    std::sort(tensors_.begin(), tensors_.end(), [](const tensor_info& a, const tensor_info& b) { return a.name < b.name; });

    // Overlap check on the byte ranges (empty tensors occupy nothing).
    std::vector<const tensor_info*> by_offset;
    for (const auto& t : tensors_)
      if (t.end > t.begin) by_offset.push_back(&t);
    std::sort(by_offset.begin(), by_offset.end(),
              [](const tensor_info* a, const tensor_info* b) { return a->begin < b->begin; });
    for (std::size_t i = 1; i < by_offset.size(); ++i)
      if (by_offset[i]->begin < by_offset[i - 1]->end)
        throw format_error("safetensors.overlap", "tensors '" + by_offset[i - 1]->name + "' [" +
                                                      std::to_string(by_offset[i - 1]->begin) + ", " +
                                                      std::to_string(by_offset[i - 1]->end) + ") and '" +
                                                      by_offset[i]->name + "' [" + std::to_string(by_offset[i]->begin) +
                                                      ", " + std::to_string(by_offset[i]->end) + ") overlap in " + source_);
  }

  tensor_info parse_entry(const std::string& name, const nlohmann::json& e) const {
    const std::string where = "tensor '" + name + "' in " + source_;
    if (!e.is_object()) throw format_error("safetensors.entry", where + " is not an object");
    auto field = [&](const char* key) -> const nlohmann::json& {
      auto it = e.find(key);
      if (it == e.end()) throw format_error("safetensors.entry", where + " has no '" + key + "'");
      return *it;
    };
    tensor_info t;
    t.name = name;
    const auto& jd = field("dtype");
    if (!jd.is_string()) throw format_error("safetensors.dtype", where + ": dtype is not a string");
    const auto dt = dtype_from_string(jd.get_ref<const std::string&>());
    if (!dt) throw format_error("safetensors.dtype", where + " has unknown dtype '" + jd.get<std::string>() + "'");
    t.type = *dt;

    const auto& js = field("shape");
    if (!js.is_array()) throw format_error("safetensors.shape", where + ": shape is not an array");
    if (js.size() > safetensors_max_rank)
      throw format_error("safetensors.shape", where + " has rank " + std::to_string(js.size()) + " (limit " +
                                                  std::to_string(safetensors_max_rank) + ")");
    // Element count with overflow detection; any product above 2^62 bytes cannot fit in a file anyway.
    constexpr std::uint64_t limit = std::uint64_t{1} << 62;
    std::uint64_t count = 1;
    for (const auto& d : js) {
      if (!d.is_number_unsigned())
        throw format_error("safetensors.shape", where + " has a shape entry that is not a non-negative integer: " + d.dump());
      const std::uint64_t v = d.get<std::uint64_t>();
      if (v != 0 && count > limit / v)
        throw format_error("safetensors.shape", where + " has a shape whose size overflows: " + js.dump());
      count *= v;
      t.shape.push_back(static_cast<std::size_t>(v));
    }
    if (count > limit / 8) throw format_error("safetensors.shape", where + " is too large: " + js.dump());
    const std::uint64_t want_bytes = count * dtype_size(t.type);

    const auto& jo = field("data_offsets");
    if (!jo.is_array() || jo.size() != 2 || !jo[0].is_number_unsigned() || !jo[1].is_number_unsigned())
      throw format_error("safetensors.offset", where + ": data_offsets must be [begin, end] non-negative integers, got " + jo.dump());
    const std::uint64_t b = jo[0].get<std::uint64_t>(), en = jo[1].get<std::uint64_t>();
    if (b > en)
      throw format_error("safetensors.offset", where + " begins at " + std::to_string(b) + " after its end " + std::to_string(en));
    if (en > data_.size())
      throw format_error("safetensors.offset", where + " ends at " + std::to_string(en) + " but the data section has " +
                                                   std::to_string(data_.size()) + " bytes (file shorter than declared)");
    if (en - b != want_bytes)
      throw format_error("safetensors.size", where + " spans " + std::to_string(en - b) + " bytes but dtype " +
                                                 std::string(to_string(t.type)) + " x shape " + js.dump() + " needs " +
                                                 std::to_string(want_bytes));
    t.begin = static_cast<std::size_t>(b);
    t.end = static_cast<std::size_t>(en);
    return t;
  }

  std::shared_ptr<detail::mapped_file> map_;  // null for parse(); keeps data_ alive for open()
  std::span<const std::byte> data_;            // the data section (after the header)
  std::vector<tensor_info> tensors_;           // sorted by name
  std::map<std::string, std::string> metadata_;
  std::string source_;
};

/// @brief A tensor found in a safetensors_set: which file, which entry.
struct located_tensor {
  const safetensors_file* file = nullptr;
  const tensor_info* info = nullptr;
};

/// @brief The weights of one model: one safetensors file or the shards named by an index.
class safetensors_set {
 public:
  /// @brief Combines already parsed files. throws: format_error "[uag.safetensors.duplicate]" when two
  /// files hold the same tensor name.
  static safetensors_set from_files(std::vector<safetensors_file> files) {
    safetensors_set s;
    s.files_ = std::make_shared<std::vector<safetensors_file>>(std::move(files));
    for (const auto& f : *s.files_)
      for (const auto& t : f.tensors()) {
        auto [it, fresh] = s.index_.emplace(t.name, located_tensor{&f, &t});
        if (!fresh)
          throw format_error("safetensors.duplicate", "tensor '" + t.name + "' is in both " +
                                                          it->second.file->source() + " and " + f.source());
      }
    return s;
  }

  /// @brief Parses a model.safetensors.index.json text (`{"weight_map": {tensor: file}}`) and returns the
  /// distinct shard file names in first-seen order plus the map. throws: format_error "[uag.safetensors.index]".
  static std::pair<std::vector<std::string>, std::map<std::string, std::string>> parse_index(std::string_view text) {
    const auto j = detail::parse_json_limited(text, "safetensors.index", "model.safetensors.index.json");
    if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
      throw format_error("safetensors.index", "model.safetensors.index.json has no 'weight_map' object");
    std::vector<std::string> shards;
    std::map<std::string, std::string> map;
    for (const auto& [tensor, file] : j["weight_map"].items()) {
      if (!file.is_string())
        throw format_error("safetensors.index", "weight_map entry '" + tensor + "' is not a file name");
      const std::string name = file.get<std::string>();
      const std::filesystem::path p(name);
      bool bad = name.empty() || p.is_absolute();
      for (const auto& part : p)
        if (part == "..") bad = true;
      if (bad) throw format_error("safetensors.index", "weight_map entry '" + tensor + "' names an unsafe file '" + name + "'");
      if (std::find(shards.begin(), shards.end(), name) == shards.end()) shards.push_back(name);
      map.emplace(tensor, name);
    }
    if (shards.empty()) throw format_error("safetensors.index", "model.safetensors.index.json maps no tensors");
    return {std::move(shards), std::move(map)};
  }

  /// @brief Opens dir/model.safetensors.index.json (and its shards) if present, else dir/model.safetensors.
  /// throws: io_error "[uag.io.open]" if neither exists; format_error as parse() and parse_index(), and
  /// "[uag.safetensors.missing]" when the index names a tensor its shard lacks.
  static safetensors_set open_folder(const std::filesystem::path& dir) {
    const auto index_path = dir / "model.safetensors.index.json";
    const auto single_path = dir / "model.safetensors";
    if (std::filesystem::exists(index_path)) {
      std::ifstream in(index_path, std::ios::binary);
      if (!in) throw io_error("io.open", "cannot open '" + index_path.string() + "'");
      const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      auto [shards, map] = parse_index(text);
      std::vector<safetensors_file> files;
      for (const auto& s : shards) files.push_back(safetensors_file::open(dir / s));
      auto set = from_files(std::move(files));
      for (const auto& [tensor, file] : map) {
        auto hit = set.find(tensor);
        if (!hit || std::filesystem::path(hit->file->source()).filename() != std::filesystem::path(file).filename())
          throw format_error("safetensors.missing", "index maps tensor '" + tensor + "' to '" + file +
                                                        "' but that file has no such tensor");
      }
      return set;
    }
    if (!std::filesystem::exists(single_path))
      throw io_error("io.open", "'" + dir.string() + "' has neither model.safetensors nor model.safetensors.index.json");
    std::vector<safetensors_file> files;
    files.push_back(safetensors_file::open(single_path));
    return from_files(std::move(files));
  }

  /// @brief The tensor named name in any file, or nullopt.
  std::optional<located_tensor> find(std::string_view name) const {
    auto it = index_.find(std::string(name));
    if (it == index_.end()) return std::nullopt;
    return it->second;
  }

  /// @brief The files, in the order given.
  const std::vector<safetensors_file>& files() const noexcept { return *files_; }

 private:
  std::shared_ptr<std::vector<safetensors_file>> files_;  // stable addresses for index_
  std::map<std::string, located_tensor> index_;
};

}  // namespace uag
