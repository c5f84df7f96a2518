#include "record.hpp"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <system_error>

#include <fcntl.h>
#include <unistd.h>

namespace cosmos::emulator {

namespace {

nlohmann::ordered_json env_or_null(const char* name) {
    const char* v = std::getenv(name);
    return v != nullptr ? nlohmann::ordered_json(v) : nlohmann::ordered_json(nullptr);
}

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

Recorder::Recorder(std::string path, std::string mode, const std::vector<std::string>& argv)
    : m_path(std::move(path)) {
    std::error_code ec;
    m_line["mode"] = std::move(mode);
    m_line["argv"] = argv;
    m_line["cwd"] = std::filesystem::current_path(ec).string();
    nlohmann::ordered_json env;
    for (const char* name : {"CUDA_VISIBLE_DEVICES",
                             "PYTHONPATH",
                             "WORLD_SIZE",
                             "RANK",
                             "LOCAL_RANK",
                             "CHECKPOINT_DIR",
                             "NUM_GPU"}) {
        env[name] = env_or_null(name);
    }
    const char* token = std::getenv("HF_TOKEN");
    env["HF_TOKEN"] = token != nullptr && *token != '\0' ? "yes" : "no";
    m_line["env"] = std::move(env);
    m_line["script_argv"] = nullptr;
    m_line["args"] = nullptr;
    m_line["controls"] = nullptr;
    m_line["samples"] = nlohmann::ordered_json::array();
    m_line["outputs"] = nlohmann::ordered_json::array();
    m_line["weight_tensors"] = nlohmann::ordered_json::array();
    m_line["error"] = nullptr;
    m_line["pid"] = ::getpid();
    m_line["gpus"] = nlohmann::ordered_json::array();
    m_line["model_load"] = false;
    m_line["samples_generated"] = 0;
    m_line["hold_start_ms"] = nullptr;
    m_line["hold_end_ms"] = nullptr;
}

void Recorder::begin_hold(const std::vector<int>& gpus) {
    m_line["gpus"] = gpus;
    m_line["model_load"] = true;
    m_line["hold_start_ms"] = now_ms();
    m_line["hold_end_ms"] = nullptr;
}

void Recorder::end_hold() {
    if (!m_line["hold_start_ms"].is_null() && m_line["hold_end_ms"].is_null()) {
        m_line["hold_end_ms"] = now_ms();
    }
}

void Recorder::count_sample() {
    m_line["samples_generated"] = m_line["samples_generated"].get<int>() + 1;
}

void Recorder::set_script_argv(const std::vector<std::string>& argv) {
    m_line["script_argv"] = argv;
}

void Recorder::set_args(const nlohmann::ordered_json& args) {
    m_line["args"] = args;
}

void Recorder::set_controls(const nlohmann::ordered_json& controls) {
    m_line["controls"] = controls;
}

void Recorder::add_sample(const nlohmann::ordered_json& sample) {
    m_line["samples"].push_back(sample);
}

void Recorder::set_weight_tensors(const nlohmann::ordered_json& tensors) {
    m_line["weight_tensors"] = tensors;
}

void Recorder::add_output(const std::string& path) {
    m_line["outputs"].push_back(path);
}

void Recorder::set_error(std::string_view error) {
    m_line["error"] = std::string(error);
}

void Recorder::finish(int exit_code) {
    end_hold();
    if (m_done || m_path.empty()) {
        m_done = true;
        return;
    }
    m_done = true;
    m_line["exit_code"] = exit_code;
    std::string text = m_line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    int fd = ::open(m_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        return;
    }
    // One write() per line keeps lines whole when several emulators append at once.
    [[maybe_unused]] ssize_t n = ::write(fd, text.data(), text.size());
    ::close(fd);
}

}  // namespace cosmos::emulator
