#include "core/decimal.hpp"

#include <cmath>

#include <gtest/gtest.h>

using namespace cosmos::core;

TEST(Decimal, PlainDecimalNumbersAreRead) {
    EXPECT_EQ(parse_decimal("0.6", "w").value(), 0.6);
    EXPECT_EQ(parse_decimal("-1", "w").value(), -1.0);
    EXPECT_EQ(parse_decimal("+2.5e-3", "w").value(), 2.5e-3);
    EXPECT_EQ(parse_decimal(".5", "w").value(), 0.5);
    EXPECT_EQ(parse_decimal("5.", "w").value(), 5.0);
    EXPECT_EQ(parse_decimal("0e-400", "w").value(), 0.0);
}

TEST(Decimal, MinusZeroIsZero) {
    for (const char* text : {"-0", "-0.0", "-0e5"}) {
        auto v = parse_decimal(text, "w");
        ASSERT_TRUE(v.has_value()) << text;
        EXPECT_EQ(*v, 0.0);
        EXPECT_FALSE(std::signbit(*v)) << text;
    }
}

TEST(Decimal, HexInfNanAndSpacesAreNotPlainDecimal) {
    for (const char* text : {"0x10",
                             "0X1p4",
                             "inf",
                             "-infinity",
                             "nan",
                             " 1",
                             "1 ",
                             "",
                             "1e",
                             "e5",
                             "1,5",
                             "--1",
                             "."}) {
        auto v = parse_decimal(text, "--weight 'depth=x'");
        ASSERT_FALSE(v.has_value()) << text;
        EXPECT_NE(v.error().message.find("is not a plain decimal number"), std::string::npos)
            << v.error().message;
    }
}

TEST(Decimal, TooSmallAndTooLargeSaySo) {
    auto tiny = parse_decimal("1e-320", "w");
    ASSERT_FALSE(tiny.has_value());
    EXPECT_NE(tiny.error().message.find("'1e-320' is too small"), std::string::npos)
        << tiny.error().message;
    auto huge = parse_decimal("1e400", "w");
    ASSERT_FALSE(huge.has_value());
    EXPECT_NE(huge.error().message.find("is too large"), std::string::npos);
}
