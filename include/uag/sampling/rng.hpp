#pragma once
/// @file A small, seeded, platform-independent random generator. std::mt19937 is portable but the
/// std distributions are not, so uag draws its own uniforms to keep runs reproducible everywhere.
#include <cstdint>

namespace uag {

/// @brief xoshiro256** (Blackman & Vigna 2018) seeded through splitmix64.
class rng {
 public:
  explicit rng(std::uint64_t seed = 0) noexcept { reseed(seed); }

  /// @brief Restarts the stream from seed.
  void reseed(std::uint64_t seed) noexcept {
    for (auto& w : s_) {
      seed += 0x9E3779B97F4A7C15ull;
      std::uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
      w = z ^ (z >> 31);
    }
  }

  /// @brief Next 64 random bits.
  std::uint64_t next_u64() noexcept {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  /// @brief Uniform double in [0, 1) with 53 random bits.
  double uniform() noexcept { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

 private:
  static constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4]{};
};

}  // namespace uag
