#pragma once
// The command lines of the two Cosmos 3 servers the emulator stands in for (docs/emulator.md
// "Cosmos 3 server mode"): `vllm serve MODEL ...` and `sglang serve --model-path M ...`.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace cosmos::emulator {

enum class ServerFlavour { vllm, sglang };
enum class ServerRole { generator, reasoner };

struct ServerOptions {
    ServerFlavour flavour = ServerFlavour::vllm;
    ServerRole role = ServerRole::generator;
    std::string model;               // as given: "nvidia/Cosmos3-Nano" or a local path
    std::string served_name;         // --served-model-name, else `model`: the API's model name
    std::string host = "127.0.0.1";  // real vLLM and SGLang listen on 0.0.0.0 by default
    int port = 8000;                 // 0: any free port
    std::string api_key;             // empty: no authentication
    std::string allowed_media_path;  // --allowed-local-media-path; empty: no file:// URLs
    int gpus = 1;                    // --tensor-parallel-size / --num-gpus
    std::string ssl_certfile;        // --ssl-certfile and --ssl-keyfile: serve HTTPS
    std::string ssl_keyfile;
};

// "vllm" or "sglang".
std::string_view flavour_name(ServerFlavour flavour);
// "generator" or "reasoner".
std::string_view role_name(ServerRole role);

// The usage line the real CLI prints with its errors.
std::string server_usage(ServerFlavour flavour);

// Parses the arguments after the program name (starting with "serve"). Fails with
// invalid_input carrying the argparse-style message (the text after "error: ") for unknown
// flags, missing values, bad numbers, a model that is not Cosmos 3, or no role.
core::Result<ServerOptions> parse_server_args(ServerFlavour flavour,
                                              const std::vector<std::string>& argv);

}  // namespace cosmos::emulator
