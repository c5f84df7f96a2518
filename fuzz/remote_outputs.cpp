// What cosmos parses from commands it runs on hosts (over SSH, or locally): nvidia-smi's GPU
// query, df, the checkpoint listing (find -printf) and sha256sum, the runtimes' status lines
// and docker's image identity, the SSH command server's reply header, a job's raw log. The
// first byte picks the parser (and an exit code); any output gives a value or an error.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "backends/checkpoint_hash.hpp"
#include "backends/remote_job.hpp"
#include "runtime/runtime.hpp"
#include "transport/ssh_command_server.hpp"

namespace {

using namespace cosmos;

void status(int exit_code, const std::string& out, core::RuntimeKind kind) {
    runtime::RuntimeOptions options;
    options.kind = kind;
    options.image = "nvcr.io/cosmos@sha256:" + std::string(64, 'a');
    auto rt = runtime::make_runtime(options);
    if (rt) {
        auto seen = (*rt)->parse_status(exit_code, out);
        (void)seen;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const int exit_code = (data[0] >> 4) == 15 ? 137 : (data[0] >> 4);
    std::string out(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (data[0] % 10) {
        case 0: {
            auto gpus = backends::parse_gpu_query(out);
            (void)gpus;
            break;
        }
        case 1: {
            auto free = backends::parse_df_available(out);
            (void)free;
            break;
        }
        case 2: {
            auto files = backends::parse_find_listing(out);
            (void)files;
            break;
        }
        case 3: {
            auto hashes = backends::parse_sha256sum(out);
            (void)hashes;
            break;
        }
        case 4: {
            auto seen = runtime::parse_state_line(exit_code, out);
            (void)seen;
            break;
        }
        case 5: {
            auto image = runtime::parse_image_inspect(out);
            (void)image;
            break;
        }
        case 6:
            status(exit_code, out, core::RuntimeKind::native);
            break;
        case 7:
            status(exit_code, out, core::RuntimeKind::docker);
            break;
        case 8: {
            auto header = transport::detail::parse_command_header(out, std::size_t{256} << 20);
            (void)header;
            break;
        }
        default: {
            auto log = backends::normalized_log(out);
            (void)log;
        }
    }
    return 0;
}
