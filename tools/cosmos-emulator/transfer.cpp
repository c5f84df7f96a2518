#include "transfer.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <system_error>

#include <fmt/format.h>

#include "checkpoints.hpp"
#include "env_checks.hpp"
#include "log.hpp"
#include "pacing.hpp"
#include "python_error.hpp"
#include "transfer_run.hpp"

namespace cosmos::emulator {

namespace {

std::string dump(const nlohmann::ordered_json& json) {
    return json.dump(4, ' ', true, nlohmann::json::error_handler_t::replace);
}

// Prints a failure the way Python would and returns the exit status.
int report(const core::Error& error, const TransferContext& ctx) {
    switch (error.code) {
        case core::ErrorCode::invalid_input:
            print_stderr(transfer_usage() + "transfer.py: error: " + error.message + "\n");
            break;
        case core::ErrorCode::interrupted:
            if (error.message == "SIGINT") {
                print_traceback(ctx.script_path, "demo>sleep", "KeyboardInterrupt");
            }
            break;
        default:
            print_traceback(ctx.script_path, error.hint, error.message);
            break;
    }
    return exit_code_of(error);
}

}  // namespace

core::Result<bool> TransferRun::prepare(const std::vector<std::string>& argv) {
    core::Status imported = check_import();
    if (!imported) {
        return core::fail(std::move(imported).error());
    }
    COSMOS_TRY(m_parsed, parse_transfer_args(argv));
    if (m_parsed.help) {
        print_stdout(transfer_help());
        return false;
    }
    COSMOS_TRY(m_specs,
               load_controlnet_specs(m_parsed.values["controlnet_specs"].get<std::string>()));
    core::Status merged = apply_json_args(m_specs, m_parsed, m_ctx.config.strict);
    if (!merged) {
        return core::fail(std::move(merged).error());
    }
    m_args = to_transfer_args(m_parsed.values);
    m_ctx.recorder.set_args(m_parsed.values);
    core::Status logged = log_arguments();
    if (!logged) {
        return core::fail(std::move(logged).error());
    }
    core::Status distributed = check_distributed(m_args, m_ctx.config);
    if (!distributed) {
        return core::fail(std::move(distributed).error());
    }
    if (m_specs.controls.contains("upscale") && m_args.batch_size != 1) {
        log_line(Level::info, log_lines::k_final_args, "Setting batch_size=1 for the 4K upscaler");
        m_args.batch_size = 1;
        m_parsed.values["batch_size"] = 1;
        m_ctx.recorder.set_args(m_parsed.values);
    }
    return true;
}

core::Status TransferRun::log_arguments() {
    log_line(Level::info, log_lines::k_specs, "control_inputs: " + dump(m_specs.controls));
    log_line(Level::info, log_lines::k_specs + 1, "args in json: " + dump(m_specs.json_args));
    log_line(Level::info, log_lines::k_final_args, "final args: " + dump(m_parsed.values));
    if (m_args.batch_size < 1) {
        return raise_py("ValueError",
                        fmt::format("batch_size must be >= 1, got {}", m_args.batch_size));
    }
    if (m_args.fps < 1) {
        return raise_py("ValueError", fmt::format("fps must be >= 1, got {}", m_args.fps));
    }
    if (m_args.num_steps < 1) {
        return raise_py("ValueError",
                        fmt::format("num_steps must be >= 1, got {}", m_args.num_steps));
    }
    if (m_specs.controls.empty()) {
        return raise_py("ValueError",
                        "controlnet_specs holds no control modality (one of vis, "
                        "edge, depth, seg, keypoint, upscale, hdmap, lidar)");
    }
    return {};
}

core::Status TransferRun::collect_samples() {
    if (m_args.batch_input_path.empty()) {
        m_samples.push_back(single_sample(m_args, m_specs.controls));
    } else {
        COSMOS_TRY(m_samples, read_batch(m_args.batch_input_path, m_specs.controls));
    }
    auto tensors = nlohmann::ordered_json::array();
    for (Sample& s : m_samples) {
        core::Status valid = validate_controls(
            s.controls, ControlCheck{m_args, s.input_video_path, m_ctx.config.strict, &tensors});
        m_ctx.recorder.set_weight_tensors(tensors);
        if (!valid) {
            return valid;
        }
    }
    m_ctx.recorder.set_controls(m_specs.controls);
    for (const Sample& s : m_samples) {
        m_ctx.recorder.add_sample({{"index", s.index},
                                   {"prompt", s.prompt},
                                   {"input_video_path", s.input_video_path},
                                   {"controls", s.controls}});
    }
    std::error_code ec;
    std::filesystem::create_directories(m_args.video_save_folder, ec);
    if (ec) {
        return raise_py(
            "OSError",
            fmt::format("cannot create {}: {}", py_repr(m_args.video_save_folder), ec.message()));
    }
    return {};
}

core::Status TransferRun::load_models() {
    std::vector<std::string> files;
    for (const Sample& s : m_samples) {
        core::Status present = check_checkpoints(m_args, s.controls);
        if (!present) {
            return present;
        }
        for (std::string& f : required_checkpoints(m_args, s.controls)) {
            if (std::find(files.begin(), files.end(), f) == files.end()) {
                files.push_back(std::move(f));
            }
        }
    }
    core::Status gpus =
        m_ctx.gpus.acquire(m_ctx.config, static_cast<int>(m_args.num_gpus), "demo>load_model>cuda");
    if (!gpus) {
        return gpus;
    }
    m_ctx.recorder.begin_hold(m_ctx.gpus.devices());
    for (const std::string& file : files) {
        log_line(Level::info, log_lines::k_loading, "Loading checkpoint " + file);
    }
    const double seconds = m_ctx.config.load_seconds * m_ctx.config.time_scale;
    core::Status slept = sleep_for(seconds);
    if (!slept) {
        return slept;
    }
    log_line(
        Level::info, log_lines::k_loading + 2, fmt::format("Model loaded in {:.1f} s", seconds));
    return {};
}

std::string transfer_script_path() {
    if (const char* given = std::getenv("COSMOS_EMULATOR_SCRIPT")) {
        return given;
    }
    std::error_code ec;
    return (std::filesystem::current_path(ec) / "cosmos_transfer1/diffusion/inference/transfer.py")
        .string();
}

int run_transfer(const std::vector<std::string>& argv, TransferContext& ctx) {
    ctx.recorder.set_script_argv(argv);
    TransferRun run(ctx);
    auto prepared = run.prepare(argv);
    core::Status status;
    if (!prepared) {
        status = core::fail(std::move(prepared).error());
    } else if (*prepared) {
        status = run.collect_samples();
        if (status) {
            status = run.load_models();
        }
        if (status) {
            status = run.generate();
        }
    }
    if (status) {
        return 0;
    }
    ctx.recorder.set_error(status.error().message);
    return report(status.error(), ctx);
}

}  // namespace cosmos::emulator
