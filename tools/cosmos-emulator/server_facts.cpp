#include "server_facts.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <random>

#include <fmt/format.h>

#include "media/probe.hpp"
#include "media/video_reader.hpp"

namespace cosmos::emulator {

namespace fs = std::filesystem;

namespace {

constexpr std::int64_t k_max_analysed_frames = 600;

core::Unexpected refuse(std::string message) {
    return core::fail(core::ErrorCode::invalid_input, std::move(message), "messages");
}

std::string percent_decode(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() &&
            std::isxdigit(static_cast<unsigned char>(s[i + 1])) != 0 &&
            std::isxdigit(static_cast<unsigned char>(s[i + 2])) != 0) {
            std::string hex(s.substr(i + 1, 2));
            out += static_cast<char>(std::strtol(hex.c_str(), nullptr, 16));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

std::optional<std::string> base64_decode(std::string_view in) {
    auto value = [](char c) -> int {
        static constexpr std::string_view k_alphabet =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        if (c == '-') {
            return 62;  // the URL-safe alphabet
        }
        if (c == '_') {
            return 63;
        }
        auto at = k_alphabet.find(c);
        return at == std::string_view::npos ? -1 : static_cast<int>(at);
    };
    std::string out;
    unsigned buffer = 0;
    int bits = 0;
    for (char c : in) {
        if (c == '=' || c == '\n' || c == '\r') {
            continue;
        }
        int v = value(c);
        if (v < 0) {
            return std::nullopt;
        }
        buffer = (buffer << 6) | static_cast<unsigned>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((buffer >> bits) & 0xFF);
        }
    }
    return out;
}

bool inside(const fs::path& path, const fs::path& root) {
    auto r = root.begin();
    auto p = path.begin();
    for (; r != root.end(); ++r, ++p) {
        if (r->empty()) {
            continue;  // a trailing separator
        }
        if (p == path.end() || *p != *r) {
            return false;
        }
    }
    return true;
}

core::Result<ResolvedVideo> resolve_file_url(const std::string& url, const std::string& allowed) {
    fs::path path = percent_decode(std::string_view(url).substr(7));
    if (allowed.empty()) {
        return refuse("Cannot load local files without `--allowed-local-media-path`.");
    }
    if (!path.is_absolute()) {
        return refuse(fmt::format("file URL {} does not name an absolute path", url));
    }
    std::error_code ec;
    fs::path real = fs::weakly_canonical(path, ec);
    fs::path root = fs::weakly_canonical(allowed, ec);
    if (!inside(real, root)) {
        return refuse(
            fmt::format("The file path {} must be a subpath of `--allowed-local-media-path` {}.",
                        path.string(),
                        allowed));
    }
    if (!fs::is_regular_file(real, ec)) {
        return refuse(fmt::format("no such file: {}", path.string()));
    }
    return ResolvedVideo{real, false};
}

}  // namespace

std::string colour_name(double r, double g, double b) {
    const double mx = std::max({r, g, b}), mn = std::min({r, g, b});
    if (mx < 40) {
        return "black";
    }
    if (mx - mn < 0.2 * mx) {
        return mx > 200 ? "white" : "gray";
    }
    double hue = 0;
    if (mx == r) {
        hue = std::fmod((g - b) / (mx - mn) + 6, 6.0) * 60;
    } else if (mx == g) {
        hue = ((b - r) / (mx - mn) + 2) * 60;
    } else {
        hue = ((r - g) / (mx - mn) + 4) * 60;
    }
    static constexpr std::array<std::pair<double, const char*>, 7> k_hues = {{{20, "red"},
                                                                              {45, "orange"},
                                                                              {70, "yellow"},
                                                                              {160, "green"},
                                                                              {200, "cyan"},
                                                                              {260, "blue"},
                                                                              {330, "purple"}}};
    for (const auto& [limit, name] : k_hues) {
        if (hue < limit) {
            return name;
        }
    }
    return "red";
}

core::Result<VideoFacts> analyse_video(const fs::path& path) {
    auto info = media::probe_video(path);
    if (!info) {
        return refuse(fmt::format(
            "cannot read the video {}: {}", path.filename().string(), info.error().message));
    }
    VideoFacts facts{info->frames, info->width, info->height, info->fps, "black", 0};
    media::VideoReader reader;
    if (!reader.open(path, {64, 36})) {
        return refuse(fmt::format("cannot decode the video {}", path.filename().string()));
    }
    media::Frame frame, previous;
    std::array<double, 3> sum{};
    double change = 0;
    std::int64_t n = 0;
    while (n < k_max_analysed_frames) {
        auto more = reader.read_frame(frame);
        if (!more || !*more) {
            break;
        }
        double diff = 0;
        for (std::size_t i = 0; i < frame.rgb.size(); ++i) {
            sum[i % 3] += frame.rgb[i];
            if (!previous.rgb.empty()) {
                diff += std::abs(int(frame.rgb[i]) - int(previous.rgb[i]));
            }
        }
        change += previous.rgb.empty() ? 0 : diff / double(frame.rgb.size());
        previous = frame;
        ++n;
    }
    if (n > 0) {
        const double pixels = double(n) * double(frame.rgb.size() / 3);
        facts.colour = colour_name(sum[0] / pixels, sum[1] / pixels, sum[2] / pixels);
        facts.change = n > 1 ? change / double(n - 1) : 0;
    }
    return facts;
}

core::Result<ResolvedVideo> resolve_video_url(const std::string& url,
                                              const std::string& allowed,
                                              const fs::path& scratch) {
    if (url.rfind("file://", 0) == 0) {
        return resolve_file_url(url, allowed);
    }
    if (url.rfind("data:", 0) == 0) {
        auto comma = url.find(',');
        if (comma == std::string::npos ||
            url.substr(0, comma).find(";base64") == std::string::npos) {
            return refuse("a data: URL must be data:<type>;base64,<data>");
        }
        auto bytes = base64_decode(std::string_view(url).substr(comma + 1));
        if (!bytes || bytes->empty()) {
            return refuse("the data: URL's base64 payload does not decode");
        }
        thread_local std::mt19937_64 rng{std::random_device{}()};
        fs::path path = scratch / fmt::format("chat-{:016x}.mp4", rng());
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out.write(bytes->data(), static_cast<std::streamsize>(bytes->size()));
        if (!out.flush()) {
            return core::fail(core::ErrorCode::io, "cannot write " + path.string());
        }
        return ResolvedVideo{path, true};
    }
    return refuse(
        fmt::format("cannot fetch {}: the emulated server reaches no network; use a "
                    "file:// or data: URL",
                    url.substr(0, std::min<std::size_t>(url.size(), 80))));
}

}  // namespace cosmos::emulator
