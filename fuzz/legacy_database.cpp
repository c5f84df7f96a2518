// `cosmos import`: the Python tool's SQLite database. The input is rows as text, one per line:
// "P" or "R" (prompts or runs), then the columns in the tool's order, tab-separated ("\N" is
// NULL); they are written with bound parameters into a fresh database of the tool's schema,
// which is then imported. Every row gives a candidate or a skipped item, never a crash.
#include "services/legacy_database.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

#include <sqlite3.h>

namespace {

constexpr const char* k_schema = R"sql(
PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
CREATE TABLE prompts (id VARCHAR, model_type VARCHAR, prompt_text TEXT, created_at DATETIME,
    inputs JSON, parameters JSON, PRIMARY KEY (id));
CREATE TABLE runs (id VARCHAR, prompt_id VARCHAR, model_type VARCHAR, status VARCHAR,
    created_at DATETIME, updated_at DATETIME, started_at DATETIME, completed_at DATETIME,
    execution_config JSON, outputs JSON, metadata JSON, log_path VARCHAR, error_message TEXT);
)sql";

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    for (;;) {
        auto at = s.find(sep);
        out.push_back(s.substr(0, at));
        if (at == std::string_view::npos) {
            return out;
        }
        s.remove_prefix(at + 1);
    }
}

void insert(sqlite3* db, std::string_view line) {
    auto fields = split(line, '\t');
    if (fields.empty() || (fields[0] != "P" && fields[0] != "R")) {
        return;
    }
    const bool prompt = fields[0] == "P";
    const int columns = prompt ? 6 : 13;
    std::string sql =
        prompt ? "INSERT OR IGNORE INTO prompts VALUES (?" : "INSERT OR IGNORE INTO runs VALUES (?";
    for (int i = 1; i < columns; ++i) {
        sql += ",?";
    }
    sql += ")";
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
        std::abort();
    }
    for (int i = 0; i < columns; ++i) {
        auto at = static_cast<std::size_t>(i) + 1;
        if (at < fields.size() && fields[at] != "\\N") {
            sqlite3_bind_text(st,
                              i + 1,
                              fields[at].data(),
                              static_cast<int>(fields[at].size()),
                              SQLITE_TRANSIENT);
        }
    }
    sqlite3_step(st);
    sqlite3_finalize(st);
}

std::filesystem::path db_path() {
    std::filesystem::path dir = std::filesystem::exists("/dev/shm") ? "/dev/shm" : "/tmp";
    return dir / ("cosmos-fuzz-legacy-" + std::to_string(::getpid()) + ".db");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::filesystem::path file = db_path();
    std::filesystem::remove(file);
    sqlite3* db = nullptr;
    if (sqlite3_open(file.c_str(), &db) != SQLITE_OK ||
        sqlite3_exec(db, k_schema, nullptr, nullptr, nullptr) != SQLITE_OK) {
        std::abort();
    }
    std::string_view text(reinterpret_cast<const char*>(data), size);
    for (auto line : split(text, '\n')) {
        insert(db, line);
    }
    sqlite3_close(db);
    cosmos::services::legacy::Batch batch;
    cosmos::services::ImportDefaults defaults{"blurry"};
    cosmos::services::legacy::read_legacy_database(file, defaults, batch);
    std::filesystem::remove(file);
    return 0;
}
