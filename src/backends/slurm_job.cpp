// Slurm batch scripts, command lines, output parsers and the state mapping (see the header).

#include "backends/slurm_job.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/shell_quote.hpp"
#include "core/text.hpp"

namespace cosmos::backends {

// What std::isspace counts as space: Slurm output is trimmed of all of it.
constexpr std::string_view k_space = " \t\r\n\v\f";

using core::ErrorCode;
using core::fail;

namespace {

bool all_of_chars(std::string_view s, bool (*ok)(char)) {
    return !s.empty() && std::all_of(s.begin(), s.end(), ok);
}

bool name_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
}

bool time_char(char c) {
    return std::isdigit(static_cast<unsigned char>(c)) || c == ':' || c == '-';
}

bool job_id_char(char c) {
    return std::isdigit(static_cast<unsigned char>(c)) || c == '_';
}

bool env_name_ok(std::string_view s) {
    if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) {
        return false;
    }
    return std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    });
}

bool has_newline(std::string_view s) {
    return s.find_first_of("\n\r") != std::string_view::npos;
}

core::Result<void> check_name(std::string_view what, std::string_view value) {
    if (!all_of_chars(value, name_char)) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("invalid Slurm {} {}", what, core::shell_quote(value)),
                    "use only letters, digits, '_', '.' and '-'");
    }
    return {};
}

// A path sbatch reads from the #SBATCH header: absolute, with no whitespace, quotes, `#`, NUL
// or backslash (which turns off Slurm's %-patterns).
core::Result<void> check_header_path(std::string_view what, std::string_view value) {
    if (value.empty() || value[0] != '/' ||
        value.find_first_of(std::string_view(" \t\n\r\v\f'\"\\`#\0", 12)) !=
            std::string_view::npos) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("invalid Slurm {} {}", what, core::shell_quote(value)),
                    "use an absolute path without spaces, quotes, backslashes or #");
    }
    return {};
}

core::Status check_spec(const SlurmJobSpec& spec) {
    if (auto s = check_name("job name", spec.job_name); !s) {
        return s;
    }
    if (auto s = check_name("partition", spec.partition); !s) {
        return s;
    }
    if (spec.account) {
        if (auto s = check_name("account", *spec.account); !s) {
            return s;
        }
    }
    if (spec.time_limit && !all_of_chars(*spec.time_limit, time_char)) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("invalid Slurm time limit {}", core::shell_quote(*spec.time_limit)),
                    "use minutes, H:MM:SS or D-HH:MM:SS");
    }
    if (spec.gpus < 0) {
        return fail(ErrorCode::invalid_input, fmt::format("invalid GPU count {}", spec.gpus));
    }
    if (spec.cpus_per_task && *spec.cpus_per_task < 1) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("invalid CPUs per task {}", *spec.cpus_per_task));
    }
    if (spec.array_size && *spec.array_size < 1) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("invalid job array size {}", *spec.array_size));
    }
    if (auto s = check_header_path("output path", spec.output_path); !s) {
        return s;
    }
    if (auto s = check_header_path("work dir", spec.work_dir); !s) {
        return s;
    }
    if (spec.exit_code_path.empty() || spec.exit_code_path[0] != '/' ||
        has_newline(spec.exit_code_path)) {
        return fail(
            ErrorCode::invalid_input,
            fmt::format("invalid exit-code path {}", core::shell_quote(spec.exit_code_path)),
            "use an absolute path on one line");
    }
    for (const auto& id : spec.dependency_afterok) {
        if (!all_of_chars(id, job_id_char)) {
            return fail(ErrorCode::invalid_input,
                        fmt::format("invalid Slurm job id {}", core::shell_quote(id)));
        }
    }
    if (spec.command.empty()) {
        return fail(ErrorCode::invalid_input, "a Slurm job needs a command");
    }
    for (const auto& arg : spec.command) {
        if (has_newline(arg)) {
            return fail(
                ErrorCode::invalid_input,
                fmt::format("newline in a Slurm job's argument {}", core::shell_quote(arg)));
        }
    }
    for (const auto& [name, value] : spec.env) {
        if (!env_name_ok(name)) {
            return fail(
                ErrorCode::invalid_input,
                fmt::format("invalid environment variable name {}", core::shell_quote(name)));
        }
        if (has_newline(value)) {
            return fail(ErrorCode::invalid_input,
                        fmt::format("newline in the value of environment variable {}", name));
        }
    }
    return {};
}

std::optional<long long> to_number(std::string_view s) {
    long long v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size() || s.empty()) {
        return std::nullopt;
    }
    return v;
}

// "3:0" (exit code:signal) into the status.
void set_exit_pair(SlurmJobStatus& st, std::string_view text) {
    auto colon = text.find(':');
    auto code = to_number(text.substr(0, colon));
    auto sig = colon == std::string_view::npos ? std::optional<long long>(0)
                                               : to_number(text.substr(colon + 1));
    if (!code || !sig) {
        return;
    }
    st.exit_code = static_cast<int>(*code);
    if (*sig != 0) {
        st.signal = static_cast<int>(*sig);
    }
}

// A number in squeue's JSON: a plain number, or {"set": bool, "number": N} (Slurm 23.02+);
// null or an unset object is nothing.
std::optional<long long> json_number(const nlohmann::json& j) {
    if (j.is_number_integer()) {
        return j.get<long long>();
    }
    if (j.is_object() && j.value("set", true) && j.contains("number") &&
        j["number"].is_number_integer()) {
        return j["number"].get<long long>();
    }
    return std::nullopt;
}

std::string json_string(const nlohmann::json& job, const char* key) {
    auto it = job.find(key);
    if (it == job.end()) {
        return {};
    }
    if (it->is_string()) {
        return it->get<std::string>();
    }
    if (it->is_array() && !it->empty() && it->front().is_string()) {  // job_state in 23.02+
        return it->front().get<std::string>();
    }
    return {};
}

// Slurm's key=value records, where a value may contain spaces ("Reason=... Dependency=...").
std::vector<std::pair<std::string, std::string>> key_values(std::string_view text) {
    std::vector<std::pair<std::string, std::string>> out;
    size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) {
            ++i;
        }
        size_t end = i;
        while (end < text.size() && !std::isspace(static_cast<unsigned char>(text[end]))) {
            ++end;
        }
        std::string_view word = text.substr(i, end - i);
        i = end;
        if (word.empty()) {
            break;
        }
        auto eq = word.find('=');
        bool is_key = eq != std::string_view::npos && eq > 0 &&
                      std::isalpha(static_cast<unsigned char>(word[0])) &&
                      std::all_of(word.begin(), word.begin() + static_cast<long>(eq), [](char c) {
                          return std::isalnum(static_cast<unsigned char>(c)) || c == '_' ||
                                 c == '/' || c == ':';
                      });
        if (is_key) {
            out.emplace_back(std::string(word.substr(0, eq)), std::string(word.substr(eq + 1)));
        } else if (!out.empty()) {
            out.back().second += " ";
            out.back().second += word;
        }
    }
    return out;
}

SlurmJobStatus status_from_key_values(const std::vector<std::pair<std::string, std::string>>& kv) {
    SlurmJobStatus st;
    for (const auto& [key, value] : kv) {
        if (key == "JobId") {
            st.job_id = value;
        } else if (key == "ArrayJobId") {
            st.array_job_id = value;
        } else if (key == "ArrayTaskId") {
            if (auto n = to_number(value)) {
                st.array_task_id = static_cast<int>(*n);
            }
        } else if (key == "JobState") {
            st.state_name = value;
            st.state = parse_slurm_state(value);
        } else if (key == "Reason") {
            st.reason = value;
        } else if (key == "ExitCode") {
            set_exit_pair(st, value);
        } else if (key == "Restarts" || key == "RestartCnt") {
            if (auto n = to_number(value)) {
                st.restart_count = static_cast<int>(*n);
            }
        } else if (key == "NodeList") {
            st.nodes = value == "(null)" ? "" : value;
        } else if (key == "StdOut") {
            st.std_out = value;
        }
    }
    return st;
}

}  // namespace

core::Result<std::string> slurm_batch_script(const SlurmJobSpec& spec) {
    if (auto s = check_spec(spec); !s) {
        return fail(std::move(s).error());
    }
    std::string out = "#!/bin/bash\n";
    auto header = [&out](std::string_view line) { out += fmt::format("#SBATCH {}\n", line); };
    header("--job-name=" + spec.job_name);
    header("--partition=" + spec.partition);
    if (spec.account) {
        header("--account=" + *spec.account);
    }
    if (spec.time_limit) {
        header("--time=" + *spec.time_limit);
    }
    if (spec.gpus > 0) {
        header(fmt::format("--gres=gpu:{}", spec.gpus));
    }
    if (spec.cpus_per_task) {
        header(fmt::format("--cpus-per-task={}", *spec.cpus_per_task));
    }
    header("--output=" + spec.output_path);
    header("--open-mode=append");  // a requeue must not truncate the first run's log
    header("--chdir=" + spec.work_dir);
    header("--kill-on-invalid-dep=yes");  // or a failed parent leaves us PENDING forever
    if (!spec.dependency_afterok.empty()) {
        std::string dep = "--dependency=afterok";
        for (const auto& id : spec.dependency_afterok) {
            dep += ":" + id;
        }
        header(dep);
    }
    if (spec.array_size) {
        header(fmt::format("--array=0-{}", *spec.array_size - 1));
    }
    out += "# Written by cosmos. Runs the command once: a job Slurm requeues after it finished\n";
    out += "# exits with the recorded code instead of running again.\n";
    out += "exit_code_file=" + core::shell_quote(spec.exit_code_path) + "\n";
    if (spec.array_size) {
        out += "exit_code_file=\"$exit_code_file.${SLURM_ARRAY_TASK_ID}\"\n";
    }
    out += R"(if [ "${SLURM_RESTART_COUNT:-0}" -gt 0 ] && [ -f "$exit_code_file" ]; then
    code=$(cat "$exit_code_file")
    case "$code" in ''|*[!0-9]*) code=1 ;; esac
    echo "cosmos: Slurm restarted job ${SLURM_JOB_ID:-} (restart ${SLURM_RESTART_COUNT}) after it finished with $code; not running it again" >&2
    exit "$code"
fi
)";
    for (const auto& [name, value] : spec.env) {
        out += "export " + name + "=" + core::shell_quote(value) + "\n";
    }
    if (!spec.source_file.empty()) {
        std::string f = core::shell_quote(spec.source_file);
        out += "if [ -f " + f + " ]; then . " + f + "; rm -f " + f + "; fi\n";
    }
    out += "cd " + core::shell_quote(spec.work_dir) + " || exit 1\n";
    out += core::shell_join(spec.command) + "\n";
    out += R"(code=$?
printf '%s\n' "$code" > "$exit_code_file.tmp.$$" && mv -f "$exit_code_file.tmp.$$" "$exit_code_file"
exit "$code"
)";
    return out;
}

std::vector<std::string> sbatch_argv(const std::string& script_path) {
    return {"sbatch", "--parsable", script_path};
}

core::Result<std::string> parse_sbatch_output(std::string_view output) {
    std::string_view text = core::trim(output, k_space);
    // sbatch may print warnings first; the id is the last line
    if (auto nl = text.rfind('\n'); nl != std::string_view::npos) {
        text = core::trim(text.substr(nl + 1), k_space);
    }
    std::string_view id = text.substr(0, text.find(';'));
    if (!all_of_chars(id,
                      [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; })) {
        return fail(ErrorCode::remote_failed,
                    fmt::format("sbatch printed no job id: {}",
                                core::shell_quote(core::trim(output, k_space))));
    }
    return std::string(id);
}

std::vector<std::string> scancel_argv(const std::vector<std::string>& job_ids) {
    std::vector<std::string> argv{"scancel"};
    argv.insert(argv.end(), job_ids.begin(), job_ids.end());
    return argv;
}

std::vector<std::string> squeue_argv() {
    return {"squeue", "--json"};
}

std::vector<std::string> scontrol_show_job_argv(const std::string& job_id) {
    return {"scontrol", "show", "job", job_id};
}

namespace {

struct StateName {
    SlurmState state;
    std::string_view name;
};

constexpr StateName kStates[] = {
    {SlurmState::pending, "PENDING"},
    {SlurmState::configuring, "CONFIGURING"},
    {SlurmState::running, "RUNNING"},
    {SlurmState::completing, "COMPLETING"},
    {SlurmState::completed, "COMPLETED"},
    {SlurmState::failed, "FAILED"},
    {SlurmState::cancelled, "CANCELLED"},
    {SlurmState::timeout, "TIMEOUT"},
    {SlurmState::out_of_memory, "OUT_OF_MEMORY"},
    {SlurmState::node_fail, "NODE_FAIL"},
    {SlurmState::preempted, "PREEMPTED"},
    {SlurmState::boot_fail, "BOOT_FAIL"},
    {SlurmState::deadline, "DEADLINE"},
    {SlurmState::requeued, "REQUEUED"},
    {SlurmState::suspended, "SUSPENDED"},
    {SlurmState::unknown, "UNKNOWN"},
};

}  // namespace

SlurmState parse_slurm_state(std::string_view text) {
    text = core::trim(text, k_space);
    text = text.substr(0, text.find_first_of(" \t+"));  // "CANCELLED by 0", "CANCELLED+"
    std::string upper(text);
    std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) {
        return static_cast<char>(std::toupper(c));
    });
    for (const auto& s : kStates) {
        if (upper == s.name) {
            return s.state;
        }
    }
    if (upper == "REQUEUE_HOLD" || upper == "REQUEUE_FED") {
        return SlurmState::requeued;
    }
    if (upper == "STOPPED") {
        return SlurmState::suspended;
    }
    if (upper == "OOM") {
        return SlurmState::out_of_memory;
    }
    return SlurmState::unknown;
}

std::string_view slurm_state_name(SlurmState state) {
    for (const auto& s : kStates) {
        if (s.state == state) {
            return s.name;
        }
    }
    return "UNKNOWN";
}

std::string_view slurm_outcome_name(SlurmOutcome outcome) {
    switch (outcome) {
        case SlurmOutcome::active:
            return "active";
        case SlurmOutcome::succeeded:
            return "succeeded";
        case SlurmOutcome::failed:
            return "failed";
        case SlurmOutcome::cancelled:
            return "cancelled";
        case SlurmOutcome::transient:
            return "transient";
    }
    return "active";
}

SlurmOutcome slurm_outcome(SlurmState state) {
    switch (state) {
        case SlurmState::completed:
            return SlurmOutcome::succeeded;
        case SlurmState::failed:
        case SlurmState::timeout:
        case SlurmState::out_of_memory:
        case SlurmState::deadline:
            return SlurmOutcome::failed;
        case SlurmState::cancelled:
            return SlurmOutcome::cancelled;
        case SlurmState::node_fail:
        case SlurmState::preempted:
        case SlurmState::boot_fail:
            return SlurmOutcome::transient;
        case SlurmState::pending:
        case SlurmState::configuring:
        case SlurmState::running:
        case SlurmState::completing:
        case SlurmState::requeued:
        case SlurmState::suspended:
        case SlurmState::unknown:
            return SlurmOutcome::active;
    }
    return SlurmOutcome::active;
}

SlurmVerdict slurm_verdict(const SlurmJobStatus& status) {
    SlurmVerdict v{slurm_outcome(status.state), {}};
    switch (v.outcome) {
        case SlurmOutcome::active:
        case SlurmOutcome::succeeded:
            break;
        case SlurmOutcome::failed:
            if (status.state != SlurmState::failed) {
                v.reason = std::string(slurm_state_name(status.state));
            } else if (status.signal) {
                v.reason = fmt::format("signal {}", *status.signal);
            } else {
                v.reason = fmt::format("exit code {}", status.exit_code.value_or(1));
            }
            break;
        case SlurmOutcome::cancelled:
        case SlurmOutcome::transient:
            v.reason = std::string(slurm_state_name(status.state));
            break;
    }
    return v;
}

core::Result<std::vector<SlurmJobStatus>> parse_squeue_json(std::string_view json_text) {
    auto doc = nlohmann::json::parse(json_text.begin(), json_text.end(), nullptr, false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("jobs") ||
        !doc["jobs"].is_array()) {
        return fail(ErrorCode::remote_failed,
                    "squeue --json printed no job list",
                    "check that this Slurm (21.08 or later) supports squeue --json");
    }
    std::vector<SlurmJobStatus> out;
    for (const auto& job : doc["jobs"]) {
        if (!job.is_object()) {
            continue;
        }
        SlurmJobStatus st;
        auto id = json_number(job.value("job_id", nlohmann::json()));
        if (!id) {
            continue;
        }
        st.job_id = std::to_string(*id);
        auto array_id = json_number(job.value("array_job_id", nlohmann::json()));
        auto task = json_number(job.value("array_task_id", nlohmann::json()));
        if (array_id && *array_id != 0) {
            st.array_job_id = std::to_string(*array_id);
            if (task) {
                st.array_task_id = static_cast<int>(*task);
            }
        }
        st.state_name = json_string(job, "job_state");
        st.state = parse_slurm_state(st.state_name);
        st.reason = json_string(job, "state_reason");
        st.nodes = json_string(job, "nodes");
        st.std_out = json_string(job, "standard_output");
        if (auto n = json_number(job.value("restart_cnt", nlohmann::json()))) {
            st.restart_count = static_cast<int>(*n);
        }
        const auto exit = job.value("exit_code", nlohmann::json());
        bool finished = slurm_outcome(st.state) != SlurmOutcome::active;
        if (exit.is_number_integer() && finished) {
            // a wait status: WIFEXITED → code in bits 8-15, else the signal in bits 0-6
            int status = exit.get<int>();
            if ((status & 0x7f) == 0) {
                st.exit_code = (status >> 8) & 0xff;
            } else {
                st.signal = status & 0x7f;
            }
        } else if (exit.is_object() && finished) {  // 23.02+: {"return_code": N, "signal": {...}}
            if (auto code = json_number(exit.value("return_code", nlohmann::json()))) {
                st.exit_code = static_cast<int>(*code);
            }
            const auto sig = exit.value("signal", nlohmann::json());
            if (sig.is_object()) {
                auto n = json_number(sig.value("id", nlohmann::json()));
                if (n && *n != 0) {
                    st.signal = static_cast<int>(*n);
                }
            }
        }
        out.push_back(std::move(st));
    }
    return out;
}

std::vector<SlurmJobStatus> slurm_jobs_of(const std::vector<SlurmJobStatus>& jobs,
                                          const std::string& job_id) {
    std::vector<SlurmJobStatus> out;
    for (const auto& j : jobs) {
        if (!job_id.empty() && (j.job_id == job_id || j.array_job_id == job_id)) {
            out.push_back(j);
        }
    }
    return out;
}

core::Result<std::vector<SlurmJobStatus>> parse_scontrol_show_job(std::string_view text) {
    std::vector<SlurmJobStatus> out;
    size_t start = 0;
    while (start < text.size()) {
        size_t blank = text.find("\n\n", start);
        std::string_view record = text.substr(
            start, blank == std::string_view::npos ? std::string_view::npos : blank - start);
        start = blank == std::string_view::npos ? text.size() : blank + 2;
        auto st = status_from_key_values(key_values(record));
        if (!st.job_id.empty()) {
            out.push_back(std::move(st));
        }
    }
    if (out.empty()) {
        return fail(ErrorCode::remote_failed,
                    fmt::format("scontrol show job printed no job: {}",
                                core::shell_quote(core::trim(text.substr(0, 200), k_space))));
    }
    return out;
}

core::Result<SlurmJobStatus> parse_jobcomp_line(std::string_view line) {
    auto kv = key_values(line);
    auto st = status_from_key_values(kv);
    bool has_state =
        std::any_of(kv.begin(), kv.end(), [](const auto& p) { return p.first == "JobState"; });
    if (st.job_id.empty() || !has_state) {
        return fail(
            ErrorCode::remote_failed,
            fmt::format("not a jobcomp record: {}", core::shell_quote(core::trim(line, k_space))));
    }
    return st;
}

std::vector<std::string> sacct_argv(const std::string& job_id) {
    return {"sacct", "-n", "-P", "-X", "-j", job_id, "-o", "JobID,State,ExitCode"};
}

core::Result<SlurmJobStatus> parse_sacct_line(std::string_view line) {
    line = core::trim(line, k_space);
    auto first = line.find('|');
    auto second = first == std::string_view::npos ? first : line.find('|', first + 1);
    if (second == std::string_view::npos || first == 0) {
        return fail(ErrorCode::remote_failed,
                    fmt::format("not a sacct record: {}", core::shell_quote(line)));
    }
    std::vector<std::pair<std::string, std::string>> kv{
        {"JobId", std::string(line.substr(0, first))},
        {"JobState", std::string(line.substr(first + 1, second - first - 1))},
        {"ExitCode", std::string(line.substr(second + 1))}};
    auto st = status_from_key_values(kv);
    if (auto underscore = st.job_id.find('_'); underscore != std::string::npos) {
        // sacct names an array task ARRAY_TASK; JobId is the array's id then
        st.array_job_id = st.job_id.substr(0, underscore);
        if (auto n = to_number(st.job_id.substr(underscore + 1))) {
            st.array_task_id = static_cast<int>(*n);
        }
    }
    return st;
}

}  // namespace cosmos::backends

namespace cosmos::backends {

namespace {

std::vector<std::string_view> split_view(std::string_view text, char sep) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= text.size(); ++i) {
        if (i == text.size() || text[i] == sep) {
            out.push_back(text.substr(start, i - start));
            start = i + 1;
        }
    }
    return out;
}

}  // namespace

std::vector<std::string> sinfo_nodes_argv(const std::string& partition) {
    return {"sinfo", "-N", "-h", "-p", partition, "-O", "NodeHost:|,StateLong:|,Gres:|,GresUsed:|"};
}

int gres_gpu_count(std::string_view gres) {
    int total = 0;
    for (auto entry : split_view(gres, ',')) {
        entry = core::trim(entry, k_space);
        if (entry.rfind("gpu", 0) != 0) {
            continue;  // (null), or another GRES (or an IDX list split at its comma)
        }
        entry = entry.substr(0, entry.find('('));
        auto colon = entry.rfind(':');
        if (colon == std::string_view::npos) {
            continue;
        }
        int n = 0;
        auto count = entry.substr(colon + 1);
        if (!count.empty() && all_of_chars(count, [](char c) {
                return std::isdigit(static_cast<unsigned char>(c)) != 0;
            })) {
            for (char c : count) {
                n = n * 10 + (c - '0');
            }
            total += n;
        }
    }
    return total;
}

std::vector<SlurmNode> parse_sinfo_nodes(std::string_view text) {
    std::vector<SlurmNode> nodes;
    for (auto line : split_view(text, '\n')) {
        auto f = split_view(core::trim(line, k_space), '|');
        if (f.size() < 4 || core::trim(f[0], k_space).empty()) {
            continue;
        }
        SlurmNode node{std::string(core::trim(f[0], k_space)),
                       std::string(core::trim(f[1], k_space)),
                       gres_gpu_count(f[2]),
                       gres_gpu_count(f[3])};
        bool seen = false;
        for (const auto& n : nodes) {
            seen = seen || n.name == node.name;
        }
        if (!seen) {
            nodes.push_back(std::move(node));
        }
    }
    return nodes;
}

std::vector<std::string> squeue_partition_argv(const std::string& partition) {
    return {"squeue", "-h", "-p", partition, "-o", "%i|%j|%T|%r"};
}

std::vector<SlurmQueueEntry> parse_squeue_partition(std::string_view text) {
    std::vector<SlurmQueueEntry> out;
    for (auto line : split_view(text, '\n')) {
        auto f = split_view(core::trim(line, k_space), '|');
        if (f.size() < 4 || f[1].rfind("cosmos-", 0) != 0) {
            continue;
        }
        out.push_back({std::string(f[0]), std::string(f[1]), std::string(f[2]), std::string(f[3])});
    }
    return out;
}

std::vector<std::string> scontrol_show_node_argv(const std::string& name) {
    return {"scontrol", "show", "node", name};
}

std::string parse_node_address(std::string_view text) {
    constexpr std::string_view key = "NodeAddr=";
    for (std::size_t at = text.find(key); at != std::string_view::npos;
         at = text.find(key, at + 1)) {
        if (at > 0 && text[at - 1] != ' ' && text[at - 1] != '\n' && text[at - 1] != '\t') {
            continue;
        }
        std::size_t begin = at + key.size();
        std::size_t end = text.find_first_of(" \t\r\n", begin);
        std::string_view value = text.substr(
            begin, end == std::string_view::npos ? std::string_view::npos : end - begin);
        // An address: a host name or IP, nothing a URL or a shell could misread.
        bool ok = !value.empty() && value != "(null)" &&
                  value.find_first_not_of(
                      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                      "0123456789.-:_") == std::string_view::npos;
        return ok ? std::string(value) : std::string();
    }
    return {};
}

}  // namespace cosmos::backends
