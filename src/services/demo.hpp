#pragma once
// `cosmos demo`: the whole main job on the embedded defaults in well under a minute: generate a
// small input set (colour, depth, segmentation), create a prompt, run it on the default host
// (the local emulator) and report where the output video and log are.

#include <atomic>

#include "backends/job_event.hpp"
#include "core/result.hpp"
#include "services/app.hpp"
#include "store/records.hpp"

namespace cosmos::services {

struct DemoResult {
    store::PromptRecord prompt;
    store::RunRecord run;
};

core::Result<DemoResult> run_demo(const App& app,
                                  const backends::EventSink& sink,
                                  const std::atomic<bool>* cancel);

}  // namespace cosmos::services
