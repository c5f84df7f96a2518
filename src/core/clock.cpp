#include "core/clock.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

#include <fmt/format.h>

namespace cosmos::core {

std::int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string iso_from_ms(std::int64_t ms) {
    std::time_t secs = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
                       tm.tm_year + 1900,
                       tm.tm_mon + 1,
                       tm.tm_mday,
                       tm.tm_hour,
                       tm.tm_min,
                       tm.tm_sec,
                       ms % 1000);
}

std::string now_iso() {
    return iso_from_ms(now_ms());
}

std::int64_t ms_from_iso(std::string_view iso) {
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, n = 0;
    std::string text(iso);
    if (std::sscanf(text.c_str(), "%4d-%2d-%2d%*1[T ]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &n) <
        6) {
        return -1;
    }
    std::int64_t millis = 0;
    std::size_t pos = static_cast<std::size_t>(n);
    if (pos < text.size() && text[pos] == '.') {
        int digits = 0;
        ++pos;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
            if (digits < 3) {
                millis = millis * 10 + (text[pos] - '0');
                ++digits;
            }
            ++pos;
        }
        while (digits++ < 3) {
            millis *= 10;
        }
    }
    int offset_min = 0;
    if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
        int oh = 0, om = 0;
        if (std::sscanf(text.c_str() + pos + 1, "%2d:%2d", &oh, &om) >= 1) {
            offset_min = (text[pos] == '+' ? 1 : -1) * (oh * 60 + om);
        }
    }
    std::tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    std::time_t t = timegm(&tm);
    return (static_cast<std::int64_t>(t) - offset_min * 60) * 1000 + millis;
}

double seconds_since_iso(const std::optional<std::string>& iso) {
    if (!iso) {
        return 0;
    }
    std::int64_t ms = ms_from_iso(*iso);
    return ms < 0 ? 0 : static_cast<double>(now_ms() - ms) / 1000.0;
}

}  // namespace cosmos::core
