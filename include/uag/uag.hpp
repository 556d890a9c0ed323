#pragma once
/// @file Umbrella header: everything uag offers.
#include "uag/core/error.hpp"
#include "uag/core/logits.hpp"
#include "uag/core/types.hpp"
#include "uag/core/utf8.hpp"
#include "uag/model/concepts.hpp"
#include "uag/sampling/rng.hpp"
#include "uag/tokenizer/concepts.hpp"
#include "uag/bridge/bridged_draft.hpp"
#include "uag/bridge/tokenizer_bridge.hpp"
#include "uag/bridge/vocabulary_intersection.hpp"
