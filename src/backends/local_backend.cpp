#include "backends/local_backend.hpp"

#include <fstream>

#include <fmt/format.h>

#include "core/redact.hpp"
#include "model/enhance_command.hpp"
#include "model/model_log.hpp"
#include "transport/local_process.hpp"

namespace cosmos::backends {

using core::ErrorCode;
using core::fail;
namespace fs = std::filesystem;

namespace {

core::Status write_file(const fs::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) {
        return fail(ErrorCode::io,
                    fmt::format("cannot write {}", path.string()),
                    "check free disk space and permissions of the data dir");
    }
    return {};
}

}  // namespace

nlohmann::ordered_json describe_launch(const model::LaunchCommand& command) {
    nlohmann::ordered_json env = nlohmann::ordered_json::object();
    for (const auto& [k, v] : command.env) {
        env[k] = core::is_secret_name(k) ? "***" : core::redact(v);
    }
    nlohmann::ordered_json argv = nlohmann::ordered_json::array();
    for (const auto& a : command.argv) {
        argv.push_back(core::redact(a));
    }
    return nlohmann::ordered_json{{"argv", argv}, {"env", env}, {"cwd", command.cwd}};
}

model::LaunchCommand enhance_launch(const std::string& torchrun,
                                    const std::string& cosmos_dir,
                                    const std::string& checkpoint_dir,
                                    const nlohmann::ordered_json& spec) {
    model::EnhanceCommandInput in;
    in.torchrun = torchrun;
    in.cosmos_dir = cosmos_dir;
    in.checkpoint_dir = checkpoint_dir;
    in.prompt = spec.value("prompt", std::string());
    in.input_video = spec.value("input_video", std::string());
    in.offload = spec.value("offload_prompt_upsampler", false);
    return model::enhance_command(in);
}

core::Result<LaunchInfo> prepare_local_job(const config::HostConfig& host, const LocalJob& job) {
    std::error_code ec;
    fs::path out_dir = job.run_dir / "outputs";
    fs::create_directories(out_dir, ec);
    if (ec) {
        return fail(ErrorCode::io,
                    fmt::format("cannot create {}: {}", out_dir.string(), ec.message()));
    }
    LaunchInfo info;
    info.spec_path = job.run_dir / "spec.json";
    info.output_dir = out_dir;
    info.log_path = job.run_dir / "run.log";

    model::TransferCommandInput in;
    in.torchrun = host.torchrun;
    in.cosmos_dir = host.cosmos_dir.string();
    in.checkpoint_dir = host.checkpoint_dir.string();
    in.spec_path = info.spec_path.string();
    in.output_dir = out_dir.string();
    in.offload = job.params.offload;
    in.num_steps = job.num_steps;
    in.gpu_ids = job.gpu_ids;
    if (in.gpu_ids.empty()) {
        for (int i = 0; i < job.params.num_gpus; ++i) {
            in.gpu_ids.push_back(i);
        }
    }
    info.command =
        job.kind == "enhance"
            ? enhance_launch(
                  host.torchrun, host.cosmos_dir.string(), host.checkpoint_dir.string(), job.spec)
            : model::transfer_command(in);
    for (const auto& [k, v] : host.env) {
        info.command.env[k] = v;
    }
    if (auto s = write_file(info.spec_path, job.spec.dump(2) + "\n"); !s) {
        return fail(s.error());
    }
    if (auto s =
            write_file(job.run_dir / "command.json", describe_launch(info.command).dump(2) + "\n");
        !s) {
        return fail(s.error());
    }
    return info;
}

core::Result<JobOutcome> run_local_job(const LocalJob& job,
                                       const LaunchInfo& launch,
                                       const EventSink& sink,
                                       const std::atomic<bool>* cancel) {
    std::ofstream log(launch.log_path, std::ios::app | std::ios::binary);
    model::ProgressTracker tracker(model::expected_chunks(job.frames));
    transport::ProcessSpec spec{launch.command.argv, launch.command.env, launch.command.cwd};
    auto on_line = [&](std::string_view raw) {
        std::string line = core::redact(raw);
        log << line << '\n';
        log.flush();
        sink(LogLine{job.run_id, line});
        if (tracker.feed(line)) {
            sink(Progress{job.run_id,
                          tracker.fraction(),
                          tracker.completed_chunks(),
                          tracker.expected(),
                          tracker.phase()});
        }
    };
    COSMOS_TRY(auto exit, transport::run_process(spec, on_line, cancel));

    JobOutcome out;
    out.exit_code = exit.exit_code;
    out.cancelled = exit.cancelled;
    fs::path video = launch.output_dir / "output.mp4";
    std::error_code ec;
    if (fs::is_regular_file(video, ec) && fs::file_size(video, ec) > 0) {
        out.output_video = video.string();
    }
    if (exit.cancelled) {
        out.error = "cancelled";
    } else if (exit.exit_code != 0) {
        std::string why = tracker.error_line().value_or(
            exit.signal != 0 ? fmt::format("killed by signal {}", exit.signal)
                             : fmt::format("exited with code {}", exit.exit_code));
        out.error = fmt::format("the model failed: {}", why);
    } else if (job.kind == "enhance") {
        out.succeeded = true;  // the caller reads the upsampled prompt from the log
    } else if (!out.output_video) {
        out.error = tracker.guardrail_blocked()
                        ? std::string("no video: the safety guardrail blocked this prompt")
                        : std::string("the model exited 0 but wrote no output video");
    } else {
        out.succeeded = true;
    }
    log << fmt::format(
        "# cosmos: exit code {}{}\n", exit.exit_code, out.succeeded ? "" : ", " + out.error);
    return out;
}

}  // namespace cosmos::backends
