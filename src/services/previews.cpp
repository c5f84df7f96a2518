// Lazily made previews of inputs and outputs (see previews.hpp).

#include "services/previews.hpp"

#include <system_error>

namespace cosmos::services {

namespace fs = std::filesystem;

namespace {

bool fresh(const fs::path& file, const fs::path& video) {
    std::error_code ec;
    if (!fs::exists(file, ec)) {
        return false;
    }
    auto a = fs::last_write_time(file, ec);
    auto b = fs::last_write_time(video, ec);
    return !ec && a >= b;
}

}  // namespace

core::Result<media::PreviewFiles> ensure_previews(const fs::path& video,
                                                  const fs::path& dir,
                                                  const std::string& stem) {
    media::PreviewFiles files{dir / (stem + ".thumb.png"), dir / (stem + ".sheet.png")};
    if (fresh(files.thumbnail, video) && fresh(files.contact_sheet, video)) {
        return files;
    }
    return media::write_previews(video, dir, stem);
}

core::Result<std::optional<media::PreviewFiles>> prompt_previews(const App& app,
                                                                 const store::PromptRecord& p) {
    std::error_code ec;
    if (!p.input_video || !fs::exists(*p.input_video, ec)) {
        return std::optional<media::PreviewFiles>{};
    }
    fs::path video = *p.input_video;
    fs::path prepared = fs::path(p.input_dir) / "previews";
    if (fresh(prepared / "color.thumb.png", video) && fresh(prepared / "color.sheet.png", video)) {
        return std::optional<media::PreviewFiles>(
            media::PreviewFiles{prepared / "color.thumb.png", prepared / "color.sheet.png"});
    }
    COSMOS_TRY(auto files, ensure_previews(video, app.data_dir() / "previews" / p.id, "color"));
    return std::optional<media::PreviewFiles>(files);
}

core::Result<std::optional<media::PreviewFiles>> run_previews(const App& app,
                                                              const store::RunRecord& r) {
    std::error_code ec;
    if (!r.output_video || !fs::exists(*r.output_video, ec)) {
        return std::optional<media::PreviewFiles>{};
    }
    COSMOS_TRY(auto files,
               ensure_previews(*r.output_video, app.data_dir() / "previews" / r.id, "output"));
    return std::optional<media::PreviewFiles>(files);
}

}  // namespace cosmos::services
