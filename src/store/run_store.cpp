#include "store/run_store.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/clock.hpp"

namespace cosmos::store {

using core::ErrorCode;
using core::fail;

std::string_view to_string(RunStatus s) {
    switch (s) {
        case RunStatus::pending:
            return "pending";
        case RunStatus::queued:
            return "queued";
        case RunStatus::running:
            return "running";
        case RunStatus::succeeded:
            return "succeeded";
        case RunStatus::failed:
            return "failed";
        case RunStatus::cancelled:
            return "cancelled";
    }
    return "pending";
}

std::optional<RunStatus> run_status_from(std::string_view s) {
    for (auto st : {RunStatus::pending,
                    RunStatus::queued,
                    RunStatus::running,
                    RunStatus::succeeded,
                    RunStatus::failed,
                    RunStatus::cancelled}) {
        if (to_string(st) == s) {
            return st;
        }
    }
    return std::nullopt;
}

bool is_terminal(RunStatus s) {
    return s == RunStatus::succeeded || s == RunStatus::failed || s == RunStatus::cancelled;
}

namespace {

constexpr const char* k_columns =
    "id, prompt_id, kind, status, host, params, parent_run_id, created_at, updated_at, "
    "started_at, finished_at, exit_code, error, command, spec, output_dir, output_video, "
    "log_path, progress, source, model, model_name, model_hash, rating";
// Read adds the columns of schema v2 (remote execution), which insert_run leaves NULL.
constexpr const char* k_select_columns =
    "id, prompt_id, kind, status, host, params, parent_run_id, created_at, updated_at, "
    "started_at, finished_at, exit_code, error, command, spec, output_dir, output_video, "
    "log_path, progress, source, runtime, remote_dir, image, uploaded_bytes, upload_seconds, "
    "run_seconds, download_seconds, batch_id, batch_index, model, model_name, model_hash, "
    "gpu_seconds, gpu_price_per_hour, sweep_id, gpu_ids, gpu_util_mean, gpu_util_peak, "
    "gpu_mem_peak_mib, rating";

std::optional<double> opt_real(const Statement& st, int col) {
    return st.is_null(col) ? std::nullopt : std::optional<double>(st.real(col));
}

RunRecord read_run(const Statement& st) {
    RunRecord r;
    r.id = st.text(0);
    r.prompt_id = st.text(1);
    r.kind = core::parse_run_kind(st.text(2)).value_or(core::RunKind::transfer);
    r.status = run_status_from(st.text(3)).value_or(RunStatus::failed);
    r.host = st.opt_text(4);
    auto params = nlohmann::json::parse(st.text(5), nullptr, false);
    if (auto p =
            model::run_params_from_json(params.is_object() ? params : nlohmann::json::object());
        p) {
        r.params = *p;
    }
    r.parent_run_id = st.opt_text(6);
    r.created_at = st.text(7);
    r.updated_at = st.text(8);
    r.started_at = st.opt_text(9);
    r.finished_at = st.opt_text(10);
    r.exit_code = st.opt_int64(11);
    r.error = st.opt_text(12);
    r.command = st.opt_text(13);
    r.spec = st.opt_text(14);
    r.output_dir = st.opt_text(15);
    r.output_video = st.opt_text(16);
    r.log_path = st.opt_text(17);
    r.progress = st.real(18);
    r.source = st.text(19);
    r.runtime = st.opt_text(20);
    r.remote_dir = st.opt_text(21);
    r.image = st.opt_text(22);
    r.uploaded_bytes = st.opt_int64(23);
    r.upload_seconds = opt_real(st, 24);
    r.run_seconds = opt_real(st, 25);
    r.download_seconds = opt_real(st, 26);
    r.batch_id = st.opt_text(27);
    r.model = model::parse_family(st.text(29)).value_or(model::Family::transfer1);
    r.model_name = st.opt_text(30);
    r.model_hash = st.opt_text(31);
    r.gpu_seconds = opt_real(st, 32);
    r.gpu_price_per_hour = opt_real(st, 33);
    r.sweep_id = st.opt_text(34);
    r.gpu_ids = st.opt_text(35);
    r.gpu_util_mean = opt_real(st, 36);
    r.gpu_util_peak = opt_real(st, 37);
    r.gpu_mem_peak_mib = opt_real(st, 38);
    if (!st.is_null(39)) {
        r.rating = static_cast<int>(st.int64(39));
    }
    if (!st.is_null(28)) {
        r.batch_index = static_cast<int>(st.int64(28));
    }
    return r;
}

core::Result<std::vector<RunRecord>> collect(Statement& st) {
    std::vector<RunRecord> out;
    for (;;) {
        COSMOS_TRY(bool row, st.step());
        if (!row) {
            return out;
        }
        out.push_back(read_run(st));
    }
}

core::Status insert_event(const Database& db,
                          const std::string& id,
                          const std::string& at,
                          RunStatus status,
                          const std::string& detail) {
    COSMOS_TRY(auto st,
               db.prepare("INSERT INTO run_events (run_id, at, status, detail) "
                          "VALUES (?,?,?,?)"));
    st.bind(1, id).bind(2, at).bind(3, to_string(status)).bind(4, detail);
    return st.run();
}

}  // namespace

core::Status insert_run(const Database& db, const RunRecord& r) {
    return db.transaction([&]() -> core::Status {
        COSMOS_TRY(auto st,
                   db.prepare(fmt::format("INSERT INTO runs ({}) VALUES "
                                          "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                                          k_columns)));
        st.bind(1, r.id)
            .bind(2, r.prompt_id)
            .bind(3, std::string(core::to_string(r.kind)))
            .bind(4, to_string(r.status))
            .bind(5, r.host)
            .bind(6, model::to_json(r.params).dump())
            .bind(7, r.parent_run_id)
            .bind(8, r.created_at)
            .bind(9, r.updated_at.empty() ? r.created_at : r.updated_at)
            .bind(10, r.started_at)
            .bind(11, r.finished_at)
            .bind(12, r.exit_code)
            .bind(13, r.error)
            .bind(14, r.command)
            .bind(15, r.spec)
            .bind(16, r.output_dir)
            .bind(17, r.output_video)
            .bind(18, r.log_path)
            .bind(19, r.progress)
            .bind(20, r.source)
            .bind(21, std::string(model::to_string(r.model)))
            .bind(22, r.model_name)
            .bind(23, r.model_hash)
            .bind(24, r.rating ? std::optional<std::int64_t>(*r.rating) : std::nullopt);
        if (auto s = st.run(); !s) {
            if (s.error().code == ErrorCode::conflict) {
                return fail(
                    ErrorCode::conflict,
                    fmt::format(
                        "run {} already exists or its prompt {} is unknown", r.id, r.prompt_id));
            }
            return s;
        }
        return insert_event(db, r.id, r.created_at, r.status, "created");
    });
}

core::Result<std::optional<RunRecord>> get_run(const Database& db, const std::string& id) {
    COSMOS_TRY(auto st,
               db.prepare(fmt::format("SELECT {} FROM runs WHERE id = ?", k_select_columns)));
    st.bind(1, id);
    COSMOS_TRY(bool row, st.step());
    if (!row) {
        return std::optional<RunRecord>{};
    }
    return std::optional<RunRecord>{read_run(st)};
}

namespace {

// `rating_value`: the rating one arm of list_runs' union reads (its min_rating filter then left
// out of the WHERE).
std::string run_query_where(const RunQuery& q, std::optional<int> rating_value = std::nullopt) {
    std::string where = "1=1";
    if (q.status) {
        where += " AND status = ?1";
    }
    if (q.prompt_id) {
        where += " AND prompt_id = ?2";
    }
    if (q.host) {
        where += " AND host = ?3";
    }
    if (q.since) {
        where += " AND created_at >= ?6";
    }
    if (q.until) {
        where += " AND created_at < ?7";
    }
    if (q.with_output) {
        where += " AND coalesce(output_video, '') != ''";
    }
    if (q.rating) {
        where += " AND rating = ?9";
    }
    if (rating_value) {
        where += fmt::format(" AND rating = {}", *rating_value);  // ours: 1-5
    } else if (q.min_rating) {
        where += " AND rating >= ?10";
    }
    if (q.text) {
        where +=
            " AND (instr(id, ?8) > 0 OR instr(prompt_id, ?8) > 0 OR "
            "instr(coalesce(host, ''), ?8) > 0 OR instr(coalesce(error, ''), ?8) > 0)";
    }
    return where;
}

void bind_run_query(Statement& st, const RunQuery& q) {
    if (q.status) {
        st.bind(1, to_string(*q.status));
    }
    if (q.prompt_id) {
        st.bind(2, *q.prompt_id);
    }
    if (q.host) {
        st.bind(3, *q.host);
    }
    if (q.since) {
        st.bind(6, *q.since);
    }
    if (q.until) {
        st.bind(7, *q.until);
    }
    if (q.text) {
        st.bind(8, *q.text);
    }
    if (q.rating) {
        st.bind(9, *q.rating);
    }
    if (q.min_rating) {
        st.bind(10, *q.min_rating);
    }
}

}  // namespace

// The statement of list_runs. A minimum rating is read as one arm per rating from it to 5, each
// a short range of runs_by_rating already in created_at order (at most offset + limit rows),
// merged: `rating >= N` over the index would sort every rated run first (~100 ms with 100k
// rated runs), and a scan in created_at order filtering it reads every run when few are rated.
std::string list_runs_sql(const RunQuery& q) {
    if (!q.min_rating || q.rating) {
        return fmt::format(
            "SELECT {} FROM runs WHERE {} ORDER BY created_at DESC, id DESC LIMIT ?4 OFFSET ?5",
            k_select_columns,
            run_query_where(q));
    }
    std::string arms;
    for (int v = std::max(*q.min_rating, k_min_rating); v <= k_max_rating; ++v) {
        arms += fmt::format(
            "{}SELECT * FROM (SELECT {} FROM runs WHERE {} ORDER BY created_at "
            "DESC, id DESC LIMIT ?11)",
            arms.empty() ? "" : " UNION ALL ",
            k_select_columns,
            run_query_where(q, v));
    }
    if (arms.empty()) {
        arms = fmt::format("SELECT {} FROM runs WHERE 0", k_select_columns);
    }
    return fmt::format("SELECT {} FROM ({}) ORDER BY created_at DESC, id DESC LIMIT ?4 OFFSET ?5",
                       k_select_columns,
                       arms);
}

core::Result<std::vector<RunRecord>> list_runs(const Database& db, const RunQuery& q) {
    COSMOS_TRY(auto st, db.prepare(list_runs_sql(q)));
    bind_run_query(st, q);
    st.bind(4, q.limit).bind(5, q.offset);
    if (q.min_rating && !q.rating) {
        st.bind(11, static_cast<std::int64_t>(q.limit) + q.offset);
    }
    return collect(st);
}

core::Result<std::int64_t> count_runs(const Database& db, const RunQuery& q) {
    COSMOS_TRY(auto st,
               db.prepare(fmt::format("SELECT count(*) FROM runs WHERE {}", run_query_where(q))));
    bind_run_query(st, q);
    COSMOS_TRY(bool row, st.step());
    return row ? st.int64(0) : 0;
}

core::Result<std::vector<RunRecord>> runs_changed_since(const Database& db,
                                                        const std::string& since) {
    COSMOS_TRY(auto st,
               db.prepare(fmt::format("SELECT {} FROM runs WHERE updated_at >= ?1 OR status IN "
                                      "('queued', 'running') ORDER BY updated_at",
                                      k_select_columns)));
    st.bind(1, since);
    return collect(st);
}

core::Result<std::vector<RunRecord>> runs_for_prompts(const Database& db,
                                                      const std::vector<std::string>& prompt_ids,
                                                      int limit) {
    if (prompt_ids.empty()) {
        return std::vector<RunRecord>{};
    }
    nlohmann::json ids = prompt_ids;
    COSMOS_TRY(auto st,
               db.prepare(fmt::format("SELECT {} FROM runs WHERE prompt_id IN (SELECT "
                                      "value FROM json_each(?)) ORDER BY created_at DESC "
                                      "LIMIT ?",
                                      k_select_columns)));
    st.bind(1, ids.dump()).bind(2, limit);
    return collect(st);
}

core::Result<bool> transition_run(const Database& db,
                                  const std::string& id,
                                  RunStatus to,
                                  const std::string& detail) {
    bool changed = false;
    auto s = db.transaction([&]() -> core::Status {
        std::string now = core::now_iso();
        COSMOS_TRY(
            auto st,
            db.prepare("UPDATE runs SET status = ?1, updated_at = ?2, "
                       "started_at = CASE WHEN ?1 = 'running' THEN coalesce(started_at, ?2) "
                       "ELSE started_at END, "
                       "finished_at = CASE WHEN ?1 IN ('succeeded','failed','cancelled') "
                       "THEN ?2 ELSE finished_at END, "
                       "progress = CASE WHEN ?1 = 'succeeded' THEN 1.0 ELSE progress END "
                       "WHERE id = ?3 AND status NOT IN ('succeeded','failed','cancelled')"));
        st.bind(1, to_string(to)).bind(2, now).bind(3, id);
        if (auto r = st.run(); !r) {
            return r;
        }
        changed = db.changes() > 0;
        if (!changed) {
            return {};
        }
        return insert_event(db, id, now, to, detail);
    });
    if (!s) {
        return fail(s.error());
    }
    return changed;
}

core::Status record_launch(const Database& db, const std::string& id, const LaunchRecord& l) {
    COSMOS_TRY(auto st,
               db.prepare("UPDATE runs SET host = ?, command = ?, spec = ?, "
                          "output_dir = ?, log_path = ?, updated_at = ? WHERE id = ?"));
    st.bind(1, l.host)
        .bind(2, l.command)
        .bind(3, l.spec)
        .bind(4, l.output_dir)
        .bind(5, l.log_path)
        .bind(6, core::now_iso())
        .bind(7, id);
    return st.run();
}

core::Status record_outcome(const Database& db, const std::string& id, const OutcomeRecord& o) {
    COSMOS_TRY(auto st,
               db.prepare("UPDATE runs SET exit_code = ?, error = ?, output_video = ?, "
                          "updated_at = ? WHERE id = ?"));
    st.bind(1, o.exit_code).bind(2, o.error).bind(3, o.output_video).bind(4, core::now_iso());
    st.bind(5, id);
    return st.run();
}

core::Status record_remote(const Database& db, const std::string& id, const RemoteRecord& r) {
    COSMOS_TRY(auto st,
               db.prepare("UPDATE runs SET runtime = ?, remote_dir = ?, image = ?, "
                          "updated_at = ? WHERE id = ?"));
    st.bind(1, r.runtime).bind(2, r.remote_dir).bind(3, r.image).bind(4, core::now_iso());
    st.bind(5, id);
    return st.run();
}

core::Result<std::vector<RunRecord>> batch_runs(const Database& db, const std::string& batch_id) {
    COSMOS_TRY(auto st,
               db.prepare(fmt::format("SELECT {} FROM runs WHERE batch_id = ? ORDER BY batch_index",
                                      k_select_columns)));
    st.bind(1, batch_id);
    return collect(st);
}

core::Status record_batch(const Database& db,
                          const std::string& id,
                          const std::optional<std::string>& batch_id,
                          std::optional<int> index) {
    COSMOS_TRY(auto st,
               db.prepare("UPDATE runs SET batch_id = ?, batch_index = ?, updated_at = ? "
                          "WHERE id = ?"));
    std::optional<std::int64_t> line;
    if (index) {
        line = *index;
    }
    st.bind(1, batch_id).bind(2, line).bind(3, core::now_iso()).bind(4, id);
    return st.run();
}

core::Status record_costs(const Database& db, const std::string& id, const CostRecord& c) {
    // COALESCE keeps what an earlier phase recorded when this call does not know it.
    COSMOS_TRY(auto st,
               db.prepare("UPDATE runs SET uploaded_bytes = COALESCE(?, uploaded_bytes), "
                          "upload_seconds = COALESCE(?, upload_seconds), "
                          "run_seconds = COALESCE(?, run_seconds), "
                          "download_seconds = COALESCE(?, download_seconds), "
                          "gpu_seconds = COALESCE(?, gpu_seconds), "
                          "gpu_price_per_hour = COALESCE(?, gpu_price_per_hour) WHERE id = ?"));
    auto bind_real = [&st](int i, const std::optional<double>& v) {
        if (v) {
            st.bind(i, *v);
        } else {
            st.bind(i, std::nullopt);
        }
    };
    st.bind(1, c.uploaded_bytes);
    bind_real(2, c.upload_seconds);
    bind_real(3, c.run_seconds);
    bind_real(4, c.download_seconds);
    bind_real(5, c.gpu_seconds);
    bind_real(6, c.gpu_price_per_hour);
    st.bind(7, id);
    return st.run();
}

core::Status record_gpu_ids(const Database& db, const std::string& id, const std::string& ids) {
    COSMOS_TRY(auto st, db.prepare("UPDATE runs SET gpu_ids = ? WHERE id = ?"));
    st.bind(1, ids).bind(2, id);
    return st.run();
}

core::Status record_gpu_usage(const Database& db,
                              const std::string& id,
                              double util_mean,
                              double util_peak,
                              double mem_peak_mib) {
    COSMOS_TRY(auto st,
               db.prepare("UPDATE runs SET gpu_util_mean = ?, gpu_util_peak = ?, "
                          "gpu_mem_peak_mib = ? WHERE id = ?"));
    st.bind(1, util_mean).bind(2, util_peak).bind(3, mem_peak_mib).bind(4, id);
    return st.run();
}

core::Status set_run_rating(const Database& db, const std::string& id, std::optional<int> rating) {
    if (rating && (*rating < k_min_rating || *rating > k_max_rating)) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("rating {} is out of range", *rating),
                    fmt::format("a rating is {} to {} stars", k_min_rating, k_max_rating));
    }
    COSMOS_TRY(auto st, db.prepare("UPDATE runs SET rating = ?, updated_at = ? WHERE id = ?"));
    st.bind(1, rating ? std::optional<std::int64_t>(*rating) : std::nullopt)
        .bind(2, core::now_iso())
        .bind(3, id);
    COSMOS_CHECK(st.run());
    if (db.changes() == 0) {
        return fail(ErrorCode::not_found, fmt::format("no run {}", id));
    }
    return {};
}

core::Result<std::vector<RunFiles>> all_run_files(const Database& db) {
    COSMOS_TRY(auto st,
               db.prepare("SELECT id, status, source, output_video, log_path, output_dir "
                          "FROM runs ORDER BY id"));
    std::vector<RunFiles> out;
    for (;;) {
        COSMOS_TRY(bool row, st.step());
        if (!row) {
            return out;
        }
        out.push_back(RunFiles{st.text(0),
                               run_status_from(st.text(1)).value_or(RunStatus::failed),
                               st.text(2),
                               st.opt_text(3),
                               st.opt_text(4),
                               st.opt_text(5)});
    }
}

core::Status forget_run_files(const Database& db,
                              const std::string& id,
                              const ForgottenFiles& files,
                              const std::string& detail) {
    return db.transaction([&]() -> core::Status {
        COSMOS_TRY(auto run, require_run(db, id));
        std::string now = core::now_iso();
        COSMOS_TRY(auto st,
                   db.prepare("UPDATE runs SET "
                              "output_video = CASE WHEN ?1 THEN NULL ELSE output_video END, "
                              "log_path = CASE WHEN ?2 THEN NULL ELSE log_path END, "
                              "output_dir = CASE WHEN ?3 THEN NULL ELSE output_dir END, "
                              "updated_at = ?4 WHERE id = ?5"));
        st.bind(1, files.output_video ? 1 : 0)
            .bind(2, files.log ? 1 : 0)
            .bind(3, files.output_dir ? 1 : 0)
            .bind(4, now)
            .bind(5, id);
        COSMOS_CHECK(st.run());
        return insert_event(db, id, now, run.status, detail);
    });
}

core::Status record_progress(const Database& db, const std::string& id, double progress) {
    COSMOS_TRY(auto st, db.prepare("UPDATE runs SET progress = ? WHERE id = ?"));
    st.bind(1, progress).bind(2, id);
    return st.run();
}

core::Status add_run_note(const Database& db, const std::string& id, const std::string& detail) {
    COSMOS_TRY(auto run, require_run(db, id));
    return insert_event(db, id, core::now_iso(), run.status, detail);
}

core::Result<RunRecord> require_run(const Database& db, const std::string& id) {
    COSMOS_TRY(auto run, get_run(db, id));
    if (!run) {
        return core::fail(core::ErrorCode::not_found, fmt::format("no run {}", id));
    }
    return *run;
}

core::Result<RunRecord> fail_run(const Database& db,
                                 const std::string& id,
                                 const std::string& error) {
    if (auto s = record_outcome(db, id, OutcomeRecord{std::nullopt, error, std::nullopt}); !s) {
        return core::fail(s.error());
    }
    COSMOS_TRY(bool moved, transition_run(db, id, RunStatus::failed, error));
    (void)moved;
    return require_run(db, id);
}

core::Result<std::vector<RunEvent>> run_events(const Database& db, const std::string& id) {
    COSMOS_TRY(auto st,
               db.prepare("SELECT at, status, detail FROM run_events WHERE run_id = ? "
                          "ORDER BY at, rowid"));
    st.bind(1, id);
    std::vector<RunEvent> out;
    for (;;) {
        COSMOS_TRY(bool row, st.step());
        if (!row) {
            return out;
        }
        out.push_back(RunEvent{
            st.text(0), run_status_from(st.text(1)).value_or(RunStatus::failed), st.text(2)});
    }
}

core::Status delete_run(const Database& db, const std::string& id) {
    COSMOS_TRY(auto st, db.prepare("DELETE FROM runs WHERE id = ?"));
    st.bind(1, id);
    return st.run();
}

core::Result<std::int64_t> count_runs(const Database& db) {
    COSMOS_TRY(auto st, db.prepare("SELECT count(*) FROM runs"));
    COSMOS_TRY(bool row, st.step());
    return row ? st.int64(0) : 0;
}

}  // namespace cosmos::store
