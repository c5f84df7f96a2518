#include "support/engine_fakes.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "core/shell_quote.hpp"

namespace cosmos::test {

std::vector<std::string> FakeModel::launch_command(const runtime::LaunchRequest& r) const {
    // A test's own script, from the scenario's values (numbers and test strings only).
    std::string s = "d=$1; mkdir -p \"$d/outputs\"; {\n";
    s += "echo '[12-06 10:00:00|INFO|transfer.py:1:main] loading the model'\n";
    for (int c = 0; c < m_scenario.chunks; ++c) {
        s += "echo '[12-06 10:00:01|INFO|transfer.py:2:main] Completed diffusion sampling'\n";
    }
    if (m_scenario.guardrail) {
        s += "echo '[12-06 10:00:02|CRITICAL|guardrail.py:3:check] Guardrail blocked generation'\n";
    }
    bool batch = r.command.argv.end() !=
                 std::find(r.command.argv.begin(), r.command.argv.end(), "--batch_input_path");
    for (std::size_t i = 0; i < m_scenario.videos.size(); ++i) {
        if (!m_scenario.videos[i]) {
            continue;
        }
        std::string dir = batch ? fmt::format("$d/outputs/video_{}", i) : std::string("$d/outputs");
        std::string name = batch ? "output" : "output";
        std::string text = batch ? "prompt" : "output";
        s += fmt::format(
            "mkdir -p \"{0}\"; echo video > \"{0}/{1}.mp4\"; echo p > \"{0}/{2}.txt\"\n",
            dir,
            name,
            text);
        s += fmt::format(
            "echo '[12-06 10:00:03|INFO|transfer.py:4:main] Saved video to {}/{}.mp4'\n",
            dir,
            name);
    }
    if (!m_scenario.error_line.empty()) {
        s += "echo " + core::shell_quote(m_scenario.error_line) + "\n";
    }
    s += fmt::format("}} >> \"$d/run.log\" 2>&1; echo {} > \"$d/exit_code\"\n",
                     m_scenario.exit_code);
    return {"sh", "-c", s, "fake-model", r.job_dir};
}

std::vector<std::string> FakeModel::status_command(const runtime::LaunchRequest& r) const {
    return {"sh",
            "-c",
            "if [ -f \"$1/exit_code\" ]; then printf 'exited %s\\n' \"$(cat \"$1/exit_code\")\"; "
            "else echo absent; fi",
            "fake-status",
            r.job_dir};
}

core::Result<runtime::Observed> FakeModel::parse_status(int exit_code,
                                                        const std::string& out) const {
    return runtime::parse_state_line(exit_code, out);
}

core::Result<int> FlakyShell::stream(const std::vector<std::string>& argv,
                                     const transport::OutputLineFn& on_line,
                                     const std::atomic<bool>* stop) {
    ++m_streams;
    if (m_drops.load() <= 0) {
        return m_local.stream(argv, on_line, stop);
    }
    --m_drops;
    int seen = 0;
    auto r = m_local.stream(
        argv,
        [&](std::string_view line) {
            if (seen++ < m_lines_before_drop) {
                on_line(line);
            }
        },
        stop);
    if (!r) {
        return r;
    }
    return core::fail(core::ErrorCode::host_unreachable, "the connection dropped (FlakyShell)");
}

SeamsGuard::SeamsGuard(ModelScenario model, std::shared_ptr<transport::Shell> shell) {
    backends::HostSeams seams;
    seams.runtime = [model](const backends::RemoteHost&) {
        return std::make_shared<FakeModel>(model);
    };
    if (shell) {
        seams.shell =
            [shell](const config::HostConfig&) -> core::Result<std::shared_ptr<transport::Shell>> {
            return shell;
        };
    }
    m_previous = backends::set_host_seams(std::move(seams));
}

SeamsGuard::~SeamsGuard() {
    backends::set_host_seams(std::move(m_previous));
}

}  // namespace cosmos::test
