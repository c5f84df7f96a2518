#include "services/delete_objects.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "core/ids.hpp"
#include "store/prompt_store.hpp"
#include "store/run_store.hpp"

namespace cosmos::services {

using core::ErrorCode;
using core::fail;
namespace fs = std::filesystem;

namespace {

// Returns true when `dir` resolves to a directory strictly inside `root` (no symlink escapes).
bool is_inside(const fs::path& dir, const fs::path& root) {
    std::error_code ec;
    fs::path d = fs::canonical(dir, ec);
    if (ec) {
        return false;
    }
    fs::path r = fs::canonical(root, ec);
    if (ec) {
        return false;
    }
    auto [rit, dit] = std::mismatch(r.begin(), r.end(), d.begin(), d.end());
    return rit == r.end() && dit != d.end();
}

core::Status add_run(const App& app, const store::RunRecord& run, DeletePlan& plan) {
    if (run.status == store::RunStatus::running) {
        return fail(
            ErrorCode::conflict, fmt::format("run {} is running", run.id), "cancel it first");
    }
    if (!plan.planned.insert(run.id).second) {
        return {};
    }
    plan.runs.push_back(run.id);
    fs::path dir = app.run_dir(run.id);
    std::error_code ec;
    if (fs::is_directory(dir, ec) && !fs::is_symlink(dir, ec) &&
        is_inside(dir, app.data_dir() / "runs")) {
        plan.run_dirs.push_back(dir);
    }
    return {};
}

}  // namespace

core::Result<DeletePlan> plan_delete(const App& app, const std::vector<std::string>& ids) {
    DeletePlan plan;
    for (const auto& id : ids) {
        core::IdKind kind{};
        if (!core::id_kind_of(id, kind) ||
            (kind == core::IdKind::prompt && !core::is_valid_id(kind, id)) ||
            (kind == core::IdKind::run && !core::is_valid_id(kind, id))) {
            return fail(ErrorCode::invalid_input,
                        fmt::format("'{}' is not a prompt (ps_...) or run (rs_...) id", id));
        }
        if (kind == core::IdKind::run) {
            COSMOS_TRY(auto run, store::get_run(app.db, id));
            if (!run) {
                return fail(ErrorCode::not_found, fmt::format("no run {}", id));
            }
            if (auto s = add_run(app, *run, plan); !s) {
                return fail(s.error());
            }
            continue;
        }
        COSMOS_TRY(auto prompt, store::get_prompt(app.db, id));
        if (!prompt) {
            return fail(ErrorCode::not_found, fmt::format("no prompt {}", id));
        }
        if (plan.planned.insert(id).second) {
            plan.prompts.push_back(id);
        }
        store::RunQuery q;
        q.prompt_id = id;
        q.limit = 1000000;
        COSMOS_TRY(auto runs, store::list_runs(app.db, q));
        for (const auto& r : runs) {
            if (auto s = add_run(app, r, plan); !s) {
                return fail(s.error());
            }
        }
    }
    return plan;
}

core::Result<DeletePlan> plan_delete_all(const App& app) {
    std::vector<std::string> ids;
    store::PromptQuery q;
    q.limit = 10000;
    for (;;) {
        COSMOS_TRY(auto page, store::list_prompts(app.db, q));
        for (auto& p : page) {
            ids.push_back(std::move(p.id));
        }
        if (static_cast<int>(page.size()) < q.limit) {
            break;
        }
        q.offset += q.limit;
    }
    return plan_delete(app, ids);
}

core::Status apply_delete(const App& app, const DeletePlan& plan) {
    auto s = app.db.transaction([&]() -> core::Status {
        for (const auto& id : plan.runs) {
            if (auto r = store::delete_run(app.db, id); !r) {
                return r;
            }
        }
        for (const auto& id : plan.prompts) {
            if (auto r = store::delete_prompt(app.db, id); !r) {
                return r;
            }
        }
        return {};
    });
    if (!s || plan.keep_outputs) {
        return s;
    }
    for (const auto& dir : plan.run_dirs) {
        std::error_code ec;
        fs::remove_all(dir, ec);
        if (ec) {
            return fail(ErrorCode::io,
                        fmt::format("deleted the records but could not remove {}: "
                                    "{}",
                                    dir.string(),
                                    ec.message()));
        }
    }
    return {};
}

}  // namespace cosmos::services
