#include "services/demo.hpp"

#include <fmt/format.h>

#include "core/log.hpp"
#include "media/synthetic.hpp"
#include "services/create_prompt.hpp"
#include "services/create_run.hpp"
#include "services/execute_run.hpp"

namespace cosmos::services {

namespace fs = std::filesystem;

namespace {

core::Status make_inputs(const fs::path& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    struct Pass {
        media::SyntheticPass pass;
        const char* file;
    };
    for (const Pass& p : {Pass{media::SyntheticPass::color, "color.mp4"},
                          Pass{media::SyntheticPass::depth, "depth.mp4"},
                          Pass{media::SyntheticPass::segmentation, "segmentation.mp4"}}) {
        fs::path path = dir / p.file;
        if (fs::exists(path, ec)) {
            continue;
        }
        media::SyntheticVideo spec;
        spec.pass = p.pass;
        spec.width = 640;
        spec.height = 352;
        spec.frames = 121;
        spec.fps = 24;
        // Write to a temporary name first so an interrupted demo never leaves half a video.
        fs::path tmp = dir / (std::string(".") + p.file + ".part.mp4");
        if (auto s = media::write_synthetic_video(tmp, spec); !s) {
            return s;
        }
        fs::rename(tmp, path, ec);
        if (ec) {
            return core::fail(core::ErrorCode::io,
                              fmt::format("cannot write {}: {}", path.string(), ec.message()));
        }
    }
    return {};
}

}  // namespace

core::Result<DemoResult> run_demo(const App& app,
                                  const backends::EventSink& sink,
                                  const std::atomic<bool>* cancel) {
    fs::path inputs = app.data_dir() / "demo" / "inputs";
    if (auto s = make_inputs(inputs); !s) {
        return core::fail(s.error());
    }
    CreatePromptRequest req;
    req.text =
        "A photoreal city street at golden hour, wet asphalt reflecting warm light, "
        "cinematic, natural colours";
    req.input_dir = inputs;
    req.name = "demo";
    COSMOS_TRY(auto prompt, create_prompt(app, req));
    COSMOS_TRY(auto run, create_run(app, prompt.id, RunOptions{}));
    ExecuteOptions opts;
    opts.sink = sink;
    opts.cancel = cancel;
    COSMOS_TRY(auto final_run, execute_run(app, run.id, opts));
    return DemoResult{std::move(prompt), std::move(final_run)};
}

}  // namespace cosmos::services
