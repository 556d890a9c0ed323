#pragma once
/// @file The thin vector layer the kernels are written against: one `ops` struct per instruction set
/// (AVX-512, AVX2+FMA, NEON), each in its own namespace and compiled inside a target region, so one
/// binary built without -march holds every variant and picks one at run time (kernels.hpp).
///
/// Why a hand layer and not xsimd, Eigen packets or Highway: xsimd and Eigen pick their vector type
/// from the translation unit's -m flags (one ISA per TU, so a header-only library would need one TU
/// per ISA in every consumer), and Highway's run-time dispatch needs libhwy linked into every program
/// that includes uag's headers. The kernels need about 25 operations; the layer is those, nothing more.
///
/// Target regions: GCC does not inline a function into one compiled for a different target, so every
/// helper a kernel calls (these ops, tile dispatch, the group loop) is defined inside the same region
/// (kernels.inc is included once per ISA namespace, inside the region): the portable build's AVX-512
/// path then compiles to the same code as a -march=native build.
#include <cstddef>
#include <cstdint>

#include "uag/core/instruction_set.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define UAG_SIMD_X86 1
#endif
#if defined(__aarch64__) && defined(__ARM_NEON)
#include <arm_neon.h>
#define UAG_SIMD_NEON 1
#endif

#if defined(UAG_SIMD_X86)
#if defined(__clang__)
// clang-format off
#define UAG_TARGET_AVX512_BEGIN _Pragma("clang attribute push(__attribute__((target(\"avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,f16c,bmi,bmi2\"))), apply_to = function)")
// clang-format on
// clang-format off
#define UAG_TARGET_AVX512_BF16_BEGIN _Pragma("clang attribute push(__attribute__((target(\"avx512f,avx512bw,avx512dq,avx512vl,avx512bf16,avx2,fma,f16c,bmi,bmi2\"))), apply_to = function)")
// clang-format on
#define UAG_TARGET_AVX2_BEGIN \
  _Pragma("clang attribute push(__attribute__((target(\"avx2,fma,f16c,bmi,bmi2\"))), apply_to = function)")
#define UAG_TARGET_END _Pragma("clang attribute pop")
#else
#define UAG_TARGET_AVX512_BEGIN \
  _Pragma("GCC push_options")   \
      _Pragma("GCC target(\"avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,f16c,bmi,bmi2\")")
#define UAG_TARGET_AVX512_BF16_BEGIN \
  _Pragma("GCC push_options")        \
      _Pragma("GCC target(\"avx512f,avx512bw,avx512dq,avx512vl,avx512bf16,avx2,fma,f16c,bmi,bmi2\")")
#define UAG_TARGET_AVX2_BEGIN _Pragma("GCC push_options") _Pragma("GCC target(\"avx2,fma,f16c,bmi,bmi2\")")
#define UAG_TARGET_END _Pragma("GCC pop_options")
#endif
#endif

// Loops over a tile's registers (rows × vectors, bounds known at compile time) are unrolled at any -O
// level: the library is header-only and builds with its consumer's flags. At -O2, GCC 12 left the row
// loop of a 3-row tile rolled and kept its accumulators on the stack (a load and a store around every
// FMA pair): a 3-row verification pass of the bundled target cost 1.41-1.48x one row, 1.13-1.17x at -O3.
#if defined(__clang__)
#define UAG_UNROLL _Pragma("unroll")
#elif defined(__GNUC__)
#define UAG_UNROLL _Pragma("GCC unroll 64")
#else
#define UAG_UNROLL
#endif

// Each ops struct: vec (a float vector), mask (a lane mask for tails), lanes, and the tile shapes its
// register file suits (how many accumulators fit, see kernels.inc).

namespace uag::detail {

/// How far ahead the kernel prefetches the weights, in blocks (ops::weight_prefetch_blocks), into L2
/// (ops::prefetch_weights). Into L1, two blocks ahead (the choice before session 23), a block of the
/// bundled target (32 × 384 bfloat16, 24 KiB) put 48 KiB in flight for a 32 KiB L1: lines were evicted
/// before use, and the x rows and accumulators' spills with them. One block ahead into L2, bundled target,
/// one thread, bench_model BM_weight_prefetch: one row 1.38x faster (AVX-512) / 1.55x (AVX2), five rows
/// 1.08x / 1.23x.
inline constexpr std::size_t default_weight_prefetch_blocks = 1;

}  // namespace uag::detail

#if defined(UAG_SIMD_X86)
UAG_TARGET_AVX512_BEGIN
namespace uag::detail::avx512 {

// Masked forms (maskz with all lanes) where GCC 12's unmasked intrinsics read an "undefined" register
// and trip -Werror=maybe-uninitialized.
struct ops {
  static constexpr instruction_set isa = instruction_set::avx512;  // names the kernel tables
  using vec = __m512;
  using mask = __mmask16;
  static constexpr std::size_t lanes = 16;
  static constexpr float exp_floor = -104.0f;  // below this e^x is 0 in float32 (scalef handles subnormals)
  // matmul: vectors per tile for one row from memory / from cache, vectors and rows for several rows.
  static constexpr int single_memory_vectors = 2, single_cache_vectors = 8, multi_vectors = 2, multi_rows = 8;
  static constexpr int registers = 32;  // vector registers: how much of a tile stays in them (kernels.inc)
  static constexpr std::size_t weight_prefetch_blocks = default_weight_prefetch_blocks;
  // attention: rows sharing a key load, key tiles per pass, value vectors per row.
  static constexpr int score_rows = 8;
  static constexpr int score_tiles(int) { return 1; }  // see score_tiles in kernels.inc
  static constexpr int value_vectors(int g) { return g <= 4 ? 4 : 2; }

  static vec zero() noexcept { return _mm512_setzero_ps(); }
  static vec set1(float x) noexcept { return _mm512_set1_ps(x); }
  static vec load(const float* p) noexcept { return _mm512_loadu_ps(p); }
  static void store(float* p, vec v) noexcept { _mm512_storeu_ps(p, v); }
  static mask tail(std::size_t n) noexcept {
    return n >= lanes ? static_cast<mask>(0xFFFF) : static_cast<mask>((1u << n) - 1u);
  }
  static vec load_masked(const float* p, mask m) noexcept { return _mm512_maskz_loadu_ps(m, p); }
  static vec load_masked_or(const float* p, mask m, float fill) noexcept {
    return _mm512_mask_loadu_ps(_mm512_set1_ps(fill), m, p);
  }
  static vec keep(vec v, mask m) noexcept { return _mm512_maskz_mov_ps(m, v); }
  static void store_masked(float* p, mask m, vec v) noexcept { _mm512_mask_storeu_ps(p, m, v); }
  static vec fmadd(vec a, vec b, vec c) noexcept { return _mm512_fmadd_ps(a, b, c); }
  static vec fnmadd(vec a, vec b, vec c) noexcept { return _mm512_fnmadd_ps(a, b, c); }  // c − a·b
  static vec add(vec a, vec b) noexcept { return _mm512_add_ps(a, b); }
  static vec sub(vec a, vec b) noexcept { return _mm512_sub_ps(a, b); }
  static vec mul(vec a, vec b) noexcept { return _mm512_mul_ps(a, b); }
  static vec div(vec a, vec b) noexcept { return _mm512_div_ps(a, b); }
  static vec max(vec a, vec b) noexcept { return _mm512_maskz_max_ps(0xFFFF, a, b); }
  static vec abs(vec a) noexcept { return _mm512_abs_ps(a); }
  static vec round(vec a) noexcept {
    return _mm512_maskz_roundscale_ps(0xFFFF, a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  }
  /// p·2^n for integer-valued n.
  static vec scale2(vec p, vec n) noexcept { return _mm512_maskz_scalef_ps(0xFFFF, p, n); }
  static vec select_negative(vec x, vec if_negative, vec otherwise) noexcept {
    return _mm512_mask_mov_ps(otherwise, _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ), if_negative);
  }
  /// bfloat16 pairs (see packed_matrix): low halves → lo, high halves → hi, exactly.
  static void widen_bf16(const std::uint16_t* p, vec& lo, vec& hi) noexcept {
    const __m512i b = _mm512_loadu_si512(p);
    lo = _mm512_castsi512_ps(_mm512_maskz_slli_epi32(0xFFFF, b, 16));
    hi = _mm512_castsi512_ps(_mm512_and_si512(b, _mm512_set1_epi32(static_cast<int>(0xFFFF0000u))));
  }
  static vec widen_bf16_lo(const std::uint16_t* p) noexcept {
    return _mm512_castsi512_ps(_mm512_maskz_slli_epi32(0xFFFF, _mm512_loadu_si512(p), 16));
  }
  /// 16 floats rounded as bf16_product_input (matmul.hpp) rounds them: nearest even, subnormals to signed
  /// zero, NaN stays NaN; each lane's bfloat16 bits in its low half.
  static __m512i round_bf16_bits(vec x) noexcept {
    const __m512i u = _mm512_castps_si512(x);
    const __m512i top = _mm512_maskz_srli_epi32(0xFFFF, u, 16);
    const __m512i bias = _mm512_add_epi32(_mm512_set1_epi32(0x7fff), _mm512_and_si512(top, _mm512_set1_epi32(1)));
    __m512i r = _mm512_maskz_srli_epi32(0xFFFF, _mm512_add_epi32(u, bias), 16);
    const __mmask16 tiny = _mm512_testn_epi32_mask(u, _mm512_set1_epi32(0x7f800000));  // exponent zero
    r = _mm512_mask_mov_epi32(r, tiny, _mm512_and_si512(top, _mm512_set1_epi32(0x8000)));
    const __mmask16 nan =
        _mm512_cmpgt_epu32_mask(_mm512_and_si512(u, _mm512_set1_epi32(0x7fffffff)), _mm512_set1_epi32(0x7f800000));
    return _mm512_mask_mov_epi32(r, nan, _mm512_or_si512(top, _mm512_set1_epi32(0x40)));
  }
  /// 16 floats → 8 words of bfloat16 pairs, as bf16_pairs (matmul.hpp) makes them.
  static __m256i round_bf16_pairs(vec x) noexcept {
    return _mm512_maskz_cvtepi32_epi16(0xFFFF, round_bf16_bits(x));
  }
  /// 16 floats → 16 words, each the rounded float32 (bfloat16 bits in the high half), as bf16_floats makes
  /// them.
  static __m512i round_bf16_floats(vec x) noexcept {
    return _mm512_maskz_slli_epi32(0xFFFF, round_bf16_bits(x), 16);
  }
  /// Stores the first `words` (<= 8) words of v.
  static void store_words(std::uint32_t* p, __m256i v, std::size_t words) noexcept {
    _mm256_mask_storeu_epi32(p, static_cast<__mmask8>((1u << words) - 1u), v);
  }
  /// Stores the first `words` (<= 16) words of v.
  static void store_words(std::uint32_t* p, __m512i v, std::size_t words) noexcept {
    _mm512_mask_storeu_epi32(p, static_cast<__mmask16>((1u << words) - 1u), v);
  }
  // Fixed-order horizontal reductions. Masked extracts: GCC 12's _mm512_reduce_* read an "undefined"
  // register and trip -Werror=maybe-uninitialized.
  static __m128 quarter_max(vec v) noexcept {
    const __m512d d = _mm512_castps_pd(v);
    const __m256 lo = _mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(0xF, d, 0));
    const __m256 hi = _mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(0xF, d, 1));
    return _mm_max_ps(_mm_max_ps(_mm256_castps256_ps128(lo), _mm256_extractf128_ps(lo, 1)),
                      _mm_max_ps(_mm256_castps256_ps128(hi), _mm256_extractf128_ps(hi, 1)));
  }
  static float hmax(vec v) noexcept {
    __m128 a = quarter_max(v);
    a = _mm_max_ps(a, _mm_movehl_ps(a, a));
    return _mm_cvtss_f32(_mm_max_ps(a, _mm_movehdup_ps(a)));
  }
  static float hsum(vec v) noexcept {
    const __m512d d = _mm512_castps_pd(v);
    const __m256 lo = _mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(0xF, d, 0));
    const __m256 hi = _mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(0xF, d, 1));
    __m128 a = _mm_add_ps(_mm_add_ps(_mm256_castps256_ps128(lo), _mm256_extractf128_ps(lo, 1)),
                          _mm_add_ps(_mm256_castps256_ps128(hi), _mm256_extractf128_ps(hi, 1)));
    a = _mm_add_ps(a, _mm_movehl_ps(a, a));
    return _mm_cvtss_f32(_mm_add_ps(a, _mm_movehdup_ps(a)));
  }
  static void prefetch_l1(const void* p) noexcept { _mm_prefetch(static_cast<const char*>(p), _MM_HINT_T0); }
  static void prefetch_l2(const void* p) noexcept { _mm_prefetch(static_cast<const char*>(p), _MM_HINT_T1); }
  static void prefetch_weights(const void* p) noexcept { prefetch_l2(p); }  // see weight_prefetch_blocks
  /// Σ x[i]² in double (two accumulators of 8 lanes, then a fixed reduction).
  static double sum_squares(const float* x, std::size_t n) noexcept {
    __m512d a0 = _mm512_setzero_pd(), a1 = _mm512_setzero_pd();
    std::size_t i = 0;
    for (; i + 16 <= n; i += 16) {
      const __m512d lo = _mm512_maskz_cvtps_pd(0xFF, _mm256_loadu_ps(x + i)),
                    hi = _mm512_maskz_cvtps_pd(0xFF, _mm256_loadu_ps(x + i + 8));
      a0 = _mm512_fmadd_pd(lo, lo, a0);
      a1 = _mm512_fmadd_pd(hi, hi, a1);
    }
    alignas(64) double l[8];
    _mm512_store_pd(l, _mm512_add_pd(a0, a1));
    double s = ((l[0] + l[4]) + (l[1] + l[5])) + ((l[2] + l[6]) + (l[3] + l[7]));
    for (; i < n; ++i) s += static_cast<double>(x[i]) * x[i];
    return s;
  }
};

}  // namespace uag::detail::avx512
UAG_TARGET_END

// AVX-512 with AVX512_BF16 (Zen 4 and later, Cooper Lake, Sapphire Rapids and later): only the bfloat16
// products differ, one vdpbf16ps for the two FMAs (and the widening) the other instruction sets spend per
// input pair. Its own region: code compiled for it may only run where the CPU has the instruction.
// Chosen on AMD only (cpu_prefers_bf16_dot: Intel's cores issue it at a quarter of the FMAs' rate, half
// their multiply-adds per second); the row counts below were measured on Zen 4 and Zen 5.
UAG_TARGET_AVX512_BF16_BEGIN
namespace uag::detail::avx512_bf16 {

struct ops : avx512::ops {
  // Tiles of fewer rows take the two-FMA form (same results). One or two rows are bound by the
  // instruction's 6-cycle latency (0.65-0.8x as fast as two FMAs on a 48 MiB matrix); three or four rows
  // streaming from memory are bound by memory either way, and the bundled target's 3- and 4-row passes
  // ran 0.90-0.97x as fast with it (bench_model BM_bf16_products), 0.97-0.99x without; from five rows
  // the FMAs are the bound, and it halves them (5 rows 1.2-1.3x, 8 rows 1.5-1.75x).
  static constexpr int native_min_rows = 5;
  using pairs = __m512bh;  // 16 lanes of (low, high) bfloat16 pairs
  static pairs load_pairs(const std::uint16_t* p) noexcept { return (__m512bh)_mm512_loadu_si512(p); }
  static pairs broadcast_pair(std::uint32_t p) noexcept { return (__m512bh)_mm512_set1_epi32(static_cast<int>(p)); }
  /// acc + x.high·w.high + x.low·w.low, each step rounded to float32 (nearest even; subnormals flushed).
  static vec dot_pairs(vec acc, pairs x, pairs w) noexcept { return _mm512_dpbf16_ps(acc, x, w); }
};

}  // namespace uag::detail::avx512_bf16
UAG_TARGET_END

UAG_TARGET_AVX2_BEGIN
namespace uag::detail::avx2 {

// 16 ymm registers: tiles of at most ~12 accumulators.
struct ops {
  static constexpr instruction_set isa = instruction_set::avx2;  // names the kernel tables
  using vec = __m256;
  using mask = __m256i;
  static constexpr std::size_t lanes = 8;
  // 2^n is built in the exponent field, so n must stay >= −126: e^x is clamped at e^−87 ≈ 1.6e−38.
  static constexpr float exp_floor = -87.0f;
  // Several rows: a whole block × up to 3 rows (8-12 accumulators), one vector widened at a time. Half a
  // block × 4 rows (session 21's tile) had 4 FMA chains of 2 dependent FMAs per input pair at 2 rows and 6
  // at 3, too few to keep both FMA pipes busy: a 2-row pass of the bundled target cost 1.5-1.9x a 1-row one.
  static constexpr int single_memory_vectors = 4, single_cache_vectors = 8, multi_vectors = 4, multi_rows = 3;
  static constexpr int registers = 16;
  static constexpr std::size_t weight_prefetch_blocks = default_weight_prefetch_blocks;
  static constexpr int score_rows = 4;
  static constexpr int score_tiles(int) { return 1; }  // see score_tiles in kernels.inc
  static constexpr int value_vectors(int g) { return g <= 2 ? 4 : g <= 4 ? 2 : 1; }

  static vec zero() noexcept { return _mm256_setzero_ps(); }
  static vec set1(float x) noexcept { return _mm256_set1_ps(x); }
  static vec load(const float* p) noexcept { return _mm256_loadu_ps(p); }
  static void store(float* p, vec v) noexcept { _mm256_storeu_ps(p, v); }
  static mask tail(std::size_t n) noexcept {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n < lanes ? n : lanes)),
                              _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static vec load_masked(const float* p, mask m) noexcept { return _mm256_maskload_ps(p, m); }
  static vec load_masked_or(const float* p, mask m, float fill) noexcept {
    return _mm256_blendv_ps(_mm256_set1_ps(fill), _mm256_maskload_ps(p, m), _mm256_castsi256_ps(m));
  }
  static vec keep(vec v, mask m) noexcept { return _mm256_and_ps(v, _mm256_castsi256_ps(m)); }
  static void store_masked(float* p, mask m, vec v) noexcept { _mm256_maskstore_ps(p, m, v); }
  static vec fmadd(vec a, vec b, vec c) noexcept { return _mm256_fmadd_ps(a, b, c); }
  static vec fnmadd(vec a, vec b, vec c) noexcept { return _mm256_fnmadd_ps(a, b, c); }
  static vec add(vec a, vec b) noexcept { return _mm256_add_ps(a, b); }
  static vec sub(vec a, vec b) noexcept { return _mm256_sub_ps(a, b); }
  static vec mul(vec a, vec b) noexcept { return _mm256_mul_ps(a, b); }
  static vec div(vec a, vec b) noexcept { return _mm256_div_ps(a, b); }
  static vec max(vec a, vec b) noexcept { return _mm256_max_ps(a, b); }
  static vec abs(vec a) noexcept {
    return _mm256_and_ps(a, _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff)));
  }
  static vec round(vec a) noexcept {
    return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  }
  static vec scale2(vec p, vec n) noexcept {
    const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
  }
  static vec select_negative(vec x, vec if_negative, vec otherwise) noexcept {
    return _mm256_blendv_ps(otherwise, if_negative, _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_LT_OQ));
  }
  static void widen_bf16(const std::uint16_t* p, vec& lo, vec& hi) noexcept {
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    lo = _mm256_castsi256_ps(_mm256_slli_epi32(b, 16));
    hi = _mm256_castsi256_ps(_mm256_and_si256(b, _mm256_set1_epi32(static_cast<int>(0xFFFF0000u))));
  }
  static vec widen_bf16_lo(const std::uint16_t* p) noexcept {
    return _mm256_castsi256_ps(
        _mm256_slli_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)), 16));
  }
  static float hmax(vec v) noexcept {
    __m128 a = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    a = _mm_max_ps(a, _mm_movehl_ps(a, a));
    return _mm_cvtss_f32(_mm_max_ps(a, _mm_movehdup_ps(a)));
  }
  static float hsum(vec v) noexcept {
    __m128 a = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    a = _mm_add_ps(a, _mm_movehl_ps(a, a));
    return _mm_cvtss_f32(_mm_add_ps(a, _mm_movehdup_ps(a)));
  }
  static void prefetch_l1(const void* p) noexcept { _mm_prefetch(static_cast<const char*>(p), _MM_HINT_T0); }
  static void prefetch_l2(const void* p) noexcept { _mm_prefetch(static_cast<const char*>(p), _MM_HINT_T1); }
  static void prefetch_weights(const void* p) noexcept { prefetch_l2(p); }  // see weight_prefetch_blocks
  static double sum_squares(const float* x, std::size_t n) noexcept {
    __m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd();
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      const __m256d lo = _mm256_cvtps_pd(_mm_loadu_ps(x + i)), hi = _mm256_cvtps_pd(_mm_loadu_ps(x + i + 4));
      a0 = _mm256_fmadd_pd(lo, lo, a0);
      a1 = _mm256_fmadd_pd(hi, hi, a1);
    }
    alignas(32) double l[4];
    _mm256_store_pd(l, _mm256_add_pd(a0, a1));
    double s = (l[0] + l[2]) + (l[1] + l[3]);
    for (; i < n; ++i) s += static_cast<double>(x[i]) * x[i];
    return s;
  }
};

}  // namespace uag::detail::avx2
UAG_TARGET_END
#endif  // UAG_SIMD_X86

#if defined(UAG_SIMD_NEON)
namespace uag::detail::neon {

// 32 registers of 4 lanes; NEON is the AArch64 baseline, so no target region is needed.
struct ops {
  static constexpr instruction_set isa = instruction_set::neon;  // names the kernel tables
  using vec = float32x4_t;
  struct mask {
    uint32x4_t m;
    std::size_t n;  // valid lanes (masked loads and stores go lane by lane below 4)
  };
  static constexpr std::size_t lanes = 4;
  static constexpr float exp_floor = -87.0f;  // as AVX2: 2^n built in the exponent field
  static constexpr int single_memory_vectors = 8, single_cache_vectors = 8, multi_vectors = 4, multi_rows = 4;
  static constexpr int registers = 32;
  static constexpr std::size_t weight_prefetch_blocks = default_weight_prefetch_blocks;
  static constexpr int score_rows = 4;
  static constexpr int score_tiles(int) { return 1; }  // see score_tiles in kernels.inc
  static constexpr int value_vectors(int g) { return g <= 2 ? 8 : g <= 4 ? 4 : 2; }

  static vec zero() noexcept { return vdupq_n_f32(0.0f); }
  static vec set1(float x) noexcept { return vdupq_n_f32(x); }
  static vec load(const float* p) noexcept { return vld1q_f32(p); }
  static void store(float* p, vec v) noexcept { vst1q_f32(p, v); }
  static mask tail(std::size_t n) noexcept {
    const std::size_t k = n < lanes ? n : lanes;
    const uint32_t iota[4] = {0, 1, 2, 3};
    return {vcltq_u32(vld1q_u32(iota), vdupq_n_u32(static_cast<uint32_t>(k))), k};
  }
  static vec load_masked_or(const float* p, mask m, float fill) noexcept {
    if (m.n >= lanes) return vld1q_f32(p);
    float t[4] = {fill, fill, fill, fill};
    for (std::size_t i = 0; i < m.n; ++i) t[i] = p[i];
    return vld1q_f32(t);
  }
  static vec load_masked(const float* p, mask m) noexcept { return load_masked_or(p, m, 0.0f); }
  static vec keep(vec v, mask m) noexcept {
    return vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(v), m.m));
  }
  static void store_masked(float* p, mask m, vec v) noexcept {
    if (m.n >= lanes) return vst1q_f32(p, v);
    float t[4];
    vst1q_f32(t, v);
    for (std::size_t i = 0; i < m.n; ++i) p[i] = t[i];
  }
  static vec fmadd(vec a, vec b, vec c) noexcept { return vfmaq_f32(c, a, b); }
  static vec fnmadd(vec a, vec b, vec c) noexcept { return vfmsq_f32(c, a, b); }
  static vec add(vec a, vec b) noexcept { return vaddq_f32(a, b); }
  static vec sub(vec a, vec b) noexcept { return vsubq_f32(a, b); }
  static vec mul(vec a, vec b) noexcept { return vmulq_f32(a, b); }
  static vec div(vec a, vec b) noexcept { return vdivq_f32(a, b); }
  static vec max(vec a, vec b) noexcept { return vmaxq_f32(a, b); }
  static vec abs(vec a) noexcept { return vabsq_f32(a); }
  static vec round(vec a) noexcept { return vrndnq_f32(a); }
  static vec scale2(vec p, vec n) noexcept {
    const int32x4_t e = vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127)), 23);
    return vmulq_f32(p, vreinterpretq_f32_s32(e));
  }
  static vec select_negative(vec x, vec if_negative, vec otherwise) noexcept {
    return vbslq_f32(vcltq_f32(x, vdupq_n_f32(0.0f)), if_negative, otherwise);
  }
  static void widen_bf16(const std::uint16_t* p, vec& lo, vec& hi) noexcept {
    const uint32x4_t b = vreinterpretq_u32_u16(vld1q_u16(p));
    lo = vreinterpretq_f32_u32(vshlq_n_u32(b, 16));
    hi = vreinterpretq_f32_u32(vandq_u32(b, vdupq_n_u32(0xFFFF0000u)));
  }
  static vec widen_bf16_lo(const std::uint16_t* p) noexcept {
    return vreinterpretq_f32_u32(vshlq_n_u32(vreinterpretq_u32_u16(vld1q_u16(p)), 16));
  }
  static float hmax(vec v) noexcept {
    const float32x2_t a = vmax_f32(vget_low_f32(v), vget_high_f32(v));
    return vget_lane_f32(vpmax_f32(a, a), 0);
  }
  static float hsum(vec v) noexcept {
    const float32x2_t a = vadd_f32(vget_low_f32(v), vget_high_f32(v));
    return vget_lane_f32(vpadd_f32(a, a), 0);
  }
  static void prefetch_l1(const void* p) noexcept { __builtin_prefetch(p, 0, 3); }
  static void prefetch_l2(const void* p) noexcept { __builtin_prefetch(p, 0, 2); }
  static void prefetch_weights(const void* p) noexcept { prefetch_l2(p); }  // see weight_prefetch_blocks
  static double sum_squares(const float* x, std::size_t n) noexcept {
    float64x2_t a0 = vdupq_n_f64(0.0), a1 = vdupq_n_f64(0.0);
    std::size_t i = 0;
    for (; i + 4 <= n; i += 4) {
      const float32x4_t v = vld1q_f32(x + i);
      const float64x2_t lo = vcvt_f64_f32(vget_low_f32(v)), hi = vcvt_high_f64_f32(v);
      a0 = vfmaq_f64(a0, lo, lo);
      a1 = vfmaq_f64(a1, hi, hi);
    }
    double s =
        (vgetq_lane_f64(a0, 0) + vgetq_lane_f64(a1, 0)) + (vgetq_lane_f64(a0, 1) + vgetq_lane_f64(a1, 1));
    for (; i < n; ++i) s += static_cast<double>(x[i]) * x[i];
    return s;
  }
};

}  // namespace uag::detail::neon
#endif  // UAG_SIMD_NEON
