// Submitting many runs: sweep expansion and its limits, seed lists and ranges, weight grids,
// batch files in JSON and TOML (good and bad), and the all-or-nothing creation on a real SQLite
// store (a bad entry anywhere creates nothing; upscale runs depend on their transfer run).

#include "services/submit.hpp"

#include <limits>
#include <set>
#include <tuple>

#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "core/ids.hpp"
#include "scheduler/run_spec.hpp"
#include "services/batch_file.hpp"
#include "services/sweep.hpp"
#include "services/upscale.hpp"
#include "store/prompt_store.hpp"
#include "store/queue_store.hpp"
#include "store/run_store.hpp"
#include "support/temp_dir.hpp"

using namespace cosmos;
using services::SubmitEntry;

namespace {

std::vector<std::int64_t> ints(std::string_view text) {
    auto r = services::parse_int_list("--seeds", text);
    EXPECT_TRUE(r.has_value()) << text << ": " << (r ? "" : r.error().message);
    return r ? *r : std::vector<std::int64_t>{};
}

std::string int_error(std::string_view text) {
    auto r = services::parse_int_list("--seeds", text, 1000);
    EXPECT_FALSE(r.has_value()) << text;
    return r ? "" : r.error().message;
}

TEST(SubmitParse, SeedListsAndRanges) {
    EXPECT_EQ(ints("1,2,3"), (std::vector<std::int64_t>{1, 2, 3}));
    EXPECT_EQ(ints("1-8"), (std::vector<std::int64_t>{1, 2, 3, 4, 5, 6, 7, 8}));
    EXPECT_EQ(ints("1-3, 10,7-7"), (std::vector<std::int64_t>{1, 2, 3, 10, 7}));
    EXPECT_EQ(ints("42"), (std::vector<std::int64_t>{42}));
    EXPECT_EQ(ints("-5"), (std::vector<std::int64_t>{-5}));  // a sign; check_seed refuses it later
    EXPECT_NE(int_error("").find("empty item"), std::string::npos);
    EXPECT_NE(int_error("1,,2").find("empty item"), std::string::npos);
    EXPECT_NE(int_error("1,a").find("'a' is not an integer"), std::string::npos);
    EXPECT_NE(int_error("1.5").find("not an integer"), std::string::npos);
    EXPECT_NE(int_error("8-1").find("ends before it starts"), std::string::npos);
    EXPECT_NE(int_error("1-").find("not an integer"), std::string::npos);
    EXPECT_NE(int_error("1-2-3").find("not an integer"), std::string::npos);
    EXPECT_NE(int_error("1-5000").find("more than 1000 values"), std::string::npos);
    EXPECT_NE(int_error("1-9223372036854775807").find("more than 1000"), std::string::npos);
    EXPECT_NE(int_error("99999999999999999999").find("not an integer"), std::string::npos);
}

TEST(SubmitParse, WeightAxes) {
    auto axis = services::parse_weight_axis("depth=0.2,0.4, 0.6");
    ASSERT_TRUE(axis.has_value()) << axis.error().message;
    EXPECT_EQ(axis->modality, "depth");
    EXPECT_EQ(axis->values, (std::vector<double>{0.2, 0.4, 0.6}));
    for (const char* bad : {"depth", "=0.2", "depth=", "depth=0.2,,0.4", "depth=x", "depth=0.2x"}) {
        EXPECT_FALSE(services::parse_weight_axis(bad).has_value()) << bad;
    }
}

services::SweepRequest grid_2x2x2() {
    services::SweepRequest req;
    req.prompts = {"ps_a"};
    req.weights = {{"depth", {0.2, 0.6}}, {"seg", {0.1, 0.3}}};
    req.seeds = {1, 2};
    req.base.num_steps = 20;
    req.queue.priority = 3;
    return req;
}

TEST(SubmitSweep, ExpandsTheCartesianProductInOrder) {
    auto req = grid_2x2x2();
    EXPECT_EQ(services::sweep_size(req), 8u);
    auto entries = services::expand_sweep(req, 1000);
    ASSERT_TRUE(entries.has_value()) << entries.error().message;
    ASSERT_EQ(entries->size(), 8u);
    std::set<std::tuple<double, double, std::int64_t>> combos;
    for (const auto& e : *entries) {
        EXPECT_EQ(e.prompt, "ps_a");
        EXPECT_EQ(e.options.num_steps, 20);
        EXPECT_EQ(e.queue.priority, 3);
        combos.insert({e.options.weight.at("depth"), e.options.weight.at("seg"), *e.options.seed});
    }
    EXPECT_EQ(combos.size(), 8u);
    // Seeds vary fastest, then the last axis.
    EXPECT_EQ((*entries)[0].origin, "ps_a depth=0.2 seg=0.1 seed=1");
    EXPECT_EQ((*entries)[1].origin, "ps_a depth=0.2 seg=0.1 seed=2");
    EXPECT_EQ((*entries)[2].origin, "ps_a depth=0.2 seg=0.3 seed=1");
    EXPECT_EQ((*entries)[7].origin, "ps_a depth=0.6 seg=0.3 seed=2");

    req.prompts = {"ps_a", "ps_b", "ps_c"};
    auto three = services::expand_sweep(req, 1000);
    ASSERT_TRUE(three.has_value());
    EXPECT_EQ(three->size(), 24u);
    EXPECT_EQ((*three)[8].prompt, "ps_b");

    // No grid at all: one run per prompt.
    services::SweepRequest plain;
    plain.prompts = {"ps_a", "ps_b"};
    auto two = services::expand_sweep(plain, 1000);
    ASSERT_TRUE(two.has_value());
    EXPECT_EQ(two->size(), 2u);
    EXPECT_FALSE((*two)[0].options.seed.has_value());
}

TEST(SubmitSweep, RefusesDuplicatesConflictsAndOversizedSweeps) {
    auto req = grid_2x2x2();
    EXPECT_NE(
        services::expand_sweep(req, 7).error().message.find("8 runs, more than the limit of 7"),
        std::string::npos);
    EXPECT_TRUE(services::expand_sweep(req, 0).has_value());  // no limit
    auto dup = grid_2x2x2();
    dup.weights.push_back({"depth", {0.9}});
    EXPECT_NE(services::expand_sweep(dup, 0).error().message.find("names depth twice"),
              std::string::npos);
    auto both = grid_2x2x2();
    both.base.seed = 5;
    EXPECT_NE(services::expand_sweep(both, 0).error().message.find("--seed and --seeds"),
              std::string::npos);
    services::SweepRequest none;
    EXPECT_FALSE(services::expand_sweep(none, 0).has_value());
    // A product that overflows is refused without being built.
    services::SweepRequest huge;
    huge.prompts = {"ps_a"};
    for (int i = 0; i < 7; ++i) {
        huge.weights.push_back({"m" + std::to_string(i), std::vector<double>(100000, 0.5)});
    }
    EXPECT_EQ(services::sweep_size(huge), std::numeric_limits<std::size_t>::max());
    EXPECT_NE(services::expand_sweep(huge, 1000).error().message.find("too many runs"),
              std::string::npos);
}

// --- Batch files ---

TEST(BatchFile, ReadsJsonArraysAndRunsObjects) {
    auto entries = services::parse_batch_json(R"([
        {"prompt_id": "ps_a", "weights": {"depth": 0.6, "vis": 0}, "num_steps": 20,
         "guidance": 6, "sigma_max": 60.5, "seed": 7, "fps": 12, "blur_strength": "low",
         "canny_threshold": "high", "num_gpus": 2, "offload": ["guardrail_models"],
         "host": "local", "priority": 4, "upscale": 0.7},
        {"prompt": "harbour", "upscale": true},
        {"prompt_id": "ps_b", "upscale": false}
    ])",
                                              "runs.json");
    ASSERT_TRUE(entries.has_value()) << entries.error().message;
    ASSERT_EQ(entries->size(), 3u);
    const auto& e = (*entries)[0];
    EXPECT_EQ(e.prompt, "ps_a");
    EXPECT_EQ(e.options.weight.at("depth"), 0.6);
    EXPECT_EQ(e.options.weight.at("vis"), 0.0);
    EXPECT_EQ(e.options.num_steps, 20);
    EXPECT_EQ(e.options.guidance, 6.0);
    EXPECT_EQ(e.options.sigma_max, 60.5);
    EXPECT_EQ(e.options.seed, 7);
    EXPECT_EQ(e.options.fps, 12);
    EXPECT_EQ(e.options.blur_strength, "low");
    EXPECT_EQ(e.options.canny_threshold, "high");
    EXPECT_EQ(e.options.num_gpus, 2);
    EXPECT_EQ(e.options.offload, (std::vector<std::string>{"guardrail_models"}));
    EXPECT_EQ(e.queue.host, "local");
    EXPECT_EQ(e.queue.priority, 4);
    EXPECT_EQ(e.upscale, 0.7);
    EXPECT_EQ(e.origin, "runs.json: entry 1");
    EXPECT_EQ((*entries)[1].prompt, "harbour");
    EXPECT_EQ((*entries)[1].upscale, 0.5);
    EXPECT_FALSE((*entries)[2].upscale.has_value());

    auto wrapped = services::parse_batch_json(R"({"runs": [{"prompt_id": "ps_a"}]})", "r.json");
    ASSERT_TRUE(wrapped.has_value());
    EXPECT_EQ(wrapped->size(), 1u);
}

std::string json_error(const char* text) {
    auto r = services::parse_batch_json(text, "runs.json");
    EXPECT_FALSE(r.has_value()) << text;
    return r ? "" : r.error().message;
}

TEST(BatchFile, RejectsBadJsonNamingTheEntry) {
    // Found by fuzz_batch_file: a number too large for a double is json's out_of_range, not a
    // parse_error, and escaped the catch.
    for (const char* text :
         {R"([{"prompt_id": "ps_a", "seed": 1E400}])", "[1e99999]", "[-1e400]"}) {
        EXPECT_EQ(json_error(text).rfind("runs.json: not valid JSON", 0), 0u) << text;
    }
    EXPECT_EQ(json_error(R"([{"prompt_id": "ps_a"}, {"prompt_id": "ps_b", "steps": 20}])"),
              "runs.json: entry 2: unknown key 'steps'");
    EXPECT_EQ(json_error(R"([{"prompt_id": "ps_a", "num_steps": 20.5}])"),
              "runs.json: entry 1: num_steps must be an integer, not 20.5");
    EXPECT_EQ(json_error(R"([{"prompt_id": "ps_a", "seed": "7"}])"),
              "runs.json: entry 1: seed must be an integer, not \"7\"");
    EXPECT_EQ(json_error(R"([{"prompt_id": "ps_a", "weights": {"depth": "high"}}])"),
              "runs.json: entry 1: weights.depth must be a number, not \"high\"");
    EXPECT_EQ(json_error(R"([{"prompt_id": "ps_a", "weights": [0.5]}])").substr(0, 30),
              "runs.json: entry 1: weights mu");
    EXPECT_EQ(json_error(R"([{"weights": {}}])"),
              "runs.json: entry 1: the entry names no prompt (prompt_id, or prompt: a name)");
    EXPECT_EQ(json_error(R"([{"prompt_id": "a", "prompt": "b"}])"),
              "runs.json: entry 1: give prompt_id or prompt, not both");
    EXPECT_EQ(json_error(R"([3])"), "runs.json: entry 1: an entry must be an object, not number");
    EXPECT_EQ(json_error(R"({"runs": [], "extra": 1})"), "runs.json: unknown key 'extra'");
    EXPECT_EQ(json_error(R"({"run": []})"), "runs.json: unknown key 'run'");
    EXPECT_EQ(json_error(R"("x")"), "runs.json: a batch file holds a list of runs");
    EXPECT_NE(json_error(R"([{"prompt_id": )").find("runs.json: not valid JSON"),
              std::string::npos);
}

TEST(BatchFile, ReadsTomlRunsTables) {
    auto entries = services::parse_batch_toml(R"(
[[runs]]
prompt_id = "ps_a"
weights = { depth = 0.6, seg = 0.2 }
num_steps = 20
guidance = 6
seed = 3
upscale = true

[[runs]]
prompt = "harbour"
offload = ["text_encoder_model"]
priority = -1
)",
                                              "runs.toml");
    ASSERT_TRUE(entries.has_value()) << entries.error().message;
    ASSERT_EQ(entries->size(), 2u);
    EXPECT_EQ((*entries)[0].prompt, "ps_a");
    EXPECT_EQ((*entries)[0].options.weight.at("seg"), 0.2);
    EXPECT_EQ((*entries)[0].options.guidance, 6.0);  // an integer is a number too
    EXPECT_EQ((*entries)[0].options.seed, 3);
    EXPECT_EQ((*entries)[0].upscale, 0.5);
    EXPECT_EQ((*entries)[0].origin, "runs.toml:2: entry 1");
    EXPECT_EQ((*entries)[1].prompt, "harbour");
    EXPECT_EQ((*entries)[1].queue.priority, -1);
    EXPECT_EQ((*entries)[1].options.offload, (std::vector<std::string>{"text_encoder_model"}));
}

std::string toml_error(const char* text) {
    auto r = services::parse_batch_toml(text, "runs.toml");
    EXPECT_FALSE(r.has_value()) << text;
    return r ? "" : r.error().message;
}

TEST(BatchFile, RejectsBadTomlNamingEntryAndLine) {
    EXPECT_EQ(toml_error("[[runs]]\nprompt_id = \"a\"\n\n[[runs]]\nprompt_id = \"b\"\nsteps = 3\n"),
              "runs.toml:6: entry 2: unknown key 'steps'");
    EXPECT_EQ(toml_error("[[runs]]\nprompt_id = \"a\"\nfps = \"24\"\n"),
              "runs.toml:3: entry 1: fps must be an integer, not \"24\"");
    EXPECT_EQ(toml_error("[[runs]]\nnum_steps = 3\n"),
              "runs.toml:1: entry 1: the entry names no prompt (prompt_id, or prompt: a name)");
    EXPECT_EQ(toml_error("[defaults]\nseed = 1\n"), "runs.toml:1: unknown key 'defaults'");
    EXPECT_EQ(toml_error("runs = 3\n"), "runs.toml: a batch file holds a list of runs");
    EXPECT_EQ(toml_error("[[runs]]\nprompt_id = \"a\"\nwhen = 2026-01-01\n"),
              "runs.toml:1: entry 1: dates and times are not run parameters");
    EXPECT_NE(toml_error("[[runs]\n").find("runs.toml:1:"), std::string::npos);
}

TEST(BatchFile, ChoosesTheFormatByExtension) {
    test::TempDir dir;
    auto json_file = dir.write("runs.json", R"([{"prompt_id": "ps_a"}])");
    auto toml_file = dir.write("runs.toml", "[[runs]]\nprompt_id = \"ps_a\"\n");
    auto other = dir.write("runs.yaml", "- prompt_id: ps_a\n");
    EXPECT_EQ(services::read_batch_file(json_file)->size(), 1u);
    EXPECT_EQ(services::read_batch_file(toml_file)->size(), 1u);
    EXPECT_EQ(services::read_batch_file(other).error().code, core::ErrorCode::invalid_input);
    EXPECT_EQ(services::read_batch_file(dir / "gone.json").error().code,
              core::ErrorCode::not_found);
}

// --- All or nothing, on a real store ---

class SubmitStoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto db = store::Database::open(dir / "cosmos.db");
        ASSERT_TRUE(db.has_value()) << db.error().message;
        config::Config c;
        c.paths.data_dir = dir.path();
        config::HostConfig local;
        local.name = "local";
        local.gpus = 2;
        c.hosts["local"] = local;
        app.emplace(services::App{std::move(c), std::move(*db)});
        prompt_a = add_prompt("harbour");
        prompt_b = add_prompt("forest");
        (void)add_prompt("twin");
        (void)add_prompt("twin");
    }

    std::string add_prompt(const std::string& name) {
        store::PromptRecord p;
        p.id = core::new_id(core::IdKind::prompt);
        p.name = name;
        p.prompt = "a road at dusk";
        p.input_dir = (dir / "in").string();
        p.input_video = (dir / "in" / "color.mp4").string();
        p.controls = {{"depth", (dir / "in" / "depth.mp4").string()}};
        p.video = {640, 352, 25, 24};
        p.created_at = core::now_iso();
        EXPECT_TRUE(store::insert_prompt(app->db, p).has_value());
        return p.id;
    }

    std::int64_t runs() { return *store::count_runs(app->db); }
    std::size_t jobs() { return store::list_jobs(app->db, 1000)->size(); }

    SubmitEntry entry(const std::string& prompt) {
        SubmitEntry e;
        e.prompt = prompt;
        return e;
    }

    test::TempDir dir;
    std::optional<services::App> app;
    std::string prompt_a, prompt_b;
};

TEST_F(SubmitStoreTest, ABadValueAnywhereCreatesNothing) {
    auto req = grid_2x2x2();
    req.prompts = {prompt_a, prompt_b};
    req.weights[1].values.push_back(-0.5);  // the last combinations are bad
    auto entries = services::expand_sweep(req, 0);
    ASSERT_TRUE(entries.has_value());
    auto r = services::submit_runs(*app, *entries);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, core::ErrorCode::invalid_input);
    EXPECT_NE(r.error().message.find(" depth=0.2 seg=-0.5 seed=1: weight -0.5 for seg"),
              std::string::npos)
        << r.error().message;
    EXPECT_EQ(runs(), 0);
    EXPECT_EQ(jobs(), 0u);

    std::vector<std::vector<SubmitEntry>> bad(6, {entry(prompt_a), entry(prompt_b)});
    bad[0][1].prompt = "ps_missing";
    bad[1][1].options.num_steps = 0;
    bad[2][1].queue.host = "nowhere";
    bad[3][1].options.num_gpus = 4;  // the only host has 2
    bad[4][1].upscale = -1;
    bad[5][1].prompt = "twin";  // two prompts have this name
    for (const auto& entries2 : bad) {
        auto r2 = services::submit_runs(*app, entries2);
        EXPECT_FALSE(r2.has_value());
        EXPECT_EQ(runs(), 0) << r2.error().message;
    }
    EXPECT_EQ(jobs(), 0u);
}

TEST_F(SubmitStoreTest, QueuesEveryRunWithItsParametersAndUpscalesAfterTheirRuns) {
    auto req = grid_2x2x2();
    req.prompts = {prompt_a};
    req.upscale = 0.7;
    auto entries = services::expand_sweep(req, 0);
    ASSERT_TRUE(entries.has_value());
    auto dry = services::plan_runs(*app, *entries);
    ASSERT_TRUE(dry.has_value()) << dry.error().message;
    EXPECT_EQ(dry->size(), 8u);
    EXPECT_EQ(runs(), 0);

    auto queued = services::submit_runs(*app, *entries);
    ASSERT_TRUE(queued.has_value()) << queued.error().message;
    ASSERT_EQ(queued->size(), 16u);
    EXPECT_EQ(runs(), 16);
    EXPECT_EQ(jobs(), 16u);
    std::set<std::tuple<double, double, std::uint64_t>> combos;
    for (std::size_t i = 0; i < queued->size(); i += 2) {
        const auto& t = (*queued)[i];
        const auto& u = (*queued)[i + 1];
        EXPECT_EQ(t.run.kind, cosmos::core::RunKind::transfer);
        EXPECT_EQ(t.run.status, store::RunStatus::queued);
        EXPECT_EQ(t.run.params.num_steps, 20);
        EXPECT_EQ(t.job.priority, 3);
        EXPECT_FALSE(t.job.depends_on.has_value());
        combos.insert(
            {t.run.params.weights.at("depth"), t.run.params.weights.at("seg"), t.run.params.seed});
        EXPECT_EQ(u.run.kind, cosmos::core::RunKind::upscale);
        EXPECT_EQ(u.run.parent_run_id, t.run.id);
        EXPECT_EQ(u.run.params.weights.at("upscale"), 0.7);
        EXPECT_EQ(u.job.depends_on, t.run.id);
        EXPECT_EQ(u.job.priority, 3);
        // Its spec cannot be built before the transfer run has an output.
        auto spec = scheduler::run_spec(*app, store::get_prompt(app->db, prompt_a)->value(), u.run);
        ASSERT_FALSE(spec.has_value());
        EXPECT_EQ(spec.error().code, core::ErrorCode::conflict);
        EXPECT_NE(spec.error().message.find("is queued and has no output video yet"),
                  std::string::npos)
            << spec.error().message;
    }
    EXPECT_EQ(combos.size(), 8u);
}

TEST_F(SubmitStoreTest, BatchEntriesNameTheirPromptByIdOrUniqueName) {
    auto entries =
        services::parse_batch_json(R"([{"prompt": "forest", "seed": 9}, {"prompt_id": ")" +
                                       prompt_a + R"(", "weights": {"depth": 0.9}}])",
                                   "runs.json");
    ASSERT_TRUE(entries.has_value()) << entries.error().message;
    auto queued = services::submit_runs(*app, *entries);
    ASSERT_TRUE(queued.has_value()) << queued.error().message;
    ASSERT_EQ(queued->size(), 2u);
    EXPECT_EQ((*queued)[0].run.prompt_id, prompt_b);
    EXPECT_EQ((*queued)[0].run.params.seed, 9u);
    EXPECT_EQ((*queued)[1].run.params.weights.at("depth"), 0.9);
    EXPECT_EQ((*queued)[1].run.params.weights.at("vis"), 0.25);  // defaults stay

    auto twin = services::parse_batch_json(R"([{"prompt": "twin"}])", "runs.json");
    auto r = services::submit_runs(*app, *twin);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().message, "runs.json: entry 1: 2 prompts are named 'twin'");
    auto bad = services::parse_batch_json(
        R"([{"prompt": "forest"}, {"prompt": "forest", "weights": {"fog": 1}}])", "runs.json");
    auto r2 = services::submit_runs(*app, *bad);
    ASSERT_FALSE(r2.has_value());
    EXPECT_EQ(r2.error().message, "runs.json: entry 2: unknown control modality 'fog'");
    EXPECT_EQ(runs(), 2);
}

TEST_F(SubmitStoreTest, UpscaleRunsMayWaitForTheirParent) {
    auto queued = services::submit_runs(*app, {entry(prompt_a)});
    ASSERT_TRUE(queued.has_value());
    const std::string parent = queued->front().run.id;
    // Refused without the option, accepted with it.
    auto now = services::create_upscale_run(*app, parent, 0.5);
    ASSERT_FALSE(now.has_value());
    EXPECT_EQ(now.error().code, core::ErrorCode::conflict);
    auto later = services::queue_upscale_runs(*app, {parent}, {}, {});
    ASSERT_TRUE(later.has_value()) << later.error().message;
    EXPECT_EQ(later->front().job.depends_on, parent);
    EXPECT_EQ(later->front().run.parent_run_id, parent);
    // Not an upscale of an upscale, nor of a failed run; a bad id in the list queues nothing.
    auto of_upscale = services::queue_upscale_runs(*app, {later->front().run.id}, {}, {});
    ASSERT_FALSE(of_upscale.has_value());
    EXPECT_NE(of_upscale.error().message.find("only transfer runs can be upscaled"),
              std::string::npos);
    ASSERT_TRUE(*store::transition_run(app->db, parent, store::RunStatus::failed, "boom"));
    auto of_failed = services::create_upscale_run(
        *app, parent, 0.5, std::nullopt, services::ParentOutput::may_come_later);
    ASSERT_FALSE(of_failed.has_value());
    EXPECT_NE(of_failed.error().message.find("is failed; it will never have an output"),
              std::string::npos)
        << of_failed.error().message;
    auto before = runs();
    auto other = services::submit_runs(*app, {entry(prompt_b)});
    ASSERT_TRUE(other.has_value());
    auto mixed = services::queue_upscale_runs(*app, {other->front().run.id, "rs_nothere"}, {}, {});
    ASSERT_FALSE(mixed.has_value());
    EXPECT_EQ(runs(), before + 1);
}

}  // namespace
