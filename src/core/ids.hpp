#pragma once
// Object ids: `ps_` prompts, `rs_` runs, `job_` jobs. New ids are random (64 bits, 16 hex);
// imported ids from the Python tool (`ps_` + 12 or 32 hex) are kept as they are.

#include <string>
#include <string_view>

namespace cosmos::core {

enum class IdKind { prompt, run, job, batch, sweep };

// Returns a new random id of `kind`, e.g. "rs_3f9a0c1b2d4e5f60".
std::string new_id(IdKind kind);

// Returns the prefix of `kind` ("ps_", "rs_", "job_").
std::string_view id_prefix(IdKind kind);

// Returns true when `id` has the prefix of `kind` followed by 1-64 characters of [0-9a-z].
bool is_valid_id(IdKind kind, std::string_view id);

// Returns the kind named by `id`'s prefix, or false when it has none.
bool id_kind_of(std::string_view id, IdKind& kind);

}  // namespace cosmos::core
