// GET endpoints of the JSON API (docs/api.md): health, prompts, inputs, runs (detail, log,
// files, output, previews), gallery and hosts. Each parses the request, calls the store or a
// service and renders the CLI's JSON shapes (services/views).

#include <algorithm>
#include <array>
#include <charconv>
#include <fstream>
#include <limits>
#include <set>

#include <fmt/format.h>

#include "core/clock.hpp"
#include "core/ids.hpp"
#include "services/host_status.hpp"
#include "services/hosts.hpp"
#include "services/models.hpp"
#include "services/previews.hpp"
#include "services/queue.hpp"
#include "services/reasoner.hpp"
#include "services/views.hpp"
#include "store/gpu_samples.hpp"
#include "store/prompt_store.hpp"
#include "store/queue_store.hpp"
#include "store/run_store.hpp"
#include "web/http_util.hpp"
#include "web/routes.hpp"

namespace cosmos::web {

namespace fs = std::filesystem;
using core::ErrorCode;
using core::fail;
using J = nlohmann::ordered_json;

namespace {

core::Result<store::PromptRecord> require_prompt(const services::App& app, const std::string& id) {
    if (!core::is_valid_id(core::IdKind::prompt, id)) {
        return fail(ErrorCode::not_found,
                    fmt::format("no prompt '{}'", id),
                    "prompt ids look like ps_1a2b3c4d5e6f7a8b");
    }
    COSMOS_TRY(auto p, store::get_prompt(app.db, id));
    if (!p) {
        return fail(ErrorCode::not_found, fmt::format("no prompt {}", id));
    }
    return *p;
}

core::Result<store::RunRecord> require_run(const services::App& app, const std::string& id) {
    if (!core::is_valid_id(core::IdKind::run, id)) {
        return fail(ErrorCode::not_found,
                    fmt::format("no run '{}'", id),
                    "run ids look like rs_1a2b3c4d5e6f7a8b");
    }
    return store::require_run(app.db, id);
}

// A stored absolute path, accepted only when it resolves inside `base`.
core::Result<fs::path> stored_inside(const fs::path& base, const std::string& stored) {
    std::error_code ec;
    fs::path b = fs::weakly_canonical(base, ec);
    fs::path p = fs::weakly_canonical(stored, ec);
    fs::path rel = p.lexically_relative(b);
    if (ec || rel.empty() || *rel.begin() == "..") {
        return fail(ErrorCode::not_found, "the file is not inside the data dir");
    }
    return resolve_inside(b, rel.generic_string());
}

struct Page {
    int limit = 50;
    int offset = 0;
};

core::Result<Page> page_of(const httplib::Request& req) {
    Page p;
    COSMOS_TRY(auto limit, parse_query_int("limit", query(req, "limit"), 50, 1, 1000));
    COSMOS_TRY(auto offset, parse_query_int("offset", query(req, "offset"), 0, 0, 100000000));
    p.limit = static_cast<int>(limit);
    p.offset = static_cast<int>(offset);
    return p;
}

fs::path log_path_of(const services::App& app, const store::RunRecord& r) {
    std::error_code ec;
    if (r.log_path && !r.log_path->empty() && fs::exists(*r.log_path, ec)) {
        return *r.log_path;
    }
    return app.run_dir(r.id) / "run.log";
}

// A video's name inside its input set's folder ("color.mp4"); empty when it lies outside.
std::string name_in_set(const store::PromptRecord& p, const std::string& path) {
    fs::path rel = fs::path(path).lexically_normal().lexically_relative(
        fs::path(p.input_dir).lexically_normal());
    std::string name = rel.generic_string();
    return is_safe_relative_path(name) ? name : std::string();
}

std::string input_url(const store::PromptRecord& p, const std::string& path) {
    std::string name = name_in_set(p, path);
    return fmt::format(
        "/api/inputs/{}/files/{}", p.id, name.empty() ? fs::path(path).filename().string() : name);
}

// What /api/inputs/{prompt}/files/ serves of an input set: the videos it defines (color,
// controls, masks) and their previews (previews/<stem>.thumb.png and .sheet.png, where
// `cosmos prepare` leaves them); nothing else of the folder.
std::set<std::string> served_input_files(const store::PromptRecord& p) {
    std::vector<std::string> videos;
    if (p.input_video) {
        videos.push_back(*p.input_video);
    }
    for (const auto& m : {p.controls, p.masks}) {
        for (const auto& [modality, path] : m) {
            videos.push_back(path);
        }
    }
    std::set<std::string> out;
    for (const auto& v : videos) {
        if (std::string name = name_in_set(p, v); !name.empty()) {
            std::string stem = fs::path(name).stem().string();
            out.insert(name);
            out.insert(fmt::format("previews/{}.thumb.png", stem));
            out.insert(fmt::format("previews/{}.sheet.png", stem));
        }
    }
    return out;
}

// The file `name` (decoded; `raw` as the request spelled it) of prompt `p`'s input set.
core::Result<fs::path> input_file(const store::PromptRecord& p,
                                  const std::string& name,
                                  std::string_view raw) {
    auto refused = [&] {
        return fail(
            ErrorCode::not_found,
            fmt::format("'{}' is not a video or preview of input set {}", name, p.input_dir),
            "only the input set's color, control and mask videos and their previews "
            "are served");
    };
    std::string lower_raw(raw);
    for (char& c : lower_raw) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    bool hidden = name.empty() || name.front() == '.' || name.find("/.") != std::string::npos;
    if (hidden || lower_raw.find("%2f") != std::string::npos ||
        lower_raw.find("%5c") != std::string::npos || !served_input_files(p).count(name)) {
        return refused();
    }
    auto path = resolve_inside(p.input_dir, name);  // a symlink leading out is refused
    if (!path) {
        return refused();
    }
    return *path;
}

J run_outputs(const services::App& app, const store::RunRecord& r) {
    J out = J::array();
    fs::path dir = app.run_dir(r.id);
    std::error_code ec;
    int n = 0;
    for (auto it = fs::recursive_directory_iterator(dir, ec);
         !ec && it != fs::recursive_directory_iterator() && n < 500;
         it.increment(ec), ++n) {
        if (!it->is_regular_file(ec)) {
            continue;
        }
        std::string rel = fs::relative(it->path(), dir, ec).generic_string();
        out.push_back({{"name", rel},
                       {"url", fmt::format("/api/runs/{}/files/{}", r.id, rel)},
                       {"size", it->file_size(ec)}});
    }
    return out;
}

core::Result<Reply> list_prompts(const httplib::Request& req, services::App& app) {
    COSMOS_TRY(auto page, page_of(req));
    std::string q = query(req, "q");
    J items = J::array();
    std::int64_t total = 0;
    if (!q.empty()) {
        COSMOS_TRY(auto found, store::search_prompts(app.db, q, 100000));
        total = static_cast<std::int64_t>(found.size());
        for (std::size_t i = page.offset;
             i < found.size() && items.size() < static_cast<std::size_t>(page.limit);
             ++i) {
            items.push_back(services::prompt_json(found[i]));
        }
    } else {
        store::PromptQuery pq;
        pq.limit = page.limit;
        pq.offset = page.offset;
        COSMOS_TRY(auto list, store::list_prompts(app.db, pq));
        COSMOS_TRY(total, store::count_prompts(app.db));
        for (const auto& p : list) {
            items.push_back(services::prompt_json(p));
        }
    }
    return Reply{200, {{"items", items}, {"total", total}}};
}

core::Result<Reply> show_prompt(const httplib::Request& req, services::App& app) {
    COSMOS_TRY(auto p, require_prompt(app, req.matches[1].str()));
    COSMOS_TRY(auto runs, store::runs_for_prompts(app.db, {p.id}, 500));
    J j = services::prompt_json(p);
    J arr = J::array();
    for (const auto& r : runs) {
        arr.push_back(services::run_json(r));
    }
    j["runs"] = arr;
    j["preview_url"] = fmt::format("/api/prompts/{}/preview", p.id);
    return Reply{200, j};
}

core::Result<Reply> list_inputs(const httplib::Request& req, services::App& app) {
    COSMOS_TRY(auto page, page_of(req));
    store::PromptQuery pq;
    pq.limit = 100000;
    COSMOS_TRY(auto prompts, store::list_prompts(app.db, pq));
    std::set<std::string> seen;
    J items = J::array();
    std::int64_t total = 0;
    for (const auto& p : prompts) {
        if (!seen.insert(p.input_dir).second) {
            continue;
        }
        ++total;
        if (total <= page.offset || items.size() >= static_cast<std::size_t>(page.limit)) {
            continue;
        }
        J videos = J::array();
        auto video = [&](const std::string& modality, const std::string& path) {
            J v{{"modality", modality},
                {"path", path},
                {"url", input_url(p, path)},
                {"thumb_url",
                 modality == "color" ? J(fmt::format("/api/prompts/{}/preview", p.id))
                                     : J(nullptr)},
                {"frames", p.video.frames},
                {"fps", p.video.fps},
                {"width", p.video.width},
                {"height", p.video.height}};
            videos.push_back(v);
        };
        if (p.input_video) {
            video("color", *p.input_video);
        }
        for (const auto& [modality, path] : p.controls) {
            video(modality, path);
        }
        items.push_back({{"prompt_id", p.id},
                         {"name", p.name},
                         {"input_dir", p.input_dir},
                         {"videos", videos}});
    }
    return Reply{200, {{"items", items}, {"total", total}}};
}

// The rating filters of the runs list and the gallery: ?rating=N (exactly) and ?min_rating=N.
core::Status rating_filters_of(const httplib::Request& req, store::RunQuery& q) {
    const std::array<std::pair<const char*, std::optional<int>*>, 2> filters = {
        {{"rating", &q.rating}, {"min_rating", &q.min_rating}}};
    for (auto [name, field] : filters) {
        if (std::string s = query(req, name); !s.empty()) {
            COSMOS_TRY(auto n,
                       parse_query_int(name, s, 0, store::k_min_rating, store::k_max_rating));
            *field = static_cast<int>(n);
        }
    }
    return {};
}

core::Result<store::RunQuery> run_query_of(const httplib::Request& req) {
    COSMOS_TRY(auto page, page_of(req));
    store::RunQuery q;
    COSMOS_CHECK(rating_filters_of(req, q));
    q.limit = page.limit;
    q.offset = page.offset;
    if (std::string s = query(req, "status"); !s.empty()) {
        auto st = store::run_status_from(s);
        if (!st) {
            return fail(ErrorCode::invalid_input,
                        fmt::format("unknown status '{}'", s),
                        "one of pending, queued, running, succeeded, failed, cancelled");
        }
        q.status = *st;
    }
    if (std::string s = query(req, "host"); !s.empty()) {
        q.host = s;
    }
    if (std::string s = query(req, "prompt"); !s.empty()) {
        q.prompt_id = s;
    }
    if (std::string s = query(req, "since"); !s.empty()) {
        q.since = s;
    }
    if (std::string s = query(req, "until"); !s.empty()) {
        q.until = s;
    }
    if (std::string s = query(req, "q"); !s.empty()) {
        q.text = s;
    }
    return q;
}

core::Result<Reply> list_runs(const httplib::Request& req, services::App& app) {
    COSMOS_TRY(auto q, run_query_of(req));
    COSMOS_TRY(auto runs, store::list_runs(app.db, q));
    COSMOS_TRY(auto total, store::count_runs(app.db, q));
    J items = J::array();
    for (const auto& r : runs) {
        items.push_back(services::run_json(r));
    }
    return Reply{200, {{"items", items}, {"total", total}}};
}

core::Result<Reply> show_run(const httplib::Request& req, services::App& app) {
    COSMOS_TRY(auto found, require_run(app, req.matches[1].str()));
    auto r = services::with_live_gpu_usage(app, found);
    COSMOS_TRY(auto events, store::run_events(app.db, r.id));
    COSMOS_TRY(auto job, store::job_for_run(app.db, r.id));
    J j = services::run_json(r);
    j["events"] = services::run_events_json(events);
    J spec = nullptr;
    if (r.spec) {
        spec = J::parse(*r.spec, nullptr, false);
        if (spec.is_discarded()) {
            spec = *r.spec;
        }
    }
    j["spec"] = spec;
    j["outputs"] = run_outputs(app, r);
    j["output_url"] = r.output_video ? J(fmt::format("/api/runs/{}/output", r.id)) : J(nullptr);
    j["preview_url"] = r.output_video ? J(fmt::format("/api/runs/{}/preview", r.id)) : J(nullptr);
    j["job"] = job ? services::job_json(*job, r, std::nullopt) : J(nullptr);
    j["log_url"] = fmt::format("/api/runs/{}/log", r.id);
    j["gpu_history_url"] = fmt::format("/api/runs/{}/gpu", r.id);
    auto review = services::stored_review(app, r.id);
    j["review"] = review ? *review : J(nullptr);
    return Reply{200, j};
}

// An integer query parameter in [lo, hi], `fallback` when absent.
core::Result<int> int_query(
    const httplib::Request& req, const std::string& name, int fallback, int lo, int hi) {
    std::string v = query(req, name);
    if (v.empty()) {
        return fallback;
    }
    int n = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || end != v.data() + v.size() || n < lo || n > hi) {
        return core::fail(core::ErrorCode::invalid_input,
                          fmt::format("{} must be a whole number from {} to {}", name, lo, hi));
    }
    return n;
}

// GET /api/hosts/{name}/gpu?minutes=60&points=120: the host's GPU samples for a chart.
core::Result<Reply> host_gpu_history(const httplib::Request& req, services::App& app) {
    std::string name = req.matches[1].str();
    if (!app.config.hosts.contains(name)) {
        return core::fail(core::ErrorCode::not_found, fmt::format("no host {}", name));
    }
    COSMOS_TRY(int minutes, int_query(req, "minutes", 60, 1, 30 * 24 * 60));
    COSMOS_TRY(int points, int_query(req, "points", 120, 1, 2000));
    std::int64_t to = core::now_ms();
    COSMOS_TRY(auto j,
               services::gpu_history_json(
                   app, name, to - static_cast<std::int64_t>(minutes) * 60'000, to, points));
    return Reply{200, j};
}

// GET /api/runs/{id}/gpu?points=120: the GPUs a run held, over its run time (until now while it
// runs).
core::Result<Reply> run_gpu_history(const httplib::Request& req, services::App& app) {
    COSMOS_TRY(auto r, require_run(app, req.matches[1].str()));
    COSMOS_TRY(int points, int_query(req, "points", 120, 1, 2000));
    std::int64_t from = r.started_at ? core::ms_from_iso(*r.started_at) : -1;
    std::int64_t to = r.finished_at ? core::ms_from_iso(*r.finished_at) : core::now_ms();
    if (!r.host || from < 0 || to < from) {
        return Reply{
            200, {{"run", r.id}, {"host", r.host ? J(*r.host) : J(nullptr)}, {"gpus", J::array()}}};
    }
    COSMOS_TRY(auto j, services::gpu_history_json(app, *r.host, from, to, points));
    if (r.gpu_ids) {
        auto held = store::parse_gpu_ids(*r.gpu_ids);
        J kept = J::array();
        for (const auto& g : j["gpus"]) {
            if (std::find(held.begin(), held.end(), g["gpu"].get<int>()) != held.end()) {
                kept.push_back(g);
            }
        }
        j["gpus"] = kept;
    }
    j["run"] = r.id;
    return Reply{200, j};
}

core::Result<Reply> gallery(const httplib::Request& req, services::App& app) {
    COSMOS_TRY(auto page, page_of(req));
    store::RunQuery q;
    q.status = store::RunStatus::succeeded;
    q.with_output = true;  // what the gallery shows: total and pages count the same runs
    COSMOS_CHECK(rating_filters_of(req, q));
    q.limit = page.limit;
    q.offset = page.offset;
    std::vector<store::RunRecord> runs;
    std::int64_t total = 0;
    if (std::string id = query(req, "run"); !id.empty()) {
        COSMOS_TRY(auto r, require_run(app, id));  // one run's item (deep link)
        if (r.status == store::RunStatus::succeeded && r.output_video && !r.output_video->empty()) {
            runs.push_back(r);
        }
        total = static_cast<std::int64_t>(runs.size());
    } else {
        COSMOS_TRY(runs, store::list_runs(app.db, q));
        COSMOS_TRY(total, store::count_runs(app.db, q));
    }
    J items = J::array();
    for (const auto& r : runs) {
        COSMOS_TRY(auto p, store::get_prompt(app.db, r.prompt_id));
        J in = nullptr;
        if (p && p->input_video) {
            in = input_url(*p, *p->input_video);
        }
        items.push_back({{"run", services::run_json(r)},
                         {"prompt", p ? services::prompt_json(*p) : J(nullptr)},
                         {"output_url", fmt::format("/api/runs/{}/output", r.id)},
                         {"input_url", in},
                         {"poster_url", fmt::format("/api/runs/{}/preview", r.id)}});
    }
    return Reply{200, {{"items", items}, {"total", total}}};
}

}  // namespace

void add_read_routes(UiServer::Impl& s) {
    s.http.Get("/api/health",
               api(s, [&s](const httplib::Request&, services::App& app) -> core::Result<Reply> {
                   return Reply{200,
                                {{"version", COSMOS_VERSION},
                                 {"data_dir", app.data_dir().string()},
                                 {"token_required", !s.token.empty()}}};
               }));
    s.http.Get("/api/models",
               api(s, [](const httplib::Request&, services::App& app) -> core::Result<Reply> {
                   COSMOS_TRY(auto models, services::list_models(app.config));
                   return Reply{200, {{"items", models}}};
               }));
    s.http.Get("/api/prompts", api(s, list_prompts));
    s.http.Get(R"(/api/prompts/([^/]+))", api(s, show_prompt));
    s.http.Get("/api/inputs", api(s, list_inputs));
    s.http.Get("/api/runs", api(s, list_runs));
    s.http.Get(R"(/api/runs/([^/]+))", api(s, show_run));
    s.http.Get(R"(/api/runs/([^/]+)/gpu)", api(s, run_gpu_history));
    s.http.Get(R"(/api/hosts/([^/]+)/gpu)", api(s, host_gpu_history));
    s.http.Get("/api/gallery", api(s, gallery));
    s.http.Get("/api/hosts",
               api(s, [&s](const httplib::Request&, services::App& app) -> core::Result<Reply> {
                   J probes = s.hosts->latest();
                   J items = J::array();
                   for (const auto& [name, host] : app.config.hosts) {
                       J j = services::host_json(host);
                       if (probes.contains(name)) {
                           // Every probe field (slurm hosts add partition, nodes, jobs...);
                           // host_json's own fields win, the probed GPU list is gpu_stats.
                           for (const auto& [key, value] : probes[name].items()) {
                               if (key == "gpus") {
                                   j["gpu_stats"] = value;
                               } else if (key != "host" && !j.contains(key)) {
                                   j[key] = value;
                               }
                           }
                       } else {
                           j["reachable"] = nullptr;  // not probed yet
                           j["gpu_stats"] = J::array();
                           j["running"] = J::array();
                           j["probed_at"] = nullptr;
                       }
                       items.push_back(j);
                   }
                   return Reply{200, {{"items", items}}};
               }));

    // Files: plain handlers (bytes, not JSON), each resolving the request inside its folder.
    auto with_app = [&s](auto body) {
        return [&s, body](const httplib::Request& req, httplib::Response& res) {
            auto app = s.pool->acquire();
            if (!app) {
                send_error(res, app.error());
                return;
            }
            if (auto st = body(req, res, **app); !st) {
                send_error(res, st.error());
            }
        };
    };
    s.http.Get(R"(/api/runs/([^/]+)/log)",
               with_app([](const httplib::Request& req,
                           httplib::Response& res,
                           services::App& app) -> core::Status {
                   COSMOS_TRY(auto r, require_run(app, req.matches[1].str()));
                   COSMOS_TRY(auto offset,
                              parse_query_int("offset",
                                              query(req, "offset"),
                                              0,
                                              0,
                                              std::numeric_limits<std::int64_t>::max()));
                   fs::path path = log_path_of(app, r);
                   std::string text;
                   std::error_code ec;
                   std::uint64_t size = fs::file_size(path, ec);
                   if (ec) {
                       size = 0;
                   }
                   if (static_cast<std::uint64_t>(offset) < size) {
                       std::ifstream in(path, std::ios::binary);
                       in.seekg(offset);
                       std::size_t n = std::min<std::uint64_t>(size - offset, 16 * 1024 * 1024);
                       text.resize(n);
                       in.read(text.data(), static_cast<std::streamsize>(n));
                       text.resize(static_cast<std::size_t>(in.gcount()));
                       size = static_cast<std::uint64_t>(offset) + text.size();
                   }
                   res.status = 200;
                   res.set_header("X-Log-Size",
                                  std::to_string(std::max<std::uint64_t>(size, offset)));
                   res.set_header("Cache-Control", "no-store");
                   res.set_content(text, "text/plain; charset=utf-8");
                   return {};
               }));
    s.http.Get(R"(/api/runs/([^/]+)/files/(.*))",
               with_app([](const httplib::Request& req,
                           httplib::Response& res,
                           services::App& app) -> core::Status {
                   COSMOS_TRY(auto r, require_run(app, req.matches[1].str()));
                   COSMOS_TRY(auto path, resolve_inside(app.run_dir(r.id), req.matches[2].str()));
                   send_file(req, res, path);
                   return {};
               }));
    s.http.Get(R"(/api/runs/([^/]+)/output)",
               with_app([](const httplib::Request& req,
                           httplib::Response& res,
                           services::App& app) -> core::Status {
                   COSMOS_TRY(auto r, require_run(app, req.matches[1].str()));
                   if (!r.output_video) {
                       return fail(ErrorCode::not_found,
                                   fmt::format("run {} has no output video", r.id));
                   }
                   COSMOS_TRY(auto path, stored_inside(app.data_dir(), *r.output_video));
                   send_file(req, res, path);
                   return {};
               }));
    s.http.Get(R"(/api/runs/([^/]+)/preview)",
               with_app([](const httplib::Request& req,
                           httplib::Response& res,
                           services::App& app) -> core::Status {
                   COSMOS_TRY(auto r, require_run(app, req.matches[1].str()));
                   COSMOS_TRY(auto previews, services::run_previews(app, r));
                   if (!previews) {
                       return fail(ErrorCode::not_found,
                                   fmt::format("run {} has no output video yet", r.id));
                   }
                   send_file(req,
                             res,
                             query(req, "kind") == "sheet" ? previews->contact_sheet
                                                           : previews->thumbnail);
                   return {};
               }));
    s.http.Get(R"(/api/prompts/([^/]+)/preview)",
               with_app([](const httplib::Request& req,
                           httplib::Response& res,
                           services::App& app) -> core::Status {
                   COSMOS_TRY(auto p, require_prompt(app, req.matches[1].str()));
                   COSMOS_TRY(auto previews, services::prompt_previews(app, p));
                   if (!previews) {
                       return fail(ErrorCode::not_found,
                                   fmt::format("prompt {} has no input video", p.id));
                   }
                   send_file(req,
                             res,
                             query(req, "kind") == "sheet" ? previews->contact_sheet
                                                           : previews->thumbnail);
                   return {};
               }));
    s.http.Get(R"(/api/inputs/([^/]+)/files/(.*))",
               with_app([](const httplib::Request& req,
                           httplib::Response& res,
                           services::App& app) -> core::Status {
                   COSMOS_TRY(auto p, require_prompt(app, req.matches[1].str()));
                   std::string_view target(req.target);
                   auto files = target.find("/files/");
                   COSMOS_TRY(
                       auto path,
                       input_file(p,
                                  req.matches[2].str(),
                                  files == std::string_view::npos ? std::string_view()
                                                                  : target.substr(files + 7)));
                   send_file(req, res, path);
                   return {};
               }));
}

}  // namespace cosmos::web
