#pragma once
// The log of the emulated Cosmos-Transfer2.5 examples/inference.py: loguru lines
// "[MM-DD HH:MM:SS|LEVEL|FILE:LINE:FUNCTION] message" on stdout. As with the real console filter,
// lines of the package's private modules (cosmos_transfer2/_src/...) reach stdout only with
// COSMOS_VERBOSE=1. Once the output folder is set up, every line also goes to
// OUTPUT_DIR/debug.log and the stdout ones to OUTPUT_DIR/console.log.

#include <filesystem>
#include <fstream>
#include <string_view>

#include "log.hpp"

namespace cosmos::emulator {

// Where a line comes from in the real source (stable, so log parsers can rely on them).
struct LogSite {
    std::string_view file;
    int line = 0;
    std::string_view function;
};

namespace sites25 {
inline constexpr std::string_view k_inference = "cosmos_transfer2/inference.py";
inline constexpr std::string_view k_pipeline =
    "cosmos_transfer2/_src/transfer2/inference/inference_pipeline.py";
inline constexpr std::string_view k_config = "cosmos_transfer2/config.py";
inline constexpr LogSite k_benchmark_repeat{"examples/inference.py", 71, "main"};
inline constexpr LogSite k_log_saved{
    "packages/cosmos-oss/cosmos_oss/init.py", 96, "_init_log_files"};
inline constexpr LogSite k_checkpoint{
    "cosmos_transfer2/_src/imaginaire/utils/checkpoint_db.py", 165, "_hf_download"};
inline constexpr LogSite k_loading{k_pipeline, 167, "__init__"};
inline constexpr LogSite k_found_keys{k_inference, 146, "__init__"};
inline constexpr LogSite k_multicontrol{k_inference, 148, "__init__"};
inline constexpr LogSite k_saved_config{k_inference, 156, "__init__"};
inline constexpr LogSite k_generating{k_inference, 163, "generate"};
inline constexpr LogSite k_processing{k_inference, 167, "generate"};
inline constexpr LogSite k_benchmark{k_inference, 173, "generate"};
inline constexpr LogSite k_saved_args{k_inference, 208, "_generate_sample"};
inline constexpr LogSite k_guard_prompt{k_inference, 213, "_generate_sample"};
inline constexpr LogSite k_blocked{k_inference, 217, "_generate_sample"};
inline constexpr LogSite k_passed{k_inference, 223, "_generate_sample"};
inline constexpr LogSite k_passed_negative{k_inference, 237, "_generate_sample"};
inline constexpr LogSite k_guard_disabled{k_inference, 239, "_generate_sample"};
inline constexpr LogSite k_paths{k_inference, 242, "_generate_sample"};
inline constexpr LogSite k_distilled_long{k_inference, 299, "_generate_sample"};
inline constexpr LogSite k_control_saved{k_inference, 311, "_generate_sample"};
inline constexpr LogSite k_mask_saved{k_inference, 316, "_generate_sample"};
inline constexpr LogSite k_guard_video{k_inference, 319, "_generate_sample"};
inline constexpr LogSite k_passed_video{k_inference, 329, "_generate_sample"};
inline constexpr LogSite k_guard_video_disabled{k_inference, 335, "_generate_sample"};
inline constexpr LogSite k_video_saved{k_inference, 343, "_generate_sample"};
inline constexpr LogSite k_seg_prompt{k_config, 546, "seg_control_prompt"};
inline constexpr LogSite k_input{k_pipeline, 472, "generate_img2world"};
inline constexpr LogSite k_controls{k_pipeline, 525, "generate_img2world"};
inline constexpr LogSite k_chunk{k_pipeline, 554, "generate_img2world"};
inline constexpr LogSite k_chunk_time{k_pipeline, 736, "generate_img2world"};
}  // namespace sites25

class Log25 {
public:
    Log25();

    // Opens OUTPUT_DIR/console.log and debug.log (truncated, as the real run does).
    void open_files(const std::filesystem::path& output_dir);

    // Prints one line (see the header comment for where it goes).
    void line(Level level, const LogSite& site, std::string_view message);

private:
    bool m_verbose = false;
    std::ofstream m_console;
    std::ofstream m_debug;
};

}  // namespace cosmos::emulator
