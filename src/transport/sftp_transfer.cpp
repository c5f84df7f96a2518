// Pipelined SFTP v3 uploads and downloads on a channel of their own (see sftp_transfer.hpp).

#include "transport/sftp_transfer.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "core/log.hpp"
#include "transport/sftp_packet.hpp"
#include "transport/ssh_connection.hpp"

namespace cosmos::transport::detail {

using core::ErrorCode;
using core::fail;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

core::Result<std::optional<Packet>> take_packet(std::string_view in, std::size_t& pos) {
    if (in.size() - pos < 4) {
        return std::optional<Packet>();
    }
    std::uint32_t len = get_u32(in.data() + pos);
    if (len < 5 || len > (1u << 24)) {
        return fail(ErrorCode::remote_failed, "malformed SFTP packet from the server");
    }
    if (in.size() - pos < 4 + std::size_t{len}) {
        return std::optional<Packet>();
    }
    Packet p;
    p.type = static_cast<std::uint8_t>(in[pos + 4]);
    p.id = get_u32(in.data() + pos + 5);
    p.body.assign(in.substr(pos + 9, len - 5));
    pos += 4 + len;
    return std::optional<Packet>(std::move(p));
}

std::vector<std::string> version_extensions(std::string_view body) {
    std::vector<std::string> names;
    Reader r{body};
    while (r.ok && r.pos < r.s.size()) {
        std::string name(r.str());
        r.str();
        names.push_back(name);
    }
    return names;
}

namespace {

// Packet types, open flags, status codes and attribute flags of SFTP v3.
enum : std::uint8_t {
    FXP_INIT = 1,
    FXP_VERSION = 2,
    FXP_OPEN = 3,
    FXP_CLOSE = 4,
    FXP_READ = 5,
    FXP_WRITE = 6,
    FXP_FSTAT = 8,
    FXP_REMOVE = 13,
    FXP_RENAME = 18,
    FXP_STATUS = 101,
    FXP_HANDLE = 102,
    FXP_DATA = 103,
    FXP_ATTRS = 105,
    FXP_EXTENDED = 200,
    FXP_EXTENDED_REPLY = 201,
};
enum : std::uint32_t { FXF_READ = 1, FXF_WRITE = 2, FXF_CREAT = 8, FXF_TRUNC = 0x10 };
enum : std::uint32_t { FX_OK = 0, FX_EOF = 1, FX_NO_SUCH_FILE = 2, FX_PERMISSION_DENIED = 3 };
enum : std::uint32_t { ATTR_SIZE = 1, ATTR_PERMISSIONS = 4 };

constexpr std::size_t k_read_buffer = std::size_t{256} << 10;
constexpr int k_poll_ms = 100;

void put_u32(std::string& b, std::uint32_t v) {
    const char c[4] = {static_cast<char>(v >> 24),
                       static_cast<char>(v >> 16),
                       static_cast<char>(v >> 8),
                       static_cast<char>(v)};
    b.append(c, 4);
}
void put_u64(std::string& b, std::uint64_t v) {
    put_u32(b, static_cast<std::uint32_t>(v >> 32));
    put_u32(b, static_cast<std::uint32_t>(v));
}
void put_str(std::string& b, std::string_view s) {
    put_u32(b, static_cast<std::uint32_t>(s.size()));
    b.append(s);
}
struct Fd {
    int fd = -1;
    explicit Fd(int f) : fd(f) {}
    ~Fd() {
        if (fd >= 0) {
            ::close(fd);
        }
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
};

// Calls the progress callback at most every 100 ms, and always for the final state.
class Throttle {
public:
    explicit Throttle(const ProgressFn& fn) : m_fn(fn) {}
    void operator()(std::uint64_t done, std::uint64_t total, bool force = false) {
        if (!m_fn) {
            return;
        }
        auto now = Clock::now();
        if (force || now - m_last >= std::chrono::milliseconds(100)) {
            m_last = now;
            m_fn(TransferProgress{done, total});
        }
    }

private:
    const ProgressFn& m_fn;
    Clock::time_point m_last{};
};

// The SFTP protocol on one channel. Every call needs the connection's mutex held.
class RawSftp {
public:
    RawSftp(Connection& conn, std::unique_ptr<Channel> ch) : m_conn(conn), m_ch(std::move(ch)) {}

    static core::Result<std::unique_ptr<RawSftp>> start(Connection& conn) {
        COSMOS_TRY(auto ch, conn.open_channel());
        auto raw = std::make_unique<RawSftp>(conn, std::move(ch));
        if (ssh_channel_request_subsystem(raw->m_ch->get(), "sftp") != SSH_OK) {
            return fail(raw->io_error("starting SFTP (is the sftp subsystem enabled?)"));
        }
        std::string init;
        put_u32(init, 5);
        init.push_back(static_cast<char>(FXP_INIT));
        put_u32(init, 3);
        COSMOS_SSH_CHECK(raw->send(init));
        COSMOS_TRY(Packet v, raw->wait_any());
        if (v.type != FXP_VERSION) {
            return fail(ErrorCode::remote_failed, "the SFTP server answered INIT with no VERSION");
        }
        // v.id holds the version; the body is (name, data) extension pairs.
        raw->m_ext = version_extensions(v.body);
        return raw;
    }

    bool has_ext(std::string_view name) const {
        return std::find(m_ext.begin(), m_ext.end(), name) != m_ext.end();
    }
    std::uint32_t new_id() { return ++m_id; }
    Channel& channel() { return *m_ch; }

    // A packet with its length left to fill by send().
    static std::string begin(std::uint8_t type, std::uint32_t id) {
        std::string b;
        put_u32(b, 0);
        b.push_back(static_cast<char>(type));
        put_u32(b, id);
        return b;
    }

    core::Status send(std::string& pkt) {
        auto len = static_cast<std::uint32_t>(pkt.size() - 4);
        std::string head;
        put_u32(head, len);
        std::memcpy(pkt.data(), head.data(), 4);
        int n = ssh_channel_write(m_ch->get(), pkt.data(), static_cast<std::uint32_t>(pkt.size()));
        if (n != static_cast<int>(pkt.size())) {
            if (n >= 0 && m_ch->session_alive()) {
                m_ch->mark_broken();  // the peer stopped opening its window: treat as lost
            }
            return fail(io_error("sending SFTP data"));
        }
        m_conn.touch();
        return {};
    }

    // One complete packet within `timeout_ms` (0: only what is already here), or nullopt.
    core::Result<std::optional<Packet>> next(int timeout_ms) {
        for (;;) {
            COSMOS_TRY(auto p, take_packet(m_in, m_pos));
            if (p) {
                if (m_pos == m_in.size()) {
                    m_in.clear();
                    m_pos = 0;
                }
                return p;
            }
            if (m_pos > 0) {
                m_in.erase(0, m_pos);
                m_pos = 0;
            }
            m_buf.resize(k_read_buffer);
            int n = timeout_ms > 0
                        ? ssh_channel_read_timeout(
                              m_ch->get(), m_buf.data(), k_read_buffer, 0, timeout_ms)
                        : ssh_channel_read_nonblocking(m_ch->get(), m_buf.data(), k_read_buffer, 0);
            if (n > 0) {
                m_in.append(m_buf.data(), static_cast<std::size_t>(n));
            }
            if (n == SSH_ERROR || (n == 0 && ssh_channel_is_eof(m_ch->get()) != 0)) {
                return fail(io_error("reading SFTP replies"));
            }
            if (n == 0) {
                return std::optional<Packet>();
            }
            m_conn.touch();
            timeout_ms = std::max(timeout_ms, k_poll_ms);  // the rest of a started packet
        }
    }

    // The next packet, waiting up to the stall limit.
    core::Result<Packet> wait_any() {
        auto until = Clock::now() + stall_limit();
        while (Clock::now() < until) {
            COSMOS_TRY(auto p, next(k_poll_ms));
            if (p) {
                return std::move(*p);
            }
        }
        return fail(stalled());
    }

    core::Result<Packet> call(std::string pkt, std::uint32_t id) {
        COSMOS_SSH_CHECK(send(pkt));
        for (;;) {
            COSMOS_TRY(Packet p, wait_any());
            if (p.id == id) {
                return p;
            }
        }
    }

    // Fails unless `p` is STATUS OK.
    core::Status expect_ok(const Packet& p, std::string_view what, std::string_view path) {
        if (p.type != FXP_STATUS) {
            return fail(ErrorCode::remote_failed,
                        fmt::format("unexpected SFTP reply {} to {} {}", p.type, what, path));
        }
        Reader r{p.body};
        std::uint32_t code = r.u32();
        if (code == FX_OK) {
            return {};
        }
        return fail(status_error(code, r.str(), what, path));
    }

    core::Error status_error(std::uint32_t code,
                             std::string_view msg,
                             std::string_view what,
                             std::string_view path) const {
        const auto& name = m_conn.target().name;
        if (code == FX_NO_SUCH_FILE) {
            return core::make_error(
                ErrorCode::not_found,
                fmt::format("{} {} on host {}: no such file or directory", what, path, name));
        }
        return core::make_error(
            ErrorCode::remote_failed,
            fmt::format("{} {} on host {} failed: {}",
                        what,
                        path,
                        name,
                        code == FX_PERMISSION_DENIED ? std::string("permission denied")
                                                     : fmt::format("{} (status {})", msg, code)));
    }

    core::Result<std::string> open(const std::string& path, std::uint32_t flags, int perms) {
        auto id = new_id();
        auto pkt = begin(FXP_OPEN, id);
        put_str(pkt, path);
        put_u32(pkt, flags);
        put_u32(pkt, ATTR_PERMISSIONS);
        put_u32(pkt, static_cast<std::uint32_t>(perms));
        COSMOS_TRY(Packet p, call(std::move(pkt), id));
        if (p.type == FXP_HANDLE) {
            Reader r{p.body};
            std::string h(r.str());
            if (r.ok) {
                return h;
            }
        }
        auto st = expect_ok(p, "opening", path);
        return fail(st ? core::make_error(ErrorCode::remote_failed, "SFTP open returned no handle")
                       : std::move(st).error());
    }

    core::Result<std::uint64_t> fstat_size(const std::string& handle, const std::string& path) {
        auto id = new_id();
        auto pkt = begin(FXP_FSTAT, id);
        put_str(pkt, handle);
        COSMOS_TRY(Packet p, call(std::move(pkt), id));
        if (p.type != FXP_ATTRS) {
            auto st = expect_ok(p, "reading the size of", path);
            return fail(st ? core::make_error(ErrorCode::remote_failed, "SFTP fstat failed")
                           : std::move(st).error());
        }
        Reader r{p.body};
        std::uint32_t flags = r.u32();
        if (!r.ok || (flags & ATTR_SIZE) == 0) {
            return fail(ErrorCode::remote_failed, fmt::format("no size for {}", path));
        }
        return r.u64();
    }

    core::Status simple(std::string pkt,
                        std::uint32_t id,
                        std::string_view what,
                        std::string_view path) {
        COSMOS_TRY(Packet p, call(std::move(pkt), id));
        return expect_ok(p, what, path);
    }

    core::Status close(const std::string& handle, const std::string& path) {
        auto id = new_id();
        auto pkt = begin(FXP_CLOSE, id);
        put_str(pkt, handle);
        return simple(std::move(pkt), id, "closing", path);
    }

    // Flushes the file to the server's disk when the server offers fsync@openssh.com.
    core::Status fsync(const std::string& handle, const std::string& path) {
        if (!has_ext("fsync@openssh.com")) {
            return {};
        }
        auto id = new_id();
        auto pkt = begin(FXP_EXTENDED, id);
        put_str(pkt, "fsync@openssh.com");
        put_str(pkt, handle);
        return simple(std::move(pkt), id, "syncing", path);
    }

    // Bytes an unprivileged user may still write on the file system of `path`
    // (statvfs@openssh.com); nullopt when the server does not tell.
    std::optional<std::uint64_t> free_bytes(const std::string& path) {
        if (!has_ext("statvfs@openssh.com")) {
            return std::nullopt;
        }
        auto id = new_id();
        auto pkt = begin(FXP_EXTENDED, id);
        put_str(pkt, "statvfs@openssh.com");
        put_str(pkt, path);
        auto p = call(std::move(pkt), id);
        if (!p || p->type != FXP_EXTENDED_REPLY) {
            return std::nullopt;
        }
        Reader r{p->body};
        std::array<std::uint64_t, 5> f{};  // bsize, frsize, blocks, bfree, bavail
        for (auto& v : f) {
            v = r.u64();
        }
        return r.ok ? std::optional<std::uint64_t>(f[1] * f[4]) : std::nullopt;
    }

    // A write to `path` failed: when its file system has less room than the `needed` bytes
    // still to write, says so ("no space left"); otherwise `e`.
    core::Error write_error(core::Error e, const std::string& path, std::uint64_t needed) {
        auto free = free_bytes(path);
        if (!free || *free >= needed) {
            return e;
        }
        return core::make_error(ErrorCode::io,
                                fmt::format("no space left on {}:{} ({} bytes free, {} needed)",
                                            m_conn.target().name,
                                            path,
                                            *free,
                                            needed),
                                "free space on the host (cosmos hosts clean), or set a work_dir "
                                "on a larger disk");
    }

    // Renames `from` over `to`: atomically with posix-rename@openssh.com, else remove + rename.
    core::Status rename(const std::string& from, const std::string& to) {
        auto id = new_id();
        if (has_ext("posix-rename@openssh.com")) {
            auto pkt = begin(FXP_EXTENDED, id);
            put_str(pkt, "posix-rename@openssh.com");
            put_str(pkt, from);
            put_str(pkt, to);
            return simple(std::move(pkt), id, "renaming", from);
        }
        auto rm = begin(FXP_REMOVE, id);
        put_str(rm, to);
        COSMOS_TRY(Packet p, call(std::move(rm), id));
        (void)p;  // a missing target is fine
        id = new_id();
        auto pkt = begin(FXP_RENAME, id);
        put_str(pkt, from);
        put_str(pkt, to);
        return simple(std::move(pkt), id, "renaming", from);
    }

    // The error for a failed channel call: host_unreachable when the session is gone, or when
    // the server closed the channel (its sshd was restarted: the socket may not know yet), so
    // the transfer reconnects and resumes instead of failing.
    core::Error io_error(std::string_view what) const {
        const auto& t = m_conn.target();
        if (m_ch->session_alive() && ssh_channel_is_closed(m_ch->get()) != 0) {
            m_ch->mark_broken();
            return core::make_error(
                ErrorCode::host_unreachable,
                fmt::format("host {} closed the SFTP channel while {}", host_label(t), what));
        }
        if (!m_ch->session_alive()) {
            return core::make_error(ErrorCode::host_unreachable,
                                    fmt::format("lost the connection to host {} while {}: {}",
                                                host_label(t),
                                                what,
                                                ssh_get_error(m_ch->session())));
        }
        return core::make_error(
            ErrorCode::remote_failed,
            fmt::format("{} on host {} failed: {}", what, t.name, ssh_get_error(m_ch->session())));
    }

    std::chrono::seconds stall_limit() const {
        return std::max(std::chrono::seconds(30), 3 * m_conn.target().connect_timeout);
    }

    core::Error stalled() {
        m_ch->mark_broken();
        return core::make_error(ErrorCode::host_unreachable,
                                fmt::format("host {} stopped answering (no SFTP reply in {} s)",
                                            host_label(m_conn.target()),
                                            stall_limit().count()));
    }

private:
    Connection& m_conn;
    std::unique_ptr<Channel> m_ch;
    std::string m_in;         // received bytes not yet parsed, from m_pos
    std::vector<char> m_buf;  // one read's worth
    std::size_t m_pos = 0;
    std::uint32_t m_id = 0;
    std::vector<std::string> m_ext;
};

// Lets other threads use the connection between two steps of a long transfer, and runs the
// progress callback without the lock (it may do anything, even use the same host).
template <class F>
void unlocked(std::unique_lock<std::mutex>& lk, F&& f) {
    lk.unlock();
    f();
    std::this_thread::yield();
    lk.lock();
}

bool read_full(int fd, char* dst, std::size_t n, std::uint64_t offset) {
    while (n > 0) {
        ssize_t got = ::pread(fd, dst, n, static_cast<off_t>(offset));
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            return false;
        }
        dst += got;
        n -= static_cast<std::size_t>(got);
        offset += static_cast<std::uint64_t>(got);
    }
    return true;
}

bool write_full(int fd, const char* src, std::size_t n, std::uint64_t offset) {
    while (n > 0) {
        ssize_t put = ::pwrite(fd, src, n, static_cast<off_t>(offset));
        if (put < 0 && errno == EINTR) {
            continue;
        }
        if (put <= 0) {
            return false;
        }
        src += put;
        n -= static_cast<std::size_t>(put);
        offset += static_cast<std::uint64_t>(put);
    }
    return true;
}

struct Request {
    std::uint64_t offset = 0;
    std::uint32_t len = 0;
};

// The lowest offset not yet confirmed: everything before it is on the destination.
std::uint64_t confirmed(const std::map<std::uint32_t, Request>& inflight, std::uint64_t next) {
    std::uint64_t low = next;
    for (const auto& [id, r] : inflight) {
        low = std::min(low, r.offset);
    }
    return low;
}

core::Error interrupted(std::string_view what, const std::string& path) {
    return core::make_error(ErrorCode::interrupted,
                            fmt::format("{} {} interrupted", what, path),
                            "the .part file is kept: the next transfer of this file resumes it");
}

// Hashes the chunks an upload sends on a thread of its own, in order, so SHA-256 overlaps the
// encryption and sending of the next chunks. Chunks are whole WRITE packets handed over after
// sending (no copy); at most k_requests_in_flight wait.
class HashWorker {
public:
    explicit HashWorker(core::Sha256Stream& sha) : m_sha(sha), m_thread([this] { loop(); }) {}
    ~HashWorker() {
        {
            std::lock_guard lock(m_mutex);
            m_stop = true;
        }
        m_cv.notify_all();
        m_thread.join();
    }
    HashWorker(const HashWorker&) = delete;
    HashWorker& operator=(const HashWorker&) = delete;

    // Queues pkt[at..] (file bytes from `offset`); waits while the queue is full.
    void push(std::string&& pkt, std::size_t at, std::uint64_t offset) {
        std::unique_lock lock(m_mutex);
        m_cv.wait(lock, [&] { return m_queue.size() < std::size_t{k_requests_in_flight}; });
        m_queue.push_back({std::move(pkt), at, offset});
        m_cv.notify_all();
    }

    // Waits until every queued chunk is hashed; false when one left a gap (a bug).
    bool drain() {
        std::unique_lock lock(m_mutex);
        m_cv.wait(lock, [&] { return m_queue.empty() && !m_busy; });
        return !m_gap;
    }

private:
    struct Chunk {
        std::string pkt;
        std::size_t at = 0;
        std::uint64_t offset = 0;
    };

    void loop() {
        std::unique_lock lock(m_mutex);
        for (;;) {
            m_cv.wait(lock, [&] { return m_stop || !m_queue.empty(); });
            if (m_queue.empty()) {
                return;
            }
            Chunk c = std::move(m_queue.front());
            m_queue.pop_front();
            m_busy = true;
            m_cv.notify_all();
            lock.unlock();
            bool ok = m_sha.update_at(c.offset, c.pkt.data() + c.at, c.pkt.size() - c.at);
            lock.lock();
            m_gap = m_gap || !ok;
            m_busy = false;
            m_cv.notify_all();
        }
    }

    core::Sha256Stream& m_sha;
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::deque<Chunk> m_queue;
    bool m_busy = false;
    bool m_stop = false;
    bool m_gap = false;
    std::thread m_thread;  // last: starts once the rest is ready
};

struct UploadState {
    std::optional<std::uint64_t> confirmed;  // from an earlier, interrupted attempt
    std::uint64_t sent = 0;                  // bytes acknowledged by the server, all attempts
    UploadDigest* digest = nullptr;          // hashes what is read (Shell::upload_hashed)
    std::unique_ptr<HashWorker> hasher;      // with digest
    const fs::path* local = nullptr;
};

// Where the first attempt starts: the end of the .part, but no further than the part of it
// proven to match (when hashing). Later attempts resume what this process confirmed.
std::uint64_t resume_point(const UploadState& st, std::uint64_t have) {
    if (st.confirmed) {
        return std::min(have, *st.confirmed);
    }
    return st.digest != nullptr ? std::min(have, st.digest->trusted_part) : have;
}

// Before an attempt sends from `next`: the bytes before it that were not read for sending (a
// resumed prefix) are hashed here, once the chunks of earlier attempts are.
core::Status hash_up_to(UploadState& st, std::uint64_t next) {
    if (st.digest == nullptr) {
        return {};
    }
    if (!st.hasher->drain()) {
        return fail(ErrorCode::internal, "upload hashing skipped bytes");
    }
    return core::sha256_feed_file(st.digest->sha, *st.local, next);
}

core::Status upload_attempt(Connection& conn,
                            int fd,
                            std::uint64_t size,
                            const std::string& remote,
                            UploadState& st,
                            Throttle& progress,
                            const std::atomic<bool>* cancel) {
    const std::string part = remote + ".part";
    std::unique_lock<std::mutex> lk(conn.mutex());
    COSMOS_TRY(auto raw, RawSftp::start(conn));
    COSMOS_TRY(std::string handle, raw->open(part, FXF_WRITE | FXF_CREAT, 0644));
    COSMOS_TRY(std::uint64_t have, raw->fstat_size(handle, part));
    std::uint64_t next = resume_point(st, have);
    if (have > size) {  // not a prefix of this file: start over
        COSMOS_SSH_CHECK(raw->close(handle, part));
        COSMOS_TRY(handle, raw->open(part, FXF_WRITE | FXF_CREAT | FXF_TRUNC, 0644));
        next = 0;
    }
    if (next > 0) {
        core::log(core::LogLevel::debug, "ssh: resuming {} at byte {}", part, next);
    }
    COSMOS_SSH_CHECK(hash_up_to(st, next));
    st.confirmed = next;
    std::map<std::uint32_t, Request> inflight;
    std::string pkt;
    auto last_reply = Clock::now();
    bool stopping = false;  // cancelled: send nothing more, wait for what is in flight
    while ((next < size && !stopping) || !inflight.empty()) {
        while (inflight.size() < static_cast<std::size_t>(k_requests_in_flight) && next < size &&
               !stopping) {
            auto len =
                static_cast<std::uint32_t>(std::min<std::uint64_t>(k_chunk_bytes, size - next));
            auto id = raw->new_id();
            pkt = RawSftp::begin(FXP_WRITE, id);
            put_str(pkt, handle);
            put_u64(pkt, next);
            put_u32(pkt, len);
            std::size_t at = pkt.size();
            pkt.resize(at + len);
            if (!read_full(fd, pkt.data() + at, len, next)) {
                return fail(ErrorCode::io,
                            "the local file shrank or became unreadable during the upload");
            }
            COSMOS_SSH_CHECK(raw->send(pkt));
            if (st.hasher) {
                st.hasher->push(std::move(pkt), at, next);
            }
            inflight[id] = {next, len};
            next += len;
        }
        // Collect the answers that are here; wait for one when the window is full.
        bool full = inflight.size() >= static_cast<std::size_t>(k_requests_in_flight) ||
                    next >= size || stopping;
        COSMOS_TRY(auto p, raw->next(full ? k_poll_ms : 0));
        while (p) {
            auto it = inflight.find(p->id);
            if (it != inflight.end()) {
                if (auto ok = raw->expect_ok(*p, "writing", part); !ok) {
                    return fail(raw->write_error(ok.error(), part, size - it->second.offset));
                }
                st.sent += it->second.len;
                inflight.erase(it);
            }
            last_reply = Clock::now();
            COSMOS_TRY(p, raw->next(0));
        }
        if (full && Clock::now() - last_reply > raw->stall_limit()) {
            return fail(raw->stalled());
        }
        st.confirmed = confirmed(inflight, next);
        unlocked(lk, [&] { progress(*st.confirmed, size); });
        stopping = stopping || (cancel != nullptr && cancel->load());
    }
    if (stopping && next < size) {
        // Every write sent was answered, so the .part is exactly the confirmed prefix.
        COSMOS_SSH_CHECK(raw->close(handle, part));
        return fail(interrupted("upload to", part));
    }
    COSMOS_SSH_CHECK(raw->fsync(handle, part));
    COSMOS_SSH_CHECK(raw->close(handle, part));
    COSMOS_SSH_CHECK(raw->rename(part, remote));
    return {};
}

struct DownloadState {
    std::optional<std::uint64_t> confirmed;
    std::uint64_t received = 0;
};

core::Status download_attempt(Connection& conn,
                              const std::string& remote,
                              int fd,
                              DownloadState& st,
                              Throttle& progress,
                              const std::atomic<bool>* cancel) {
    std::unique_lock<std::mutex> lk(conn.mutex());
    COSMOS_TRY(auto raw, RawSftp::start(conn));
    COSMOS_TRY(std::string handle, raw->open(remote, FXF_READ, 0));
    COSMOS_TRY(std::uint64_t size, raw->fstat_size(handle, remote));
    struct stat sb {};
    if (::fstat(fd, &sb) != 0) {
        return fail(ErrorCode::io,
                    fmt::format("cannot stat the local .part: {}", std::strerror(errno)));
    }
    auto have = static_cast<std::uint64_t>(sb.st_size);
    std::uint64_t next = std::min(have, st.confirmed.value_or(have));
    if (next > size) {
        next = 0;
    }
    if (::ftruncate(fd, static_cast<off_t>(next)) != 0) {
        return fail(ErrorCode::io,
                    fmt::format("cannot truncate the local .part: {}", std::strerror(errno)));
    }
    st.confirmed = next;
    std::map<std::uint32_t, Request> inflight;
    std::vector<Request> retry;  // the rest of short reads
    auto last_reply = Clock::now();
    auto request = [&](Request r) -> core::Status {
        auto id = raw->new_id();
        auto pkt = RawSftp::begin(FXP_READ, id);
        put_str(pkt, handle);
        put_u64(pkt, r.offset);
        put_u32(pkt, r.len);
        COSMOS_SSH_CHECK(raw->send(pkt));
        inflight[id] = r;
        return {};
    };
    while (next < size || !inflight.empty() || !retry.empty()) {
        while (inflight.size() < static_cast<std::size_t>(k_requests_in_flight) &&
               (next < size || !retry.empty())) {
            Request r;
            if (!retry.empty()) {
                r = retry.back();
                retry.pop_back();
            } else {
                r = {next,
                     static_cast<std::uint32_t>(
                         std::min<std::uint64_t>(k_chunk_bytes, size - next))};
                next += r.len;
            }
            COSMOS_SSH_CHECK(request(r));
        }
        bool full =
            inflight.size() >= static_cast<std::size_t>(k_requests_in_flight) || next >= size;
        COSMOS_TRY(auto p, raw->next(full ? k_poll_ms : 0));
        while (p) {
            auto it = inflight.find(p->id);
            if (it != inflight.end()) {
                Request r = it->second;
                inflight.erase(it);
                if (p->type == FXP_DATA) {
                    Reader rd{p->body};
                    auto data = rd.str();
                    if (!rd.ok || data.size() > r.len) {
                        return fail(ErrorCode::remote_failed, "malformed SFTP data reply");
                    }
                    if (!write_full(fd, data.data(), data.size(), r.offset)) {
                        return fail(
                            ErrorCode::io,
                            fmt::format("cannot write the local .part: {}", std::strerror(errno)));
                    }
                    st.received += data.size();
                    if (data.size() < r.len) {
                        retry.push_back({r.offset + data.size(),
                                         static_cast<std::uint32_t>(r.len - data.size())});
                    }
                } else {
                    Reader rd{p->body};
                    if (rd.u32() == FX_EOF) {
                        return fail(ErrorCode::remote_failed,
                                    fmt::format("{} on host {} shrank during the download",
                                                remote,
                                                conn.target().name));
                    }
                    COSMOS_SSH_CHECK(raw->expect_ok(*p, "reading", remote));
                }
            }
            last_reply = Clock::now();
            COSMOS_TRY(p, raw->next(0));
        }
        if (full && Clock::now() - last_reply > raw->stall_limit()) {
            return fail(raw->stalled());
        }
        std::uint64_t low = confirmed(inflight, next);
        for (const auto& r : retry) {
            low = std::min(low, r.offset);
        }
        st.confirmed = low;
        unlocked(lk, [&] { progress(low, size); });
        if (cancel != nullptr && cancel->load()) {
            // Keep only the complete prefix, so a later download resumes without holes.
            if (::ftruncate(fd, static_cast<off_t>(low)) != 0) {
                return fail(ErrorCode::io, "cannot truncate the local .part");
            }
            return fail(interrupted("download of", remote));
        }
    }
    COSMOS_SSH_CHECK(raw->close(handle, remote));
    return {};
}

// Runs attempts until one succeeds or fails for a reason other than a lost connection (the
// next attempt's Connection::session() reconnects with backoff, within the budget). A first
// attempt that never got its file open (`started` false: host down from the start) is not
// retried.
template <class Started, class Attempt>
core::Status with_resume(Connection& conn,
                         const std::string& what,
                         Started&& started,
                         Attempt&& attempt) {
    for (int n = 1;; ++n) {
        auto st = attempt();
        if (st || st.error().code != ErrorCode::host_unreachable || !started() || n >= 100) {
            return st;
        }
        core::log(
            core::LogLevel::warn, "ssh: {} interrupted ({}); resuming", what, st.error().message);
        std::unique_lock<std::mutex> lk(conn.mutex());
        auto live = conn.session();  // reconnects with backoff
        if (!live) {
            return fail(std::move(live).error());
        }
    }
}

}  // namespace

core::Status sftp_replace(Connection& conn, const std::string& from, const std::string& to) {
    COSMOS_TRY(auto raw, RawSftp::start(conn));
    return raw->rename(from, to);
}

core::Result<std::optional<std::uint64_t>> sftp_free_bytes(Connection& conn,
                                                           const std::string& path) {
    COSMOS_TRY(auto raw, RawSftp::start(conn));
    return raw->free_bytes(path);
}

core::Result<std::uint64_t> sftp_upload(Connection& conn,
                                        const fs::path& local,
                                        const std::string& remote,
                                        const ProgressFn& progress,
                                        const std::atomic<bool>* cancel,
                                        UploadDigest* digest) {
    Fd fd(::open(local.c_str(), O_RDONLY | O_CLOEXEC));
    struct stat sb {};
    if (fd.fd < 0 || ::fstat(fd.fd, &sb) != 0) {
        return fail(ErrorCode::io,
                    fmt::format("cannot read {}: {}", local.string(), std::strerror(errno)));
    }
    if (!S_ISREG(sb.st_mode)) {
        return fail(ErrorCode::invalid_input,
                    fmt::format("{} is not a regular file", local.string()));
    }
    ::posix_fadvise(fd.fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    auto size = static_cast<std::uint64_t>(sb.st_size);
    UploadState st;
    st.digest = digest;
    st.local = &local;
    if (digest != nullptr) {
        st.hasher = std::make_unique<HashWorker>(digest->sha);
    }
    Throttle throttle(progress);
    auto done = with_resume(
        conn,
        "upload of " + local.string(),
        [&] { return st.confirmed.has_value(); },
        [&] { return upload_attempt(conn, fd.fd, size, remote, st, throttle, cancel); });
    if (done && st.hasher) {
        done = hash_up_to(st, size);  // all chunks hashed (and nothing is missing)
    }
    if (!done) {
        return fail(std::move(done).error());
    }
    throttle(size, size, true);
    return st.sent;
}

core::Result<std::uint64_t> sftp_download(Connection& conn,
                                          const std::string& remote,
                                          const fs::path& local,
                                          const ProgressFn& progress,
                                          const std::atomic<bool>* cancel) {
    fs::path part = local;
    part += ".part";
    std::error_code ec;
    if (local.has_parent_path()) {
        fs::create_directories(local.parent_path(), ec);
    }
    Fd fd(::open(part.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    if (fd.fd < 0) {
        return fail(ErrorCode::io,
                    fmt::format("cannot write {}: {}", part.string(), std::strerror(errno)));
    }
    DownloadState st;
    Throttle throttle(progress);
    auto done = with_resume(
        conn,
        "download of " + remote,
        [&] { return st.confirmed.has_value(); },
        [&] { return download_attempt(conn, remote, fd.fd, st, throttle, cancel); });
    if (!done) {
        return fail(std::move(done).error());
    }
    if (::fsync(fd.fd) != 0) {
        return fail(ErrorCode::io,
                    fmt::format("cannot sync {}: {}", part.string(), std::strerror(errno)));
    }
    struct stat sb {};
    ::fstat(fd.fd, &sb);
    fs::rename(part, local, ec);
    if (ec) {
        return fail(ErrorCode::io,
                    fmt::format("cannot rename {}: {}", part.string(), ec.message()));
    }
    auto size = static_cast<std::uint64_t>(sb.st_size);
    throttle(size, size, true);
    return st.received;
}

}  // namespace cosmos::transport::detail
