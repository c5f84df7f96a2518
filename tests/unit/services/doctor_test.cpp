// `cosmos doctor`'s report: its JSON shape, verdicts and exit class; a configuration that does
// not parse stops the checks with the fix.

#include "services/doctor.hpp"

#include <fstream>

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "support/temp_dir.hpp"

using cosmos::core::ErrorCode;
using cosmos::services::DoctorCheck;
using cosmos::services::DoctorReport;
using cosmos::services::Verdict;

TEST(DoctorReport, JsonShapeAndTheFirstFailure) {
    DoctorReport r;
    r.checks.push_back({"config", "config", Verdict::ok, "fine", "", ErrorCode::internal});
    r.checks.push_back(
        {"host a", "disk", Verdict::warn, "9 GiB", "free some", ErrorCode::internal});
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r.first_failure(), nullptr);
    r.checks.push_back(
        {"host a", "host key", Verdict::fail, "changed", "trust", ErrorCode::auth_failed});
    r.checks.push_back(
        {"host b", "reachable", Verdict::fail, "down", "up", ErrorCode::host_unreachable});
    EXPECT_FALSE(r.ok());
    ASSERT_NE(r.first_failure(), nullptr);
    EXPECT_EQ(r.first_failure()->code, ErrorCode::auth_failed);
    auto j = cosmos::services::doctor_json(r);
    EXPECT_EQ(j["ok"], false);
    ASSERT_EQ(j["checks"].size(), 4u);
    EXPECT_EQ(j["checks"][0]["status"], "ok");
    EXPECT_TRUE(j["checks"][0]["fix"].is_null());
    EXPECT_EQ(j["checks"][1]["status"], "warn");
    EXPECT_EQ(j["checks"][2]["status"], "fail");
    EXPECT_EQ(j["checks"][2]["fix"], "trust");
    std::vector<std::string> keys;
    for (const auto& [k, v] : j["checks"][2].items()) {
        keys.push_back(k);
    }
    EXPECT_EQ(keys, (std::vector<std::string>{"scope", "check", "status", "detail", "fix"}));
}

TEST(DoctorRun, AConfigThatDoesNotParseIsOneFailureWithItsFix) {
    cosmos::test::TempDir dir;
    auto cfg = dir.path() / "cosmos.toml";
    std::ofstream(cfg) << "[hosts.gpu1\nkind = \"ssh\"\n";
    cosmos::services::DoctorOptions opts;
    opts.load.explicit_path = cfg;
    auto report = cosmos::services::run_doctor(opts);
    ASSERT_TRUE(report) << report.error().message;
    ASSERT_EQ(report->checks.size(), 1u);
    const auto& c = report->checks[0];
    EXPECT_EQ(c.scope, "config");
    EXPECT_EQ(c.status, Verdict::fail);
    EXPECT_EQ(c.code, ErrorCode::config);
    EXPECT_NE(c.detail.find("cosmos.toml"), std::string::npos) << c.detail;
    EXPECT_FALSE(c.fix.empty());
}
