#pragma once
// Thread entries never die silently: guarded() runs a thread's body, and an exception that
// escapes it (a bug, an allocation failure) is logged as an error with what the thread was
// doing, instead of ending the process through std::terminate.

#include <exception>
#include <string_view>

#include "core/log.hpp"

namespace cosmos::core {

// Runs `body`; returns false (after logging "WHAT failed: ...") when it threw.
template <class F>
bool guarded(std::string_view what, F&& body) noexcept {
    try {
        body();
        return true;
    } catch (const std::exception& e) {
        log(LogLevel::error, "{} failed: {}", what, e.what());
    } catch (...) {
        log(LogLevel::error, "{} failed with an unknown exception", what);
    }
    return false;
}

}  // namespace cosmos::core
