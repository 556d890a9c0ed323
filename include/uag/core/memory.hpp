#pragma once
/// @file Large buffers backed by huge pages where the OS allows it (Linux transparent huge pages).
///
/// Why: a forward pass streams every weight once, tens of megabytes, through 4 KiB pages: one TLB miss and
/// page walk per 4 KiB, and the hardware prefetchers stop at every page boundary. With the packed weights
/// in 2 MiB pages the bundled target's single-token pass is 15-18% faster on the development machine
/// (bench_model BM_huge_pages, both placements interleaved in one run). A hint only: where THP is off,
/// refused or not Linux, the memory is ordinary pages and nothing else changes.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace uag::detail {

/// Size of a huge page on the platforms that have them (x86-64 and arm64 Linux with 4 KiB base pages).
inline constexpr std::size_t huge_page_bytes = std::size_t{2} << 20;

/// @brief Asks the kernel to back the whole huge pages inside [p, p + bytes) with huge pages (Linux THP in
/// "madvise" or "always" mode). Call it before the memory is first touched: pages already faulted in
/// stay small. Loading a tokenizer touches ~100 MB of fresh memory; 4 KiB page faults were a quarter of
/// its load time. A hint only: does nothing elsewhere or when refused.
inline void advise_huge_pages(const void* p, std::size_t bytes) noexcept {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  constexpr std::uintptr_t huge = huge_page_bytes;
  if (bytes < 2 * huge) return;
  const auto b = (reinterpret_cast<std::uintptr_t>(p) + huge - 1) & ~(huge - 1);
  const auto e = (reinterpret_cast<std::uintptr_t>(p) + bytes) & ~(huge - 1);
  if (e > b) ::madvise(reinterpret_cast<void*>(b), e - b, MADV_HUGEPAGE);
#else
  (void)p;
  (void)bytes;
#endif
}

/// Frees what operator new with that alignment gave.
struct aligned_byte_delete {
  std::size_t align = 64;
  void operator()(std::byte* p) const noexcept { ::operator delete (p, std::align_val_t{align}); }
};

/// @brief One uninitialised allocation. With `huge` and at least one huge page asked for, it is aligned to
/// and rounded up to whole huge pages (under one page of slack) and advised for huge pages before
/// anything touches it; otherwise it is 64-byte aligned (a cache line, every vector width).
class page_buffer {
 public:
  page_buffer() = default;
  /// cost: one allocation; touches nothing.
  page_buffer(std::size_t bytes, bool huge) {
    huge_ = huge && bytes >= huge_page_bytes;
    align_ = huge_ ? huge_page_bytes : std::size_t{64};
    size_ = std::max<std::size_t>((bytes + align_ - 1) / align_ * align_, align_);
    data_.reset(static_cast<std::byte*>(::operator new (size_, std::align_val_t{align_})));
    data_.get_deleter().align = align_;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (huge_) ::madvise(data_.get(), size_, MADV_HUGEPAGE);
#endif
  }
  std::byte* data() const noexcept { return data_.get(); }
  /// @brief Bytes held (`bytes` rounded up to the alignment).
  std::size_t size() const noexcept { return size_; }
  /// @brief Whether huge pages were asked for (the kernel may still refuse them).
  bool advised_huge() const noexcept { return huge_; }

 private:
  std::unique_ptr<std::byte[], aligned_byte_delete> data_;
  std::size_t size_ = 0, align_ = 64;
  bool huge_ = false;
};

/// @brief Hands out 64-byte aligned pieces of one page_buffer in order (a bump allocator): every packed
/// matrix of a model in one range of huge pages. Pieces live as long as the arena; nothing is freed alone.
class bump_arena {
 public:
  bump_arena() = default;
  /// @brief Room for pieces totalling `bytes` once each is rounded up to 64 (see piece_bytes).
  bump_arena(std::size_t bytes, bool huge) : buf_(bytes, huge) {}
  /// @brief What a piece of `bytes` takes from the arena.
  static constexpr std::size_t piece_bytes(std::size_t bytes) noexcept { return (bytes + 63) / 64 * 64; }
  /// @brief The next piece. requires: the pieces taken so far plus this one fit the size given at
  /// construction (a logic error otherwise: throws std::bad_alloc rather than overrun).
  void* take(std::size_t bytes) {
    const std::size_t n = piece_bytes(bytes);
    if (n > buf_.size() - used_) throw std::bad_alloc();
    void* p = buf_.data() + used_;
    used_ += n;
    return p;
  }
  const page_buffer& buffer() const noexcept { return buf_; }

 private:
  page_buffer buf_;
  std::size_t used_ = 0;
};

}  // namespace uag::detail
