#pragma once
// Wall-clock timestamps as stored and printed: ISO 8601 UTC with milliseconds
// ("2026-11-25T05:12:53.123Z"), which sort lexically in the store.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cosmos::core {

// Returns the current UTC time as ISO 8601 with milliseconds and a 'Z'.
std::string now_iso();

// Returns milliseconds since the Unix epoch.
std::int64_t now_ms();

// Returns `ms` since the epoch formatted as now_iso() does.
std::string iso_from_ms(std::int64_t ms);

// Parses ISO 8601 ("2025-09-01T10:00:00", optional fraction, 'Z' or +HH:MM offset) into
// milliseconds since the epoch; returns -1 when it does not parse.
std::int64_t ms_from_iso(std::string_view iso);

// Seconds from `iso` (as ms_from_iso reads it) until now; 0 when it is absent or unreadable.
double seconds_since_iso(const std::optional<std::string>& iso);

}  // namespace cosmos::core
