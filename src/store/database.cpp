#include "store/database.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include "core/log.hpp"

namespace cosmos::store {

using core::ErrorCode;
using core::fail;

namespace {
core::Error db_error(sqlite3* db, std::string_view what) {
    int code = sqlite3_extended_errcode(db);
    ErrorCode ec = ErrorCode::io;
    if ((code & 0xff) == SQLITE_CONSTRAINT) {
        ec = ErrorCode::conflict;
    }
    return core::make_error(ec,
                            fmt::format("database error while {}: {}", what, sqlite3_errmsg(db)));
}
}  // namespace

Statement::Statement(Statement&& other) noexcept : m_db(other.m_db), m_stmt(other.m_stmt) {
    other.m_stmt = nullptr;
}

Statement::~Statement() {
    if (m_stmt != nullptr) {
        sqlite3_finalize(m_stmt);
    }
}

Statement& Statement::bind(int i, std::string_view v) {
    sqlite3_bind_text(m_stmt, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
}
Statement& Statement::bind(int i, std::int64_t v) {
    sqlite3_bind_int64(m_stmt, i, v);
    return *this;
}
Statement& Statement::bind(int i, double v) {
    sqlite3_bind_double(m_stmt, i, v);
    return *this;
}
Statement& Statement::bind(int i, std::nullopt_t) {
    sqlite3_bind_null(m_stmt, i);
    return *this;
}
Statement& Statement::bind(int i, const std::optional<std::string>& v) {
    return v ? bind(i, std::string_view(*v)) : bind(i, std::nullopt);
}
Statement& Statement::bind(int i, const std::optional<std::int64_t>& v) {
    return v ? bind(i, *v) : bind(i, std::nullopt);
}

core::Result<bool> Statement::step() {
    int rc = sqlite3_step(m_stmt);
    if (rc == SQLITE_ROW) {
        return true;
    }
    if (rc == SQLITE_DONE) {
        return false;
    }
    return fail(db_error(m_db, sqlite3_sql(m_stmt)));
}

core::Status Statement::run() {
    for (;;) {
        auto r = step();
        if (!r) {
            return fail(std::move(r).error());
        }
        if (!*r) {
            return {};
        }
    }
}

std::string Statement::text(int col) const {
    const auto* p = sqlite3_column_text(m_stmt, col);
    return p == nullptr ? std::string()
                        : std::string(reinterpret_cast<const char*>(p),
                                      static_cast<std::size_t>(sqlite3_column_bytes(m_stmt, col)));
}
std::optional<std::string> Statement::opt_text(int col) const {
    if (is_null(col)) {
        return std::nullopt;
    }
    return text(col);
}
std::int64_t Statement::int64(int col) const {
    return sqlite3_column_int64(m_stmt, col);
}
std::optional<std::int64_t> Statement::opt_int64(int col) const {
    if (is_null(col)) {
        return std::nullopt;
    }
    return int64(col);
}
double Statement::real(int col) const {
    return sqlite3_column_double(m_stmt, col);
}
bool Statement::is_null(int col) const {
    return sqlite3_column_type(m_stmt, col) == SQLITE_NULL;
}

core::Result<Database> Database::open(const std::filesystem::path& path) {
    std::error_code ec;
    if (path.has_parent_path()) {
        std::filesystem::create_directories(path.parent_path(), ec);
    }
    sqlite3* raw = nullptr;
    int rc = sqlite3_open_v2(path.c_str(),
                             &raw,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             nullptr);
    if (rc != SQLITE_OK) {
        std::string msg = raw != nullptr ? sqlite3_errmsg(raw) : "out of memory";
        sqlite3_close(raw);
        return fail(ErrorCode::io,
                    fmt::format("cannot open database {}: {}", path.string(), msg),
                    "check that the data dir is writable (COSMOS_DATA_DIR or [paths] data_dir)");
    }
    Database db(raw, path);
    sqlite3_busy_timeout(raw, 15000);
    sqlite3_extended_result_codes(raw, 1);
    // WAL: readers never wait for the writer; NORMAL sync is durable across process crashes.
    if (auto s = db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                         "PRAGMA foreign_keys=ON;");
        !s) {
        return fail(core::make_error(
            ErrorCode::io,
            fmt::format("cannot use database {}: {}", path.string(), s.error().message)));
    }
    if (auto s = migrate(db); !s) {
        return fail(s.error());
    }
    return db;
}

core::Result<Database> Database::open_readonly(const std::filesystem::path& path) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        return fail(ErrorCode::not_found, fmt::format("no database file {}", path.string()));
    }
    sqlite3* raw = nullptr;
    int rc =
        sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        std::string msg = raw != nullptr ? sqlite3_errmsg(raw) : "out of memory";
        sqlite3_close(raw);
        return fail(ErrorCode::io,
                    fmt::format("cannot open database {} read-only: {}", path.string(), msg));
    }
    sqlite3_busy_timeout(raw, 15000);
    sqlite3_extended_result_codes(raw, 1);
    return Database(raw, path);
}

Database::Database(Database&& o) noexcept : m_db(o.m_db), m_path(std::move(o.m_path)) {
    o.m_db = nullptr;
}
Database& Database::operator=(Database&& o) noexcept {
    if (this != &o) {
        if (m_db != nullptr) {
            sqlite3_close(m_db);
        }
        m_db = o.m_db;
        m_path = std::move(o.m_path);
        o.m_db = nullptr;
    }
    return *this;
}
Database::~Database() {
    if (m_db != nullptr) {
        sqlite3_close(m_db);
    }
}

core::Result<Statement> Database::prepare(std::string_view sql) const {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(m_db, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
    if (rc != SQLITE_OK) {
        return fail(db_error(m_db, fmt::format("preparing '{}'", sql.substr(0, 60))));
    }
    return Statement(m_db, stmt);
}

core::Status Database::exec(std::string_view sql) const {
    char* err = nullptr;
    std::string s(sql);
    if (sqlite3_exec(m_db, s.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
        std::string msg = err != nullptr ? err : "unknown error";
        sqlite3_free(err);
        return fail(ErrorCode::io, fmt::format("database error: {}", msg));
    }
    return {};
}

core::Status Database::transaction(const std::function<core::Status()>& body) const {
    if (sqlite3_get_autocommit(m_db) == 0) {
        // Nested inside a transaction of this connection: a savepoint, so the outer write lock
        // covers both (the queue moves runs inside its claim transaction).
        if (auto s = exec("SAVEPOINT nested"); !s) {
            return s;
        }
        core::Status inner = body();
        if (!inner) {
            core::warn_on_error(exec("ROLLBACK TO nested"), "rolling back a nested transaction");
        }
        core::warn_on_error(exec("RELEASE nested"), "releasing a nested transaction");
        return inner;
    }
    if (auto s = exec("BEGIN IMMEDIATE"); !s) {
        return s;
    }
    core::Status result = body();
    if (!result) {
        core::warn_on_error(exec("ROLLBACK"), "rolling back a transaction");
        return result;
    }
    if (auto s = exec("COMMIT"); !s) {
        core::warn_on_error(exec("ROLLBACK"), "rolling back a transaction");
        return s;
    }
    return {};
}

std::int64_t Database::changes() const {
    return sqlite3_changes64(m_db);
}

int Database::schema_version() const {
    auto st = prepare("PRAGMA user_version");
    if (!st || !st->step().value_or(false)) {
        return -1;
    }
    return static_cast<int>(st->int64(0));
}

namespace {

// Steps `st` to its end, keeping at most `max_lines` of its rows as `describe` words them
// (rows `keep` rejects are not problems). A file too damaged to read is a problem found, not a
// failure to look.
template <class Keep, class Describe>
std::vector<std::string> collect_problems(Statement& st,
                                          std::size_t max_lines,
                                          Keep keep,
                                          Describe describe) {
    std::vector<std::string> problems;
    for (;;) {
        auto row = st.step();
        if (!row) {
            problems.push_back(row.error().message);
            return problems;
        }
        if (!*row) {
            return problems;
        }
        if (keep(st) && problems.size() < max_lines) {
            problems.push_back(describe(st));
        }
    }
}

}  // namespace

core::Result<std::vector<std::string>> integrity_problems(const Database& db,
                                                          IntegrityCheck check,
                                                          std::size_t max_lines) {
    COSMOS_TRY(auto st,
               db.prepare(check == IntegrityCheck::quick ? "PRAGMA quick_check"
                                                         : "PRAGMA integrity_check"));
    return collect_problems(
        st,
        max_lines,
        [](const Statement& row) { return row.text(0) != "ok"; },
        [](const Statement& row) { return row.text(0); });
}

core::Result<std::vector<std::string>> foreign_key_problems(const Database& db,
                                                            std::size_t max_lines) {
    COSMOS_TRY(auto st, db.prepare("PRAGMA foreign_key_check"));
    // table, rowid, parent table, constraint index
    return collect_problems(
        st,
        max_lines,
        [](const Statement&) { return true; },
        [](const Statement& row) {
            return fmt::format("{} row {} refers to a missing row of {}",
                               row.text(0),
                               row.is_null(1) ? std::string("?") : row.text(1),
                               row.text(2));
        });
}

}  // namespace cosmos::store
