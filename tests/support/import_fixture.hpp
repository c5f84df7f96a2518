#pragma once
// What the import tests share: a fresh store in a temp dir and ways to find items in a report.

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "services/import_legacy.hpp"
#include "store/database.hpp"
#include "store/prompt_store.hpp"
#include "store/run_store.hpp"
#include "support/temp_dir.hpp"

namespace cosmos::test {

inline const std::string k_default_negative = "the configured default negative prompt";

inline const services::ImportItem* find_item(const services::ImportReport& report,
                                             const std::string& id) {
    auto it = std::find_if(report.items.begin(),
                           report.items.end(),
                           [&](const services::ImportItem& i) { return i.id == id; });
    return it == report.items.end() ? nullptr : &*it;
}

inline const services::ImportItem* find_source(const services::ImportReport& report,
                                               const std::string& part) {
    auto it =
        std::find_if(report.items.begin(), report.items.end(), [&](const services::ImportItem& i) {
            return i.source.find(part) != std::string::npos;
        });
    return it == report.items.end() ? nullptr : &*it;
}

inline bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

class ImportTest : public ::testing::Test {
protected:
    services::ImportReport import(const std::vector<std::filesystem::path>& paths) {
        auto r = services::import_legacy(db, paths, services::ImportDefaults{k_default_negative});
        EXPECT_TRUE(r.has_value()) << r.error().message;
        return r.has_value() ? *r : services::ImportReport{};
    }
    std::optional<store::PromptRecord> prompt(const std::string& id) {
        return store::get_prompt(db, id).value();
    }
    std::optional<store::RunRecord> run(const std::string& id) {
        return store::get_run(db, id).value();
    }

    TempDir dir;
    store::Database db = store::Database::open(dir.path() / "data" / "cosmos.db").value();
};

}  // namespace cosmos::test
