// The event hub behind /api/events on a real database and real log files: run changes made by
// another connection (as another process would), log bytes of running runs (never cutting a
// UTF-8 character), the log of a run that ran between two looks, and the run filter.

#include "web/events.hpp"

#include <chrono>
#include <fstream>

#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "core/ids.hpp"
#include "services/app.hpp"
#include "store/database.hpp"
#include "store/prompt_store.hpp"
#include "store/run_store.hpp"
#include "support/temp_dir.hpp"

using namespace cosmos;
using namespace std::chrono_literals;

namespace {

struct WebEventHub : ::testing::Test {
    test::TempDir dir;
    config::Config config;
    std::optional<store::Database> db;
    std::string prompt_id;

    void SetUp() override {
        config.paths.data_dir = dir.path() / "data";
        std::filesystem::create_directories(config.paths.data_dir);
        auto opened = store::Database::open(services::database_path(config));
        ASSERT_TRUE(opened) << opened.error().message;
        db.emplace(std::move(*opened));
        store::PromptRecord p;
        p.id = prompt_id = core::new_id(core::IdKind::prompt);
        p.name = "harbour";
        p.prompt = "a harbour";
        p.input_dir = "/in";
        p.created_at = core::now_iso();
        ASSERT_TRUE(store::insert_prompt(*db, p));
    }

    std::string add_run() {
        store::RunRecord r;
        r.id = core::new_id(core::IdKind::run);
        r.prompt_id = prompt_id;
        r.created_at = r.updated_at = core::now_iso();
        EXPECT_TRUE(store::insert_run(*db, r));
        return r.id;
    }

    std::filesystem::path log_of(const std::string& id) {
        auto p = config.paths.data_dir / "runs" / id / "run.log";
        std::filesystem::create_directories(p.parent_path());
        return p;
    }

    // Collects events until `done` says so or 5 s pass.
    std::string collect(web::EventHub& hub,
                        web::EventHub::Subscriber& s,
                        const std::function<bool(const std::string&)>& done) {
        std::string all;
        auto deadline = std::chrono::steady_clock::now() + 5s;
        while (std::chrono::steady_clock::now() < deadline && !done(all)) {
            EXPECT_TRUE(hub.wait(s, all, 100ms));
        }
        return all;
    }
};

}  // namespace

TEST_F(WebEventHub, StreamsRunChangesAndLogBytes) {
    std::string id = add_run();
    web::EventHub hub(config, 10ms);
    ASSERT_TRUE(hub.start());
    auto all = hub.subscribe(std::nullopt);
    auto other = hub.subscribe(std::string("rs_other"));
    ASSERT_TRUE(store::transition_run(*db, id, store::RunStatus::running));
    std::string got = collect(hub, *all, [](const std::string& s) {
        return s.find("\"status\":\"running\"") != std::string::npos;
    });
    EXPECT_NE(got.find("event: run\n"), std::string::npos) << got;

    // "é" is two bytes: written one byte at a time it is never sent cut in half.
    std::ofstream log(log_of(id), std::ios::binary);
    log << "step 1\n\xC3" << std::flush;
    got = collect(
        hub, *all, [](const std::string& s) { return s.find("step 1") != std::string::npos; });
    EXPECT_NE(got.find(R"("offset":0,"text":"step 1\n")"), std::string::npos) << got;
    log << "\xA9t\xC3\xA9\n" << std::flush;
    got = collect(hub, *all, [](const std::string& s) {
        return s.find("\"offset\":7") != std::string::npos;
    });
    EXPECT_NE(got.find("\"offset\":7,\"text\":\"\xC3\xA9t\xC3\xA9\\n\""), std::string::npos) << got;

    ASSERT_TRUE(store::record_progress(*db, id, 0.5));
    got = collect(hub, *all, [](const std::string& s) {
        return s.find("\"progress\":0.5") != std::string::npos;
    });
    EXPECT_NE(got.find("event: run"), std::string::npos);

    // The filter drops other runs' log events, not run events.
    std::string filtered;
    EXPECT_TRUE(hub.wait(*other, filtered, 10ms));
    EXPECT_EQ(filtered.find("event: log"), std::string::npos) << filtered;
    EXPECT_NE(filtered.find("event: run"), std::string::npos) << filtered;
    hub.stop();
    std::string after;
    EXPECT_FALSE(hub.wait(*all, after, 10ms));
}

TEST_F(WebEventHub, ARunThatRanBetweenTwoLooksStillSendsItsLog) {
    web::EventHub hub(config, 200ms);
    ASSERT_TRUE(hub.start());
    auto s = hub.subscribe(std::nullopt);
    std::string id = add_run();
    std::string got =
        collect(hub, *s, [&](const std::string& all) { return all.find(id) != std::string::npos; });
    // Queued, ran and ended within one poll period.
    ASSERT_TRUE(store::transition_run(*db, id, store::RunStatus::queued));
    std::ofstream(log_of(id)) << "quick run\n";
    ASSERT_TRUE(store::transition_run(*db, id, store::RunStatus::running));
    ASSERT_TRUE(store::transition_run(*db, id, store::RunStatus::succeeded));
    // (Under load a look may fall between the transitions: wait for both, in any order.)
    got = collect(hub, *s, [](const std::string& all) {
        return all.find("quick run") != std::string::npos &&
               all.find("\"status\":\"succeeded\"") != std::string::npos;
    });
    EXPECT_NE(got.find("quick run"), std::string::npos) << got;
    EXPECT_NE(got.find("\"status\":\"succeeded\""), std::string::npos) << got;
}
