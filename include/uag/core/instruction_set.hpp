#pragma once
/// @file Which vector instruction set the reference transformer's kernels use: detected at run time
/// (cpuid + xgetbv on x86-64; NEON is part of the AArch64 baseline), overridable with the UAG_ISA
/// environment variable, so one binary built without -march runs everywhere and uses what the CPU has.
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "uag/core/error.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#define UAG_ISA_X86 1
#endif

namespace uag {

/// @brief A set of kernels, from the most portable to the fastest.
enum class instruction_set {
  automatic,  // the UAG_ISA environment variable if set, else the best this CPU supports
  scalar,     // portable C++ (std::fma): any CPU
  neon,       // AArch64 Advanced SIMD, 4 lanes
  avx2,       // x86-64-v3: AVX2 + FMA, 8 lanes
  avx512,     // x86-64-v4: AVX-512 F/BW/DQ/VL, 16 lanes
};

/// @brief The name UAG_ISA accepts for isa: "auto", "scalar", "neon", "avx2", "avx512".
inline constexpr std::string_view instruction_set_name(instruction_set isa) noexcept {
  switch (isa) {
    case instruction_set::automatic:
      return "auto";
    case instruction_set::scalar:
      return "scalar";
    case instruction_set::neon:
      return "neon";
    case instruction_set::avx2:
      return "avx2";
    case instruction_set::avx512:
      return "avx512";
  }
  return "?";
}

/// @brief Parses a name written by instruction_set_name(). throws: config_error "[uag.cpu.isa_name]".
inline instruction_set parse_instruction_set(std::string_view name) {
  for (auto isa : {instruction_set::automatic, instruction_set::scalar, instruction_set::neon,
                   instruction_set::avx2, instruction_set::avx512})
    if (name == instruction_set_name(isa)) return isa;
  throw config_error("cpu.isa_name", "unknown instruction set '" + std::string(name) +
                                         "' (expected auto, scalar, neon, avx2 or avx512)");
}

namespace detail {

#if defined(UAG_ISA_X86)
/// XCR0: the state components the OS saves on a context switch (a CPU feature is usable only if its
/// registers are saved). Raw opcode bytes: `xgetbv` needs no -mxsave that way.
inline unsigned long long read_xcr0() noexcept {
  unsigned eax = 0, edx = 0;
  __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<unsigned long long>(edx) << 32) | eax;
}
#endif

/// The best instruction set this CPU and OS support.
inline instruction_set detect_instruction_set() noexcept {
#if defined(UAG_ISA_X86)
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return instruction_set::scalar;
  const bool fma = c & (1u << 12), osxsave = c & (1u << 27), avx = c & (1u << 28);
  if (!(fma && osxsave && avx)) return instruction_set::scalar;
  const unsigned long long xcr0 = read_xcr0();
  if ((xcr0 & 0x6) != 0x6) return instruction_set::scalar;  // XMM and YMM state
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return instruction_set::scalar;
  const bool avx2 = b & (1u << 5);
  const bool avx512 =
      (b & (1u << 16)) && (b & (1u << 17)) && (b & (1u << 30)) && (b & (1u << 31));  // F DQ BW VL
  if (avx2 && avx512 && (xcr0 & 0xE6) == 0xE6) return instruction_set::avx512;       // + opmask, ZMM state
  if (avx2) return instruction_set::avx2;
  return instruction_set::scalar;
#elif defined(__aarch64__)
  return instruction_set::neon;  // Advanced SIMD is mandatory in AArch64
#else
  return instruction_set::scalar;
#endif
}

/// Whether the CPU has AVX512_BF16 (vdpbf16ps) on top of the AVX-512 set detect_instruction_set needs.
inline bool cpu_has_avx512_bf16() noexcept {
#if defined(UAG_ISA_X86)
  static const bool has = [] {
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (detect_instruction_set() != instruction_set::avx512 || !__get_cpuid_count(7, 1, &a, &b, &c, &d)) return false;
    return (a & (1u << 5)) != 0;
  }();
  return has;
#else
  return false;
#endif
}

/// Whether vdpbf16ps is worth taking over two FMAs for bfloat16 products: on AMD's cores (Zen 4, Zen 5,
/// measured in sessions 24-35) it does the work of two FMAs at their rate; Intel's issue one every two
/// cycles against two FMAs per cycle (bench_model BM_bf16_dot_peak on Emerald Rapids: 1.28 G/s against
/// 5.26-5.43 G/s), half the multiply-adds per second, so there the FMAs win at any row count. Results are
/// the same bits either way (matmul_kernels.inc).
inline bool cpu_prefers_bf16_dot() noexcept {
#if defined(UAG_ISA_X86)
  static const bool prefers = [] {
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!cpu_has_avx512_bf16() || !__get_cpuid(0, &a, &b, &c, &d)) return false;
    return b == 0x68747541u && d == 0x69746e65u && c == 0x444d4163u;  // "AuthenticAMD"
  }();
  return prefers;
#else
  return false;
#endif
}

}  // namespace detail

/// @brief True when this binary has kernels for isa and this CPU can run them (automatic: always).
inline bool instruction_set_supported(instruction_set isa) noexcept {
  static const instruction_set best = detail::detect_instruction_set();
  switch (isa) {
    case instruction_set::automatic:
    case instruction_set::scalar:
      return true;
    case instruction_set::neon:
      return best == instruction_set::neon;
    case instruction_set::avx2:
      return best == instruction_set::avx2 || best == instruction_set::avx512;
    case instruction_set::avx512:
      return best == instruction_set::avx512;
  }
  return false;
}

/// @brief The best instruction set this CPU supports (never automatic).
inline instruction_set best_instruction_set() noexcept {
  static const instruction_set best = detail::detect_instruction_set();
  return best;
}

/// @brief Every instruction set this CPU can run, best first (the last is scalar).
inline std::vector<instruction_set> supported_instruction_sets() {
  std::vector<instruction_set> r;
  for (auto isa :
       {instruction_set::avx512, instruction_set::avx2, instruction_set::neon, instruction_set::scalar})
    if (instruction_set_supported(isa)) r.push_back(isa);
  return r;
}

/// @brief Resolves a request: automatic becomes UAG_ISA when that is set (and not "auto"), else the best
/// supported. requires: nothing. throws: config_error "[uag.cpu.isa_name]" for an unknown UAG_ISA value;
/// unsupported_error "[uag.cpu.isa]" when the CPU (or this build) lacks the requested set.
inline instruction_set resolve_instruction_set(instruction_set requested = instruction_set::automatic) {
  if (requested == instruction_set::automatic) {
    const char* env = std::getenv("UAG_ISA");
    if (env && *env) requested = parse_instruction_set(env);
  }
  if (requested == instruction_set::automatic) return best_instruction_set();
  if (!instruction_set_supported(requested))
    throw unsupported_error("cpu.isa", "instruction set '" + std::string(instruction_set_name(requested)) +
                                           "' is not supported by this CPU (best: " +
                                           std::string(instruction_set_name(best_instruction_set())) + ")");
  return requested;
}

}  // namespace uag
