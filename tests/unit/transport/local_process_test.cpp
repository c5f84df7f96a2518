#include "transport/local_process.hpp"

#include <fstream>
#include <thread>

#include <signal.h>

#include <gtest/gtest.h>

#include "support/temp_dir.hpp"

using namespace cosmos::transport;

TEST(LocalProcess, StreamsLinesInOrderFromStdoutAndStderr) {
    std::vector<std::string> lines;
    auto r = run_process({{"/bin/sh", "-c", "echo one; echo two >&2; printf 'a\\rb\\n'; exit 3"}},
                         [&](std::string_view l) { lines.emplace_back(l); });
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->exit_code, 3);
    EXPECT_EQ(lines, (std::vector<std::string>{"one", "two", "a", "b"}));
}

TEST(LocalProcess, PassesEnvironmentAndWorkingDirectoryWithoutAShell) {
    std::vector<std::string> lines;
    ProcessSpec spec{
        {"/bin/sh", "-c", "echo \"$COSMOS_X\"; pwd"}, {{"COSMOS_X", "$(id) ; x"}}, "/tmp"};
    auto r = run_process(spec, [&](std::string_view l) { lines.emplace_back(l); });
    ASSERT_TRUE(r.has_value());
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(lines[0], "$(id) ; x");
    EXPECT_EQ(lines[1], "/tmp");
}

TEST(LocalProcess, ArgumentsAreNeverInterpretedByAShell) {
    std::vector<std::string> lines;
    auto r = run_process({{"/bin/echo", "a;rm -rf ~", "$(id)", "`id`"}},
                         [&](std::string_view l) { lines.emplace_back(l); });
    ASSERT_TRUE(r.has_value());
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0], "a;rm -rf ~ $(id) `id`");
}

TEST(LocalProcess, MissingProgramIsNotFound) {
    auto r = run_process({{"/nonexistent/torchrun"}}, [](std::string_view) {});
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, cosmos::core::ErrorCode::not_found);
    EXPECT_NE(r.error().message.find("/nonexistent/torchrun"), std::string::npos);
}

TEST(LocalProcess, CancelEndsTheWholeProcessGroup) {
    cosmos::test::TempDir dir;
    std::string pid_file = (dir / "grandchild.pid").string();
    std::atomic<bool> cancel{false};
    std::thread trigger([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        cancel = true;
    });
    // A child with a grandchild sleeping in the background: both must be gone afterwards.
    auto r = run_process(
        {{"/bin/sh", "-c", "sleep 30 & echo $! > \"$0\"; sleep 30", pid_file}},
        [](std::string_view) {},
        &cancel,
        std::chrono::milliseconds(500));
    trigger.join();
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(r->cancelled);
    EXPECT_NE(r->exit_code, 0);
    std::ifstream in(pid_file);
    pid_t grandchild = 0;
    in >> grandchild;
    ASSERT_GT(grandchild, 0);
    // Reaped by init or a zombie at most: it must not be running `sleep` any more. The group
    // got SIGKILL; on a loaded machine /proc may show it running for a moment after that (a
    // survivor of 5 s is a leak).
    std::string state;
    for (int i = 0; i < 100; ++i) {
        std::ifstream stat("/proc/" + std::to_string(grandchild) + "/stat");
        std::string pid, comm;
        state.clear();
        if (!(stat >> pid >> comm >> state) || state == "Z") {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_TRUE(state.empty() || state == "Z") << "grandchild still " << state;
}
