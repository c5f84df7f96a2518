// What NVIDIA's upsampler_pipeline.py does, in its order: import cosmos_transfer1; read RANK and
// delete the torchrun variables from the environment (KeyError for the first one missing, so it
// needs torchrun, and OMP_NUM_THREADS, which torchrun sets only for more than one process);
// parse --prompt, --input_video (required), --checkpoint_dir, --offload_prompt_upsampler; load
// Pixtral from CHECKPOINT_DIR/nvidia/Cosmos-UpsamplePrompt1-12B-Transfer; send the first two
// frames of the input video at full size (vLLM, max_model_len 4096: frames above 940x529 pixels
// overflow it); print `Upsampled prompt: TEXT` on stdout. It writes no file.

#include "upsampler.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <filesystem>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "env_checks.hpp"
#include "log.hpp"
#include "media/probe.hpp"
#include "pacing.hpp"
#include "python_error.hpp"

namespace cosmos::emulator {

namespace {

constexpr long k_max_pixels = 940L * 529L;  // the largest frame that fits Pixtral's context
constexpr int k_context = 4096;
constexpr const char* k_checkpoint =
    "nvidia/Cosmos-UpsamplePrompt1-12B-Transfer/consolidated.safetensors";

const std::vector<std::string> k_dist_keys = {"RANK",
                                              "LOCAL_RANK",
                                              "WORLD_SIZE",
                                              "LOCAL_WORLD_SIZE",
                                              "GROUP_RANK",
                                              "ROLE_RANK",
                                              "ROLE_NAME",
                                              "OMP_NUM_THREADS",
                                              "MASTER_ADDR",
                                              "MASTER_PORT",
                                              "TORCHELASTIC_USE_AGENT_STORE",
                                              "TORCHELASTIC_MAX_RESTARTS",
                                              "TORCHELASTIC_RUN_ID",
                                              "TORCH_NCCL_ASYNC_ERROR_HANDLING",
                                              "TORCHELASTIC_ERROR_FILE"};

constexpr std::string_view k_usage =
    "usage: upsampler_pipeline.py [-h] [--prompt PROMPT] --input_video INPUT_VIDEO\n"
    "                             [--checkpoint_dir CHECKPOINT_DIR]\n"
    "                             [--offload_prompt_upsampler]\n";

struct UpsamplerArgs {
    std::string prompt;
    std::string input_video;
    std::string checkpoint_dir = "checkpoints";
    bool offload = false;
    bool help = false;
};

core::Result<UpsamplerArgs> parse(const std::vector<std::string>& argv) {
    UpsamplerArgs a;
    bool have_video = false;
    for (std::size_t i = 0; i < argv.size(); ++i) {
        const std::string& token = argv[i];
        if (token == "-h" || token == "--help") {
            a.help = true;
            return a;
        }
        auto eq = token.find('=');
        std::string name = token.substr(0, eq);
        if (name == "--offload_prompt_upsampler" && eq == std::string::npos) {
            a.offload = true;
            continue;
        }
        std::string* target = name == "--prompt"           ? &a.prompt
                              : name == "--input_video"    ? &a.input_video
                              : name == "--checkpoint_dir" ? &a.checkpoint_dir
                                                           : nullptr;
        if (target == nullptr) {
            return usage_error("unrecognized arguments: " + token);
        }
        if (eq != std::string::npos) {
            *target = token.substr(eq + 1);
        } else if (i + 1 < argv.size() && !argv[i + 1].starts_with("--")) {
            *target = argv[++i];
        } else {
            return usage_error(fmt::format("argument {}: expected one argument", name));
        }
        have_video = have_video || target == &a.input_video;
    }
    if (!have_video) {
        return usage_error("the following arguments are required: --input_video");
    }
    return a;
}

// vLLM's log format (it logs to stdout).
void vllm_info(const std::string& where, const std::string& message) {
    std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    print_stdout(fmt::format("INFO {:%m-%d %H:%M:%S} [{}] {}\n", local, where, message));
}

// Pixtral's image tokens for one frame, scaled so that 940x529 is just under half the context.
int image_tokens(long pixels) {
    return static_cast<int>(std::ceil(static_cast<double>(pixels) * 2000.0 / k_max_pixels));
}

core::Result<std::string> upsample(const UpsamplerArgs& a, TransferContext& ctx) {
    std::filesystem::path model = std::filesystem::path(a.checkpoint_dir) / k_checkpoint;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(model, ec)) {
        return file_not_found(model.string(), "main>PixtralPromptUpsampler>_load_upsampler_model");
    }
    if (core::Status gpus =
            ctx.gpus.acquire(ctx.config, 1, "main>PixtralPromptUpsampler>_load_upsampler_model");
        !gpus) {
        return core::fail(std::move(gpus).error());
    }
    ctx.recorder.begin_hold(ctx.gpus.devices());
    vllm_info("__init__.py:239", "Automatically detected platform cuda.");
    vllm_info("llm_engine.py:240",
              fmt::format("Initializing a V0 LLM engine with config: model='{}', "
                          "tokenizer_mode=mistral, max_seq_len=4096",
                          model.parent_path().string()));
    if (core::Status slept = sleep_for(ctx.config.load_seconds * ctx.config.time_scale); !slept) {
        return core::fail(std::move(slept).error());
    }
    // extract_video_frames: the first two frames at full size; OpenCV reads nothing from a file
    // it cannot open (the prompt then goes alone).
    int frames = 0;
    long pixels = 0;
    auto info = media::probe_video(a.input_video);
    if (info) {
        frames = static_cast<int>(std::min<std::int64_t>(2, info->frames));
        pixels = static_cast<long>(info->width) * info->height;
    } else {
        print_stderr(
            fmt::format("[ WARN:0@0.012] global cap.cpp:175 open VIDEOIO(FFMPEG): "
                        "can't open file {}\n",
                        a.input_video));
    }
    std::string prompt = a.prompt.empty() ? "describe the following images" : a.prompt;
    int text_tokens = 16 + static_cast<int>(prompt.size() / 4);
    int total = text_tokens + frames * image_tokens(pixels);
    if (frames > 0 && pixels > k_max_pixels) {
        return raise_py("ValueError",
                        fmt::format("The prompt (total length {}) is too long to fit into the "
                                    "model (context length {}). Make sure that `max_model_len` "
                                    "is no smaller than the number of text tokens plus "
                                    "multimodal tokens. For image inputs, the number of image "
                                    "tokens depends on the number of images, and possibly "
                                    "their aspect ratios as well.",
                                    std::max(total, k_context + 1),
                                    k_context),
                        "main>_prompt_upsample_with_offload>_prompt_upsample>chat");
    }
    if (core::Status thought = sleep_for(5 * ctx.config.time_scale); !thought) {
        return core::fail(std::move(thought).error());
    }
    std::string subject = a.prompt.empty() ? std::string("The video shows a scene.") : a.prompt;
    return subject +
           " The scene is captured in photorealistic detail with natural, consistent lighting, "
           "smooth camera motion and coherent objects.";
}

int report(const core::Error& error, const TransferContext& ctx) {
    if (error.code == core::ErrorCode::invalid_input) {
        print_stderr(std::string(k_usage) + "upsampler_pipeline.py: error: " + error.message +
                     "\n");
    } else if (error.code == core::ErrorCode::interrupted) {
        if (error.message == "SIGINT") {
            print_traceback(ctx.script_path, "main>sleep", "KeyboardInterrupt");
        }
    } else {
        print_traceback(ctx.script_path, error.hint, error.message);
    }
    ctx.recorder.set_error(error.message);
    return exit_code_of(error);
}

core::Status check_environment() {
    if (auto imported = check_import(); !imported) {
        return imported;
    }
    for (const auto& key : k_dist_keys) {
        if (std::getenv(key.c_str()) == nullptr) {
            return raise_py("KeyError", py_repr(key), "<module>");
        }
    }
    return {};
}

}  // namespace

std::string upsampler_script_path() {
    if (const char* given = std::getenv("COSMOS_EMULATOR_SCRIPT")) {
        return given;
    }
    std::error_code ec;
    return (std::filesystem::current_path(ec) / k_upsampler_script).string();
}

int run_upsampler(const std::vector<std::string>& argv, TransferContext& ctx) {
    ctx.recorder.set_script_argv(argv);
    if (auto env_ok = check_environment(); !env_ok) {
        const core::Error& e = env_ok.error();
        if (e.hint == "<module>" && e.message.starts_with("KeyError")) {
            // raised in `if __name__ == "__main__":`, after the imports
            print_stderr(
                fmt::format("Traceback (most recent call last):\n  File \"{}\", line 50, "
                            "in <module>\n    del os.environ[dist_key]\n{}\n",
                            ctx.script_path,
                            e.message));
            ctx.recorder.set_error(e.message);
            return 1;
        }
        return report(e, ctx);
    }
    const bool rank0 = std::string(std::getenv("RANK")) == "0";
    for (const auto& key : k_dist_keys) {
        ::unsetenv(key.c_str());
    }
    if (!rank0) {
        return 0;
    }
    auto args = parse(argv);
    if (!args) {
        return report(args.error(), ctx);
    }
    if (args->help) {
        print_stdout(std::string(k_usage));
        return 0;
    }
    ctx.recorder.set_args(nlohmann::ordered_json{{"prompt", args->prompt},
                                                 {"input_video", args->input_video},
                                                 {"checkpoint_dir", args->checkpoint_dir},
                                                 {"offload_prompt_upsampler", args->offload}});
    auto text = upsample(*args, ctx);
    if (!text) {
        return report(text.error(), ctx);
    }
    print_stdout("Upsampled prompt: " + *text + "\n");
    ctx.recorder.count_sample();
    return 0;
}

}  // namespace cosmos::emulator
