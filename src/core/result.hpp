#pragma once
// Result<T>: the subset of std::expected<T, Error> the project uses, over std::variant, so it
// can become an alias of std::expected when the project moves to C++23 (GCC 12 lacks it).

#include <cassert>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <variant>

#include "core/error.hpp"

namespace cosmos::core {

// Wraps an Error so a Result can be built from it unambiguously (as std::unexpected).
struct Unexpected {
    Error error;
};
inline Unexpected fail(Error e) {
    return Unexpected{std::move(e)};
}
inline Unexpected fail(ErrorCode code, std::string message, std::string hint = {}) {
    return Unexpected{Error{code, std::move(message), std::move(hint)}};
}

template <class T>
class [[nodiscard]] Result {
public:
    using value_type = T;
    Result(const T& v) : m_v(std::in_place_index<0>, v) {}
    Result(T&& v) : m_v(std::in_place_index<0>, std::move(v)) {}
    template <class U,
              class = std::enable_if_t<std::is_constructible_v<T, U&&> &&
                                       !std::is_same_v<std::decay_t<U>, Result> &&
                                       !std::is_same_v<std::decay_t<U>, Unexpected>>>
    Result(U&& v) : m_v(std::in_place_index<0>, T(std::forward<U>(v))) {}
    Result(Unexpected u) : m_v(std::in_place_index<1>, std::move(u.error)) {}

    bool has_value() const { return m_v.index() == 0; }
    explicit operator bool() const { return has_value(); }

    T& value() & {
        check();
        return std::get<0>(m_v);
    }
    const T& value() const& {
        check();
        return std::get<0>(m_v);
    }
    T&& value() && {
        check();
        return std::get<0>(std::move(m_v));
    }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T&& operator*() && { return std::move(*this).value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    const Error& error() const& {
        assert(!has_value());
        return std::get<1>(m_v);
    }
    Error&& error() && {
        assert(!has_value());
        return std::get<1>(std::move(m_v));
    }

    template <class U>
    T value_or(U&& fallback) const& {
        return has_value() ? std::get<0>(m_v) : static_cast<T>(std::forward<U>(fallback));
    }

private:
    void check() const {
        if (!has_value()) {
            throw std::logic_error("Result::value() on error: " + std::get<1>(m_v).message);
        }
    }
    std::variant<T, Error> m_v;
};

template <>
class [[nodiscard]] Result<void> {
public:
    using value_type = void;
    Result() = default;
    Result(Unexpected u) : m_error(std::move(u.error)) {}
    bool has_value() const { return !m_error.has_value(); }
    explicit operator bool() const { return has_value(); }
    void value() const {
        if (m_error) {
            throw std::logic_error("Result::value() on error: " + m_error->message);
        }
    }
    const Error& error() const& {
        assert(m_error);
        return *m_error;
    }
    Error&& error() && {
        assert(m_error);
        return std::move(*m_error);
    }

private:
    std::optional<Error> m_error;
};

using Status = Result<void>;

}  // namespace cosmos::core

// COSMOS_TRY(var, expr): evaluates `expr` (a Result); on error returns it from the enclosing
// function, otherwise declares `var` holding the value (as ccache's TRY_ASSIGN).
#define COSMOS_TRY_CONCAT_(a, b) a##b
#define COSMOS_TRY_CONCAT(a, b) COSMOS_TRY_CONCAT_(a, b)
#define COSMOS_TRY(var, expr)                                                                     \
    auto COSMOS_TRY_CONCAT(cosmos_try_, __LINE__) = (expr);                                       \
    if (!COSMOS_TRY_CONCAT(cosmos_try_, __LINE__).has_value()) {                                  \
        return ::cosmos::core::fail(std::move(COSMOS_TRY_CONCAT(cosmos_try_, __LINE__)).error()); \
    }                                                                                             \
    var = std::move(*COSMOS_TRY_CONCAT(cosmos_try_, __LINE__))

// COSMOS_CHECK(expr): evaluates `expr` (a Status or any Result) and, on error, returns it from
// the enclosing function; the value, if any, is not needed (store writes, checks).
#define COSMOS_CHECK(expr)                                                      \
    do {                                                                        \
        if (auto COSMOS_TRY_CONCAT(cosmos_check_, __LINE__) = (expr);           \
            !COSMOS_TRY_CONCAT(cosmos_check_, __LINE__).has_value()) {          \
            return ::cosmos::core::fail(                                        \
                std::move(COSMOS_TRY_CONCAT(cosmos_check_, __LINE__)).error()); \
        }                                                                       \
    } while (false)
