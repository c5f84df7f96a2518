#include "store/prompt_store.hpp"

#include <cctype>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace cosmos::store {

using core::ErrorCode;
using core::fail;

namespace {

constexpr const char* k_columns =
    "id, name, prompt, negative_prompt, input_dir, input_video, controls, video, parent_id, "
    "template, source, created_at, model, masks";

PromptRecord read_prompt(const Statement& st) {
    PromptRecord p;
    p.id = st.text(0);
    p.name = st.text(1);
    p.prompt = st.text(2);
    p.negative_prompt = st.text(3);
    p.input_dir = st.text(4);
    p.input_video = st.opt_text(5);
    auto controls = nlohmann::json::parse(st.text(6), nullptr, false);
    if (controls.is_object()) {
        for (auto& [k, v] : controls.items()) {
            if (v.is_string()) {
                p.controls[k] = v.get<std::string>();
            }
        }
    }
    auto video = nlohmann::json::parse(st.text(7), nullptr, false);
    if (video.is_object()) {
        p.video.width = video.value("width", 0);
        p.video.height = video.value("height", 0);
        p.video.frames = video.value("frames", std::int64_t{0});
        p.video.fps = video.value("fps", 0.0);
    }
    p.parent_id = st.opt_text(8);
    p.template_name = st.opt_text(9);
    p.source = st.text(10);
    p.created_at = st.text(11);
    p.model = model::parse_family(st.text(12)).value_or(model::Family::transfer1);
    auto masks = nlohmann::json::parse(st.text(13), nullptr, false);
    if (masks.is_object()) {
        for (auto& [k, v] : masks.items()) {
            if (v.is_string()) {
                p.masks[k] = v.get<std::string>();
            }
        }
    }
    return p;
}

core::Result<std::vector<PromptRecord>> collect(Statement& st) {
    std::vector<PromptRecord> out;
    for (;;) {
        COSMOS_TRY(bool row, st.step());
        if (!row) {
            return out;
        }
        out.push_back(read_prompt(st));
    }
}

// Turns free text into an FTS5 query: every word becomes a quoted prefix term, so user input
// can never be read as FTS syntax.
std::string fts_query(const std::string& text) {
    std::string q;
    std::string word;
    auto flush = [&] {
        if (!word.empty()) {
            if (!q.empty()) {
                q += ' ';
            }
            q += "\"" + word + "\"*";
            word.clear();
        }
    };
    for (char c : text) {
        auto u = static_cast<unsigned char>(c);
        if (std::isalnum(u) != 0 || u >= 0x80) {
            word += c;
        } else {
            flush();
        }
    }
    flush();
    return q;
}

}  // namespace

core::Status insert_prompt(const Database& db, const PromptRecord& p) {
    nlohmann::json controls = p.controls;
    nlohmann::json video = {{"width", p.video.width},
                            {"height", p.video.height},
                            {"frames", p.video.frames},
                            {"fps", p.video.fps}};
    COSMOS_TRY(auto st,
               db.prepare(fmt::format("INSERT INTO prompts ({}) VALUES "
                                      "(?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                                      k_columns)));
    st.bind(1, p.id)
        .bind(2, p.name)
        .bind(3, p.prompt)
        .bind(4, p.negative_prompt)
        .bind(5, p.input_dir)
        .bind(6, p.input_video)
        .bind(7, controls.dump())
        .bind(8, video.dump())
        .bind(9, p.parent_id)
        .bind(10, p.template_name)
        .bind(11, p.source)
        .bind(12, p.created_at)
        .bind(13, std::string(model::to_string(p.model)))
        .bind(14, nlohmann::json(p.masks).dump());
    auto r = st.run();
    if (!r && r.error().code == ErrorCode::conflict) {
        return fail(ErrorCode::conflict, fmt::format("prompt {} already exists", p.id));
    }
    return r;
}

core::Result<std::optional<PromptRecord>> get_prompt(const Database& db, const std::string& id) {
    COSMOS_TRY(auto st, db.prepare(fmt::format("SELECT {} FROM prompts WHERE id = ?", k_columns)));
    st.bind(1, id);
    COSMOS_TRY(bool row, st.step());
    if (!row) {
        return std::optional<PromptRecord>{};
    }
    return std::optional<PromptRecord>{read_prompt(st)};
}

core::Result<std::optional<PromptRecord>> find_prompt_by_source(const Database& db,
                                                                const std::string& source) {
    COSMOS_TRY(
        auto st,
        db.prepare(fmt::format(
            "SELECT {} FROM prompts WHERE source = ? ORDER BY created_at LIMIT 1", k_columns)));
    st.bind(1, source);
    COSMOS_TRY(bool row, st.step());
    if (!row) {
        return std::optional<PromptRecord>{};
    }
    return std::optional<PromptRecord>{read_prompt(st)};
}

core::Result<std::vector<PromptRecord>> list_prompts(const Database& db, const PromptQuery& q) {
    COSMOS_TRY(auto st,
               db.prepare(fmt::format("SELECT {} FROM prompts ORDER BY created_at DESC, "
                                      "id DESC LIMIT ? OFFSET ?",
                                      k_columns)));
    st.bind(1, q.limit).bind(2, q.offset);
    return collect(st);
}

core::Result<std::vector<PromptRecord>> search_prompts(const Database& db,
                                                       const std::string& text,
                                                       int limit) {
    std::string query = fts_query(text);
    if (query.empty()) {
        return std::vector<PromptRecord>{};
    }
    COSMOS_TRY(
        auto st,
        db.prepare(fmt::format("SELECT {} FROM prompts WHERE rowid IN (SELECT rowid FROM "
                               "prompts_fts WHERE prompts_fts MATCH ? ORDER BY rank LIMIT ?) "
                               "ORDER BY created_at DESC",
                               k_columns)));
    st.bind(1, query).bind(2, limit);
    return collect(st);
}

core::Status delete_prompt(const Database& db, const std::string& id) {
    COSMOS_TRY(auto st, db.prepare("DELETE FROM prompts WHERE id = ?"));
    st.bind(1, id);
    auto r = st.run();
    if (!r && r.error().code == ErrorCode::conflict) {
        return fail(ErrorCode::conflict,
                    fmt::format("prompt {} still has runs", id),
                    "delete its runs first, or pass the runs' ids too");
    }
    return r;
}

namespace {

core::Status set_prompt_text(const Database& db,
                             const std::string& id,
                             const PromptRecord& from,
                             const std::string& name,
                             const std::optional<std::string>& parent_id) {
    COSMOS_TRY(auto st,
               db.prepare("UPDATE prompts SET prompt = ?, name = ?, parent_id = ?, "
                          "template = ?, source = ? WHERE id = ?"));
    st.bind(1, from.prompt)
        .bind(2, name)
        .bind(3, parent_id)
        .bind(4, from.template_name)
        .bind(5, from.source)
        .bind(6, id);
    return st.run();
}

}  // namespace

core::Status swap_enhanced_prompt(const Database& db,
                                  const std::string& original_id,
                                  const std::string& child_id) {
    return db.transaction([&]() -> core::Status {
        COSMOS_TRY(auto original, get_prompt(db, original_id));
        COSMOS_TRY(auto child, get_prompt(db, child_id));
        if (!original || !child) {
            return fail(ErrorCode::not_found,
                        fmt::format("no prompt {}", original ? child_id : original_id));
        }
        if (child->parent_id != original_id) {
            return fail(ErrorCode::conflict,
                        fmt::format("prompt {} was not made from {}", child_id, original_id));
        }
        // The child's id first takes the old text (and the original's parent), so that the
        // original can then name it as its parent.
        COSMOS_CHECK(set_prompt_text(
            db, child_id, *original, original->name + "_original", original->parent_id));
        COSMOS_CHECK(set_prompt_text(db, original_id, *child, original->name, child_id));
        COSMOS_TRY(auto st, db.prepare("UPDATE runs SET prompt_id = ? WHERE prompt_id = ?"));
        st.bind(1, child_id).bind(2, original_id);
        return st.run();
    });
}

core::Result<std::int64_t> count_prompts(const Database& db) {
    COSMOS_TRY(auto st, db.prepare("SELECT count(*) FROM prompts"));
    COSMOS_TRY(bool row, st.step());
    return row ? st.int64(0) : 0;
}

}  // namespace cosmos::store
