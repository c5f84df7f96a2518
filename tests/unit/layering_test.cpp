// The layer rule of docs/architecture.md: a layer only includes itself and layers below it.

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>

#include <gtest/gtest.h>

namespace fs = std::filesystem;

TEST(Layering, NoLayerIncludesALayerAboveIt) {
    const std::map<std::string, std::set<std::string>> allowed = {
        {"core", {}},
        {"model", {"core"}},
        {"media", {"core"}},
        {"transport", {"core"}},
        {"runtime", {"core", "model"}},
        {"config", {"core", "model"}},
        {"store", {"core", "model"}},
        {"backends", {"core", "config", "model", "media", "transport", "runtime"}},
        {"scheduler",
         {"core", "config", "model", "media", "transport", "runtime", "store", "backends"}},
        {"services",
         {"core",
          "config",
          "model",
          "media",
          "transport",
          "runtime",
          "store",
          "backends",
          "scheduler"}},
        {"cli",
         {"core",
          "config",
          "model",
          "media",
          "transport",
          "runtime",
          "store",
          "backends",
          "scheduler",
          "services",
          "web"}},
        {"web",
         {"core",
          "config",
          "model",
          "media",
          "transport",
          "runtime",
          "store",
          "backends",
          "scheduler",
          "services"}},
    };
    const std::regex include(R"re(^\s*#\s*include\s+"([a-z_]+)/)re");
    fs::path src = fs::path(COSMOS_SOURCE_DIR) / "src";
    int checked = 0;
    for (const auto& entry : fs::recursive_directory_iterator(src)) {
        if (!entry.is_regular_file()) {
            continue;
        }
        auto rel = fs::relative(entry.path(), src);
        if (rel.begin() == rel.end() || std::next(rel.begin()) == rel.end()) {
            continue;  // main.cpp
        }
        std::string layer = rel.begin()->string();
        auto it = allowed.find(layer);
        ASSERT_NE(it, allowed.end()) << "unknown layer folder src/" << layer;
        std::ifstream in(entry.path());
        std::string line;
        while (std::getline(in, line)) {
            std::smatch m;
            if (std::regex_search(line, m, include)) {
                std::string target = m[1];
                ++checked;
                EXPECT_TRUE(target == layer || it->second.count(target) != 0)
                    << rel.string() << " includes " << target << "/ (layer " << layer << ")";
            }
        }
    }
    EXPECT_GT(checked, 20);
}
