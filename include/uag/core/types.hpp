#pragma once
/// @file Basic vocabulary of uag: token ids and spans of them.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace uag {

/// @brief A token id in some tokenizer's vocabulary (HF and llama.cpp both use 32-bit ids).
using token_id = std::int32_t;

/// @brief A read-only run of token ids.
using token_span = std::span<const token_id>;

/// @brief An owned run of token ids.
using token_vector = std::vector<token_id>;

}  // namespace uag
