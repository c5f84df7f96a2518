#pragma once
// A thin RAII layer over the SQLite C API: a connection, prepared statements and transactions.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace cosmos::store {

class Statement {
public:
    Statement(sqlite3* db, sqlite3_stmt* stmt) : m_db(db), m_stmt(stmt) {}
    Statement(Statement&& other) noexcept;
    Statement& operator=(Statement&&) = delete;
    Statement(const Statement&) = delete;
    ~Statement();

    // Binds a value to the 1-based parameter `i`; returns *this for chaining.
    Statement& bind(int i, std::string_view v);
    Statement& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
    Statement& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
    Statement& bind(int i, std::int64_t v);
    Statement& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
    Statement& bind(int i, double v);
    Statement& bind(int i, std::nullopt_t);
    Statement& bind(int i, const std::optional<std::string>& v);
    Statement& bind(int i, const std::optional<std::int64_t>& v);

    // Advances to the next row: true when a row is available, false when done.
    core::Result<bool> step();
    // Runs the statement to completion (for INSERT/UPDATE/DELETE).
    core::Status run();

    std::string text(int col) const;
    std::optional<std::string> opt_text(int col) const;
    std::int64_t int64(int col) const;
    std::optional<std::int64_t> opt_int64(int col) const;
    double real(int col) const;
    bool is_null(int col) const;

private:
    sqlite3* m_db;
    sqlite3_stmt* m_stmt;
};

class Database {
public:
    // Opens (creating if needed) the database file, sets WAL, foreign keys and a busy timeout,
    // and migrates the schema to the current version. Fails with io naming the file.
    static core::Result<Database> open(const std::filesystem::path& path);

    // Opens an existing database file read-only, as it is: no WAL switch, no migration (for
    // reading another program's database, e.g. the Python tool's). Fails with not_found when
    // the file does not exist and io when SQLite cannot open it.
    static core::Result<Database> open_readonly(const std::filesystem::path& path);

    Database(Database&&) noexcept;
    Database& operator=(Database&&) noexcept;
    Database(const Database&) = delete;
    ~Database();

    // Prepares `sql`; fails with internal (a bug: SQL is ours) naming the error.
    core::Result<Statement> prepare(std::string_view sql) const;
    // Executes one or more statements without results.
    core::Status exec(std::string_view sql) const;
    // Runs `body` inside BEGIN IMMEDIATE ... COMMIT, rolling back if it fails; inside another
    // transaction of this connection it runs in a savepoint instead.
    core::Status transaction(const std::function<core::Status()>& body) const;
    // Number of rows changed by the last statement.
    std::int64_t changes() const;
    // The schema version (PRAGMA user_version).
    int schema_version() const;
    const std::filesystem::path& path() const { return m_path; }

private:
    Database(sqlite3* db, std::filesystem::path path) : m_db(db), m_path(std::move(path)) {}
    sqlite3* m_db = nullptr;
    std::filesystem::path m_path;
};

enum class IntegrityCheck {
    quick,  // PRAGMA quick_check: the pages and the records, O(size) without index cross-checks
    full,   // PRAGMA integrity_check: also every index against its table
};
// What SQLite's check of `db` reports beyond "ok" (at most `max_lines` lines); empty when the
// file is sound. A file too damaged to read yields the read error as a problem. Fails only when
// the check cannot be prepared. (`cosmos doctor` runs the quick one, `cosmos verify` the full.)
core::Result<std::vector<std::string>> integrity_problems(const Database& db,
                                                          IntegrityCheck check,
                                                          std::size_t max_lines = 5);

// Rows whose foreign key names a row that is not there (PRAGMA foreign_key_check), as lines.
core::Result<std::vector<std::string>> foreign_key_problems(const Database& db,
                                                            std::size_t max_lines = 5);

// The newest schema version this build knows.
int current_schema_version();

// Applies pending migrations inside one transaction each (schema.cpp). Fails with io when the
// database is newer than this build (names both versions).
core::Status migrate(const Database& db);

}  // namespace cosmos::store
