// The command a host that serves runs: the protocol's default (with the Reasoner's override for
// that role) or the user's, with {model} and {port} filled in.

#include "backends/model_server.hpp"

#include <gtest/gtest.h>

using cosmos::backends::server_command;
using cosmos::config::ServerSettings;

TEST(ModelServer, DefaultCommandsPerProtocolAndRole) {
    ServerSettings s;
    s.model = "nvidia/Cosmos3-Nano";
    EXPECT_EQ(server_command(s, 8123),
              (std::vector<std::string>{"vllm",
                                        "serve",
                                        "nvidia/Cosmos3-Nano",
                                        "--omni",
                                        "--model-class-name",
                                        "Cosmos3OmniDiffusersPipeline",
                                        "--allowed-local-media-path",
                                        "/",
                                        "--host",
                                        "127.0.0.1",
                                        "--port",
                                        "8123"}));
    s.role = "reasoner";
    EXPECT_EQ(server_command(s, 8123),
              (std::vector<std::string>{
                  "vllm",
                  "serve",
                  "nvidia/Cosmos3-Nano",
                  "--hf-overrides",
                  R"({"architectures": ["Cosmos3ReasonerForConditionalGeneration"]})",
                  "--allowed-local-media-path",
                  "/",
                  "--host",
                  "127.0.0.1",
                  "--port",
                  "8123"}));
    s.protocol = "sglang";
    EXPECT_EQ(server_command(s, 30000),
              (std::vector<std::string>{"sglang",
                                        "serve",
                                        "--model-path",
                                        "nvidia/Cosmos3-Nano",
                                        "--host",
                                        "127.0.0.1",
                                        "--port",
                                        "30000"}));
    s.command = {"/opt/bin/vllm", "serve", "{model}", "--port={port}", "x{model}y"};
    EXPECT_EQ(
        server_command(s, 9),
        (std::vector<std::string>{
            "/opt/bin/vllm", "serve", "nvidia/Cosmos3-Nano", "--port=9", "xnvidia/Cosmos3-Nanoy"}));
    // A Slurm job's server listens on the node's addresses ({host}), the defaults too.
    s.command = {"vllm", "serve", "{model}", "--host", "{host}", "--port", "{port}"};
    EXPECT_EQ(server_command(s, 9, "0.0.0.0"),
              (std::vector<std::string>{
                  "vllm", "serve", "nvidia/Cosmos3-Nano", "--host", "0.0.0.0", "--port", "9"}));
    s.command.clear();
    EXPECT_EQ(server_command(s, 9, "0.0.0.0").at(5), "0.0.0.0");
}
