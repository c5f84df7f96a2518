#include "core/file_stamp.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>

#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/log.hpp"
#include "core/temp_name.hpp"

namespace cosmos::core {

namespace fs = std::filesystem;

std::int64_t mtime_ns_of(const struct ::stat& st) {
    return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

FileStamp stamp_of(const struct ::stat& st) {
    FileStamp s;
    s.size = static_cast<std::uint64_t>(st.st_size);
    s.mtime_ns = mtime_ns_of(st);
    s.ctime_ns = static_cast<std::int64_t>(st.st_ctim.tv_sec) * 1'000'000'000 + st.st_ctim.tv_nsec;
    s.inode = static_cast<std::uint64_t>(st.st_ino);
    s.device = static_cast<std::uint64_t>(st.st_dev);
    return s;
}

Result<FileStamp> stamp_file(const fs::path& path) {
    struct ::stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        return fail(ErrorCode::io,
                    fmt::format("cannot read {}: {}", path.string(), std::strerror(errno)));
    }
    return stamp_of(st);
}

HashCacheFile::HashCacheFile(fs::path file) : m_file(std::move(file)) {}

std::map<std::string, HashCacheFile::Entry> HashCacheFile::read_file() const {
    std::map<std::string, Entry> out;
    std::error_code ec;
    if (m_file.empty() || !fs::exists(m_file, ec)) {
        return out;
    }
    auto size = fs::file_size(m_file, ec);
    if (ec || size > k_max_file_bytes) {
        log(LogLevel::warn,
            "staging: ignoring {} (unreadable or over {} bytes)",
            m_file.string(),
            k_max_file_bytes);
        return out;
    }
    std::ifstream in(m_file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    auto j = nlohmann::json::parse(text.str(), nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("files") || !j["files"].is_object()) {
        log(LogLevel::warn,
            "staging: {} is damaged; local inputs are hashed again",
            m_file.string());
        return out;
    }
    for (const auto& [path, e] : j["files"].items()) {
        try {
            Entry entry;
            entry.stamp = {e.at("size").get<std::uint64_t>(),
                           e.at("mtime_ns").get<std::int64_t>(),
                           e.at("ctime_ns").get<std::int64_t>(),
                           e.at("inode").get<std::uint64_t>(),
                           e.at("device").get<std::uint64_t>()};
            entry.sha256 = e.at("sha256").get<std::string>();
            out[path] = std::move(entry);
        } catch (const nlohmann::json::exception&) {
            continue;  // one bad entry costs one re-hash
        }
    }
    return out;
}

void HashCacheFile::load_locked() {
    if (!m_loaded) {
        m_entries = read_file();
        m_loaded = true;
    }
}

std::optional<std::string> HashCacheFile::lookup(const std::string& path, const FileStamp& stamp) {
    std::lock_guard lock(m_mutex);
    load_locked();
    auto it = m_entries.find(path);
    if (it == m_entries.end() || !(it->second.stamp == stamp)) {
        return std::nullopt;
    }
    return it->second.sha256;
}

Status HashCacheFile::remember(const std::string& path,
                               const FileStamp& stamp,
                               const std::string& sha256) {
    std::lock_guard lock(m_mutex);
    load_locked();
    auto merged = read_file();  // what other processes recorded meanwhile
    merged.merge(m_entries);
    m_entries = std::move(merged);
    m_entries[path] = Entry{stamp, sha256};
    while (m_entries.size() > k_max_entries) {
        m_entries.erase(m_entries.begin());  // a bound, not an LRU: those are hashed again
    }
    if (m_file.empty()) {
        return {};
    }
    nlohmann::json files = nlohmann::json::object();
    for (const auto& [p, e] : m_entries) {
        files[p] = {{"size", e.stamp.size},
                    {"mtime_ns", e.stamp.mtime_ns},
                    {"ctime_ns", e.stamp.ctime_ns},
                    {"inode", e.stamp.inode},
                    {"device", e.stamp.device},
                    {"sha256", e.sha256}};
    }
    std::error_code ec;
    fs::create_directories(m_file.parent_path(), ec);
    fs::path tmp = temp_sibling(m_file.string());
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << nlohmann::json{{"version", 1}, {"files", files}}.dump() << "\n";
        if (!out) {
            return fail(ErrorCode::io, fmt::format("cannot write {}", tmp.string()));
        }
    }
    fs::rename(tmp, m_file, ec);
    if (ec) {
        return fail(ErrorCode::io,
                    fmt::format("cannot write {}: {}", m_file.string(), ec.message()));
    }
    return {};
}

}  // namespace cosmos::core
