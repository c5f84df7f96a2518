// Render-folder scanning by the naming rules of sequence.hpp.

#include "media/sequence.hpp"

#include <algorithm>
#include <cctype>
#include <set>
#include <system_error>

#include <fmt/format.h>

#include "media/image_file.hpp"

namespace cosmos::media {

namespace fs = std::filesystem;
using core::ErrorCode;
using core::fail;

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
        return static_cast<char>(std::tolower(c));
    });
    return out;
}

bool is_separator(char c) {
    return c == '.' || c == '_' || c == '-' || c == ' ';
}

// The modality named by the last matching word of `prefix`, or "".
std::string modality_in(std::string_view prefix) {
    std::string found;
    std::string word;
    auto flush = [&] {
        if (!word.empty()) {
            std::string m = modality_for_word(word);
            if (!m.empty()) {
                found = m;
            } else if (word == "mask") {
                // depth_mask.0001.png: the depth control's mask pass; color has no mask (such a
                // pass is ignored, never taken for more color frames)
                bool control = !found.empty() && found != "color" && !found.ends_with("_mask");
                found = control ? found + "_mask" : "";
            }
            word.clear();
        }
    };
    for (char c : prefix) {
        if (is_separator(c) || c == '/') {
            flush();
        } else {
            word.push_back(c);
        }
    }
    flush();
    return found;
}

struct Candidate {
    std::string modality;
    SequenceFrame frame;
};

// Parses one file; returns false when it is not a numbered image.
bool parse_frame(const fs::path& root, const fs::path& file, Candidate& out) {
    std::string ext = lower(file.extension().string());
    if (!is_image_extension(ext)) {
        return false;
    }
    std::string stem = file.stem().string();
    std::size_t end = stem.size();
    std::size_t begin = end;
    while (begin > 0 && std::isdigit(static_cast<unsigned char>(stem[begin - 1])) != 0) {
        --begin;
    }
    if (begin == end || end - begin > 12) {
        return false;
    }
    std::error_code ec;
    fs::path rel_dir = fs::relative(file.parent_path(), root, ec);
    std::string dir_prefix = rel_dir.empty() || rel_dir == "." ? "" : rel_dir.string() + "/";
    out.frame.number = std::stoll(stem.substr(begin));
    out.frame.path = file;
    out.frame.prefix = dir_prefix + stem.substr(0, begin);
    out.frame.digits = static_cast<int>(end - begin);
    out.frame.ext = file.extension().string();
    out.modality = modality_in(lower(stem.substr(0, begin)));
    if (out.modality.empty() && !dir_prefix.empty()) {
        out.modality = modality_in(lower(rel_dir.string()));
    }
    return true;
}

std::string frame_name(const SequenceFrame& f) {
    return fmt::format("{}{:0{}}{}", f.prefix, f.number, f.digits, f.ext);
}

void list_gaps(const ImageSequence& seq, std::vector<std::string>& problems) {
    for (std::size_t i = 1; i < seq.frames.size(); ++i) {
        std::int64_t prev = seq.frames[i - 1].number;
        std::int64_t next = seq.frames[i].number;
        if (next - prev <= 1) {
            continue;
        }
        std::string missing = seq.name_for(prev + 1);
        if (next - prev > 2) {
            missing += fmt::format(" .. {} ({} frames)", seq.name_for(next - 1), next - prev - 1);
        }
        problems.push_back(fmt::format("{}: missing frame {} (between {} and {})",
                                       seq.modality,
                                       missing,
                                       frame_name(seq.frames[i - 1]),
                                       frame_name(seq.frames[i])));
    }
}

void compare_with_color(const ImageSequence& color,
                        const ImageSequence& seq,
                        std::vector<std::string>& problems) {
    std::set<std::int64_t> have;
    for (const auto& f : seq.frames) {
        have.insert(f.number);
    }
    std::set<std::int64_t> want;
    for (const auto& f : color.frames) {
        want.insert(f.number);
        if (have.count(f.number) == 0) {
            problems.push_back(fmt::format("{}: missing frame {} (color has {})",
                                           seq.modality,
                                           seq.name_for(f.number),
                                           frame_name(f)));
        }
    }
    for (const auto& f : seq.frames) {
        if (want.count(f.number) == 0) {
            problems.push_back(fmt::format("{}: extra frame {} has no color frame {}",
                                           seq.modality,
                                           frame_name(f),
                                           color.name_for(f.number)));
        }
    }
}

}  // namespace

std::string modality_for_word(std::string_view word_in) {
    std::string w = lower(word_in);
    if (w == "color" || w == "colour" || w == "rgb" || w == "beauty") {
        return "color";
    }
    if (w == "depth") {
        return "depth";
    }
    if (w == "segmentation" || w == "seg") {
        return "seg";
    }
    if (w == "edge" || w == "edges" || w == "canny") {
        return "edge";
    }
    if (w == "vis" || w == "keypoint" || w == "hdmap" || w == "lidar") {
        return w;
    }
    return "";
}

std::string ImageSequence::pattern() const {
    if (frames.empty()) {
        return modality;
    }
    const SequenceFrame& f = frames.front();
    return f.prefix + std::string(static_cast<std::size_t>(f.digits), '#') + f.ext;
}

std::string ImageSequence::name_for(std::int64_t number) const {
    if (frames.empty()) {
        return fmt::format("{}.{:04}.png", modality, number);
    }
    auto it = std::lower_bound(
        frames.begin(), frames.end(), number, [](const SequenceFrame& f, std::int64_t n) {
            return f.number < n;
        });
    const SequenceFrame& near = it == frames.end() ? frames.back() : *it;
    SequenceFrame f = near;
    f.number = number;
    return frame_name(f);
}

core::Result<RenderScan> scan_render_dir(const fs::path& dir_in) {
    std::error_code ec;
    fs::path dir = fs::weakly_canonical(fs::absolute(dir_in, ec), ec);
    if (!fs::is_directory(dir, ec)) {
        return fail(ErrorCode::not_found,
                    fmt::format("render folder {} does not exist", dir_in.string()));
    }
    RenderScan scan;
    scan.dir = dir;
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        if (entry.is_regular_file(ec)) {
            files.push_back(entry.path());
        } else if (entry.is_directory(ec)) {
            for (const auto& sub : fs::directory_iterator(entry.path(), ec)) {
                if (sub.is_regular_file(ec)) {
                    files.push_back(sub.path());
                }
            }
        }
    }
    std::sort(files.begin(), files.end());
    std::map<std::string, std::vector<SequenceFrame>> by_modality;
    for (const auto& file : files) {
        Candidate c;
        if (!parse_frame(dir, file, c)) {
            continue;
        }
        if (c.modality.empty()) {
            scan.ignored.push_back(fs::relative(file, dir, ec).string());
            continue;
        }
        by_modality[c.modality].push_back(std::move(c.frame));
    }
    for (auto& [modality, frames] : by_modality) {
        std::stable_sort(
            frames.begin(), frames.end(), [](const SequenceFrame& a, const SequenceFrame& b) {
                return a.number < b.number;
            });
        ImageSequence seq;
        seq.modality = modality;
        for (auto& f : frames) {
            if (!seq.frames.empty() && seq.frames.back().number == f.number) {
                scan.problems.push_back(fmt::format("{}: duplicate frame {}: {} and {}",
                                                    modality,
                                                    f.number,
                                                    frame_name(seq.frames.back()),
                                                    frame_name(f)));
                continue;
            }
            seq.frames.push_back(std::move(f));
        }
        scan.sequences[modality] = std::move(seq);
    }
    auto color = scan.sequences.find("color");
    if (color == scan.sequences.end()) {
        scan.problems.insert(
            scan.problems.begin(),
            fmt::format("no color sequence in {} (expected files such as color.0001.png)",
                        dir.string()));
        return scan;
    }
    // Gaps in color; the controls are compared frame by frame with color.
    list_gaps(color->second, scan.problems);
    for (const auto& [modality, seq] : scan.sequences) {
        if (modality != "color") {
            compare_with_color(color->second, seq, scan.problems);
        }
    }
    return scan;
}

}  // namespace cosmos::media
