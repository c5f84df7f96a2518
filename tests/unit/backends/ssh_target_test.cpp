// From host configuration to SSH target, shell and cache directory.

#include "backends/ssh_target.hpp"

#include <gtest/gtest.h>

namespace cosmos::backends {
namespace {

TEST(SshTarget, CopiesTheHostSettings) {
    config::HostConfig h;
    h.name = "gpu1";
    h.kind = cosmos::core::HostKind::ssh;
    h.ssh.address = "10.0.0.5";
    h.ssh.port = 2222;
    h.ssh.user = "me";
    h.ssh.key = "/home/me/.ssh/id_ed25519";
    auto t = ssh_target_for(h);
    EXPECT_EQ(t.name, "gpu1");
    EXPECT_EQ(t.address, "10.0.0.5");
    EXPECT_EQ(t.port, 2222);
    EXPECT_EQ(t.user, "me");
    EXPECT_EQ(t.key, "/home/me/.ssh/id_ed25519");
    EXPECT_TRUE(t.known_hosts.empty());
    auto shell = shell_for(h);  // connects lazily: no network here
    ASSERT_TRUE(shell);
    EXPECT_EQ((*shell)->describe(), "me@10.0.0.5:2222");
}

// The local host is a host like the others: a LocalShell on this machine.
TEST(SshTarget, LocalHostsAreLocalShells) {
    config::HostConfig h;
    h.name = "local";
    auto shell = shell_for(h);
    ASSERT_TRUE(shell);
    EXPECT_EQ((*shell)->describe(), "local");
}

TEST(SshTarget, CacheDirAndRemotePaths) {
    EXPECT_EQ(remote_path("~"), ".");
    EXPECT_EQ(remote_path("~/cosmos"), "cosmos");
    EXPECT_EQ(remote_path("/scratch/me"), "/scratch/me");
    config::HostConfig h;
    h.name = "gpu1";
    auto none = cache_dir_for(h);
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().code, core::ErrorCode::config);
    h.work_dir = "/scratch/me/";
    EXPECT_EQ(*cache_dir_for(h), "/scratch/me/cache");
    h.work_dir = "~/work";
    EXPECT_EQ(*cache_dir_for(h), "work/cache");
}

}  // namespace
}  // namespace cosmos::backends
