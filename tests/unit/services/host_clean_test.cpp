// `cosmos hosts clean --older-than`: the ages it takes and refuses. The cleaning itself runs on
// a real SSH host in tests/integration/test_remote.py.

#include "services/host_clean.hpp"

#include <gtest/gtest.h>

namespace cosmos::services {
namespace {

TEST(HostClean, ParsesAgesWithUnits) {
    using std::chrono::seconds;
    EXPECT_EQ(parse_age("7d").value(), seconds(7 * 86400));
    EXPECT_EQ(parse_age("12h").value(), seconds(12 * 3600));
    EXPECT_EQ(parse_age("30m").value(), seconds(1800));
    EXPECT_EQ(parse_age("45s").value(), seconds(45));
    EXPECT_EQ(parse_age("0").value(), seconds(0));
    for (const char* bad : {"", "d", "-1d", "1x", "7 d", "1.5h", "99999999999d", "+3h"}) {
        auto r = parse_age(bad);
        ASSERT_FALSE(r.has_value()) << bad;
        EXPECT_EQ(r.error().code, core::ErrorCode::invalid_input);
        EXPECT_NE(r.error().hint.find("7d"), std::string::npos);
    }
}

}  // namespace
}  // namespace cosmos::services
