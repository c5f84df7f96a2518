#pragma once
// Prompts in the store.

#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "store/database.hpp"
#include "store/records.hpp"

namespace cosmos::store {

struct PromptQuery {
    int limit = 50;
    int offset = 0;
};

// Inserts `p`; fails with conflict when its id exists.
core::Status insert_prompt(const Database& db, const PromptRecord& p);

// Returns the prompt with `id`, or nullopt.
core::Result<std::optional<PromptRecord>> get_prompt(const Database& db, const std::string& id);

// Returns the first prompt whose source is `source` ("enhance:<run_id>"...), or nullopt.
core::Result<std::optional<PromptRecord>> find_prompt_by_source(const Database& db,
                                                                const std::string& source);

// Returns prompts newest first.
core::Result<std::vector<PromptRecord>> list_prompts(const Database& db, const PromptQuery& q);

// Returns prompts whose name, text or negative text match every word of `text` (word prefixes),
// best match first.
core::Result<std::vector<PromptRecord>> search_prompts(const Database& db,
                                                       const std::string& text,
                                                       int limit);

// Deletes the prompt; fails with conflict when runs still refer to it.
core::Status delete_prompt(const Database& db, const std::string& id);

// `prompt-enhance --overwrite`: enhanced prompt `child_id` (made from `original_id`) takes the
// original's place, in one transaction. The original's id gets the child's text, name and
// source ("enhance:<run>") and names the child's id as its parent; the child's id keeps the old
// text, with the original's name + "_original", source, template and parent. The original's runs
// (which ran the old text) move to the child's id. Fails with not_found when either is gone and
// conflict when child_id is not a child of original_id.
core::Status swap_enhanced_prompt(const Database& db,
                                  const std::string& original_id,
                                  const std::string& child_id);

// Returns the number of prompts.
core::Result<std::int64_t> count_prompts(const Database& db);

}  // namespace cosmos::store
