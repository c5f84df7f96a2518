// Kinds convert to and from their names in one place; an unknown name is no kind.

#include "core/kinds.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace cosmos::core {
namespace {

TEST(Kinds, RoundTripThroughTheirNames) {
    for (auto k : {HostKind::local, HostKind::ssh, HostKind::slurm}) {
        EXPECT_EQ(parse_host_kind(to_string(k)), k);
    }
    for (auto k : {RuntimeKind::native, RuntimeKind::docker, RuntimeKind::apptainer}) {
        EXPECT_EQ(parse_runtime_kind(to_string(k)), k);
    }
    for (auto k : {RunKind::transfer, RunKind::upscale, RunKind::enhance}) {
        EXPECT_EQ(parse_run_kind(to_string(k)), k);
    }
    EXPECT_EQ(fmt::format("{} {} {}", HostKind::slurm, RuntimeKind::docker, RunKind::enhance),
              "slurm docker enhance");
}

TEST(Kinds, UnknownNamesAreNoKind) {
    EXPECT_FALSE(parse_host_kind("podman"));
    EXPECT_FALSE(parse_host_kind("SSH"));
    EXPECT_FALSE(parse_runtime_kind("podman"));
    EXPECT_FALSE(parse_run_kind(""));
    EXPECT_FALSE(parse_run_kind("transfer "));
}

}  // namespace
}  // namespace cosmos::core
