// What Cosmos-Transfer2.5's examples/inference.py does before generating, in its order: tyro
// parses the command line into the setup (pydantic validates it), InferenceArguments.from_files
// reads and validates every spec, init_output_dir sets up the output folder and its log files,
// Control2WorldInference sets up context parallelism, the guardrails and the model (one load for
// the whole batch) and saves config.yaml.

#include "transfer25.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <system_error>

#include <fmt/format.h>

#include "gpu_locks.hpp"
#include "pacing.hpp"
#include "python_error.hpp"
#include "transfer25_checkpoints.hpp"
#include "transfer25_run.hpp"

namespace cosmos::emulator {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

namespace {

// Prints a failure the way the real script would and returns the exit status.
int report(const core::Error& error, const TransferContext& ctx) {
    switch (error.code) {
        case core::ErrorCode::invalid_input:
            print_stderr(transfer25_usage_error(error.message));
            break;
        case core::ErrorCode::config:  // printed by the script itself, then sys.exit(1)
            print_stderr(error.message);
            break;
        case core::ErrorCode::interrupted:
            if (error.message == "SIGINT") {
                print_traceback(ctx.script_path, "main>generate>sleep", "KeyboardInterrupt");
            }
            break;
        default:
            print_traceback(ctx.script_path, error.hint, error.message);
            break;
    }
    return exit_code_of(error);
}

core::Unexpected setup_error(const std::string& loc,
                             const std::string& message,
                             const Json& input) {
    return core::fail(core::ErrorCode::config,
                      format_validation_errors(
                          "Args", {PydanticError{"setup." + loc, "value_error", message, input}}));
}

}  // namespace

core::Result<bool> Transfer25Run::prepare(const std::vector<std::string>& argv) {
    COSMOS_TRY(m_setup, parse_transfer25_args(argv));
    if (m_setup.help) {
        print_stdout(transfer25_help());
        return false;
    }
    COSMOS_CHECK(check_setup());
    m_ctx.recorder.set_args(m_setup.to_json());
    COSMOS_TRY(m_batch,
               load_batch25(m_setup.input_files, m_setup.overrides, m_ctx.config.strict, m_log));
    if (m_setup.benchmark && m_batch.samples.size() == 1) {
        m_batch.samples.assign(4, m_batch.samples.front());
        m_log.line(Level::info,
                   sites25::k_benchmark_repeat,
                   "Repeating inference sample 4 times for benchmarking.");
    }
    Json controls = Json::array();
    for (const std::string& key : m_batch.hint_keys) {
        controls.push_back(key);
    }
    m_ctx.recorder.set_controls(controls);
    for (const Sample25& s : m_batch.samples) {
        m_ctx.recorder.add_sample(s.args);
    }
    return true;
}

// SetupArguments' validators: the checkpoint path and the context parallel size.
core::Status Transfer25Run::check_setup() {
    if (m_setup.context_parallel_size && *m_setup.context_parallel_size <= 0) {
        return core::fail(
            core::ErrorCode::config,
            format_validation_errors("Args",
                                     {PydanticError{"setup.context_parallel_size",
                                                    "greater_than",
                                                    "Input should be greater than 0",
                                                    *m_setup.context_parallel_size}}));
    }
    if (!m_setup.checkpoint_path) {
        return {};
    }
    std::string uri = *m_setup.checkpoint_path;
    if (uri.find("://") != std::string::npos || is_transfer25_checkpoint_uuid(uri)) {
        return {};
    }
    static const std::regex k_uuid(
        "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$");
    if (std::regex_match(uri, k_uuid)) {
        return setup_error("checkpoint_path",
                           fmt::format("Value error, Checkpoint '{}' not found. Set 'export "
                                       "COSMOS_EXPERIMENTAL_CHECKPOINTS=1' to include "
                                       "experimental checkpoints.",
                                       uri),
                           uri);
    }
    std::error_code ec;
    fs::path path = fs::absolute(uri, ec);
    if (!fs::exists(path, ec)) {
        return setup_error(
            "checkpoint_path",
            fmt::format("Value error, Checkpoint '{}' does not exist.", path.string()),
            uri);
    }
    m_setup.checkpoint_path = path.string();
    return {};
}

// Context parallelism: more than one rank needs torch.distributed (RANK from torchrun), and the
// world must split into groups of the context parallel size.
core::Status Transfer25Run::check_distributed() {
    const char* world = std::getenv("WORLD_SIZE");
    m_world = world != nullptr ? std::max(1, std::atoi(world)) : 1;
    std::int64_t cp = m_setup.context_parallel_size.value_or(m_world);
    if (cp > 1 && std::getenv("RANK") == nullptr) {
        return raise_py("ValueError",
                        "Error initializing torch.distributed using env:// rendezvous: "
                        "environment variable RANK expected, but not set",
                        "main>Control2WorldInference>__init__>distributed.init");
    }
    if (cp > m_world || m_world % cp != 0) {
        return raise_py(
            "RuntimeError",
            fmt::format(
                "world_size ({}) is not divisible by context_parallel_size ({})", m_world, cp),
            "main>Control2WorldInference>__init__>initialize_model_parallel");
    }
    return {};
}

core::Status Transfer25Run::load_model() {
    std::error_code ec;
    fs::create_directories(m_setup.output_dir, ec);
    if (ec) {
        return raise_py(
            "OSError",
            fmt::format("cannot create {}: {}", py_repr(m_setup.output_dir), ec.message()),
            "main>init_output_dir>mkdir");
    }
    m_log.line(Level::info,
               sites25::k_log_saved,
               "Log saved to " + (fs::path(m_setup.output_dir) / "console.log").string());
    m_log.open_files(m_setup.output_dir);
    for (const Sample25& s : m_batch.samples) {
        COSMOS_TRY(Plan25 p, plan(s));
        m_plans.push_back(p);
    }
    COSMOS_CHECK(check_distributed());
    Checkpoints25Request request{m_batch.hint_keys,
                                 m_setup.distilled(),
                                 !m_setup.disable_guardrails,
                                 m_setup.checkpoint_path.value_or("")};
    if (request.checkpoint_path.find("://") != std::string::npos ||
        is_transfer25_checkpoint_uuid(request.checkpoint_path)) {
        request.checkpoint_path.clear();
    }
    COSMOS_TRY(std::vector<std::string> files, transfer25_checkpoints(request));
    COSMOS_CHECK(fetch_transfer25_checkpoints(files, m_log));
    COSMOS_CHECK(
        m_ctx.gpus.acquire(m_ctx.config, m_world, "main>Control2WorldInference>__init__>cuda"));
    m_ctx.recorder.begin_hold(m_ctx.gpus.devices());
    for (const std::string& file : files) {
        m_log.line(Level::info, sites25::k_loading, "Loading base model from " + file);
    }
    COSMOS_CHECK(sleep_for(m_ctx.config.load_seconds * m_ctx.config.time_scale));
    m_log.line(Level::info,
               sites25::k_found_keys,
               fmt::format("Found {} hint keys across all samples", m_batch.hint_keys.size()));
    if (m_batch.hint_keys.size() > 1) {
        m_log.line(Level::warning,
                   sites25::k_multicontrol,
                   "Loading the multicontrol model. Multicontrol inference is not strictly equal "
                   "to single control");
    }
    return write_config();
}

core::Status Transfer25Run::write_config() {
    fs::path path = fs::path(m_setup.output_dir) / "config.yaml";
    std::string experiment =
        m_batch.hint_keys.size() > 1
            ? "multibranch_720p_t24_spaced_layer4_cr1pt1_rectified_flow_inference"
            : m_setup.experiment.value_or(
                  "vid2vid_2B_control_720p_t24_control_layer4_cr1pt1_embedding_rectified_flow");
    std::ofstream out(path);
    out << "# cosmos-emulator: stands for the LazyConfig dump of the loaded model's experiment\n"
        << "experiment: " << experiment << "\nmodel: " << m_setup.model << "\nhint_keys: ["
        << fmt::format("{}", fmt::join(m_batch.hint_keys, ", "))
        << "]\ncontext_parallel_size: " << m_setup.context_parallel_size.value_or(m_world) << "\n";
    if (!out.flush()) {
        return raise_py("OSError", "cannot write " + py_repr(path.string()), "main>save_yaml");
    }
    m_log.line(Level::info, sites25::k_saved_config, "Saved config to " + path.string());
    return {};
}

std::string transfer25_script_path() {
    if (const char* given = std::getenv("COSMOS_EMULATOR_SCRIPT")) {
        return given;
    }
    std::error_code ec;
    return (fs::current_path(ec) / k_transfer25_script).string();
}

int run_transfer25(const std::vector<std::string>& argv, TransferContext& ctx) {
    ctx.recorder.set_script_argv(argv);
    Transfer25Run run(ctx);
    auto prepared = run.prepare(argv);
    core::Status status;
    if (!prepared) {
        status = core::fail(std::move(prepared).error());
    } else if (*prepared) {
        status = run.load_model();
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
