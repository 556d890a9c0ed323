// libFuzzer harness for the model file parsers: the safetensors header parser (and f32 conversion of every
// tensor it accepts), config.json and model.safetensors.index.json. The first byte picks the parser.
// Anything but a uag::error escaping, or a sanitizer report, is a finding.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "uag/model/model_config.hpp"
#include "uag/model/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t mode = data[0] % 3;
  const auto* rest = reinterpret_cast<const std::byte*>(data + 1);
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  try {
    switch (mode) {
      case 0: {
        const auto f = uag::safetensors_file::parse(std::span<const std::byte>(rest, size - 1));
        std::vector<float> out;
        for (const auto& t : f.tensors()) {
          if (t.type != uag::dtype::f32 && t.type != uag::dtype::f16 && t.type != uag::dtype::bf16 &&
              t.type != uag::dtype::f64)
            continue;
          out.resize(t.n_elements());
          f.to_f32(t, out);
        }
        break;
      }
      case 1:
        (void)uag::model_config::from_json(text);
        break;
      default:
        (void)uag::safetensors_set::parse_index(text);
        break;
    }
  } catch (const uag::error&) {
  }
  return 0;
}
