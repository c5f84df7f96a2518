#pragma once
// Previews (thumbnail + contact sheet) of a prompt's input set and of a run's output, made on
// first use and whenever the video is newer than them. Prompts use <input_dir>/previews/ when
// `cosmos prepare` left them there, else <data_dir>/previews/<prompt_id>/; runs use
// <data_dir>/previews/<run_id>/.

#include <optional>

#include "core/result.hpp"
#include "media/preview.hpp"
#include "services/app.hpp"
#include "store/records.hpp"

namespace cosmos::services {

// Previews of `video` in `dir` named `<stem>.thumb.png` / `<stem>.sheet.png`, (re)made when
// missing or older than the video.
core::Result<media::PreviewFiles> ensure_previews(const std::filesystem::path& video,
                                                  const std::filesystem::path& dir,
                                                  const std::string& stem);

// The prompt's input previews (from color.mp4); std::nullopt when it has no input video.
core::Result<std::optional<media::PreviewFiles>> prompt_previews(const App& app,
                                                                 const store::PromptRecord& p);

// The run's output previews; std::nullopt while it has no output video on disk.
core::Result<std::optional<media::PreviewFiles>> run_previews(const App& app,
                                                              const store::RunRecord& r);

}  // namespace cosmos::services
