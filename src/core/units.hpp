#pragma once
// Sizes as people read them, one way everywhere (progress bars, `status`, `doctor`, `hosts clean`).

#include <string>

namespace cosmos::core {

// "512 B", "1.5 KiB", "3.0 GiB" (binary units up to TiB, one decimal above bytes).
std::string human_bytes(double bytes);

}  // namespace cosmos::core
