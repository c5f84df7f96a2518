#pragma once
// Internal to the SSH transport: bulk file transfer over SFTP with many requests in flight.
//
// libssh 0.10 has no asynchronous SFTP write (each sftp_write waits for its answer, one round
// trip per chunk), so bulk data goes over a channel of its own speaking SFTP v3 directly
// (draft-ietf-secsh-filexfer-02): WRITE and READ requests at explicit offsets, up to
// k_requests_in_flight at once, like OpenSSH's sftp. Both directions write a ".part" file,
// resume from its size, fsync it and rename it over the target; a lost connection is
// reconnected with backoff (Connection::session) and the transfer resumed where the peer had
// acknowledged it.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <string>

#include "core/result.hpp"
#include "transport/shell.hpp"

namespace cosmos::transport::detail {

class Connection;

inline constexpr std::uint32_t k_chunk_bytes = 64 * 1024;
inline constexpr int k_requests_in_flight = 32;

// Copies `local` to `remote` (see Shell::upload). Takes the connection's mutex itself. Stops
// with ErrorCode::interrupted when `cancel` (may be null) becomes true. With `digest` (see
// Shell::upload_hashed) each chunk read for sending is hashed too, and an existing .part is
// resumed no further than digest->trusted_part.
core::Result<std::uint64_t> sftp_upload(Connection& conn,
                                        const std::filesystem::path& local,
                                        const std::string& remote,
                                        const ProgressFn& progress,
                                        const std::atomic<bool>* cancel = nullptr,
                                        UploadDigest* digest = nullptr);

// Copies `remote` to `local` (see Shell::download). Takes the connection's mutex itself.
core::Result<std::uint64_t> sftp_download(Connection& conn,
                                          const std::string& remote,
                                          const std::filesystem::path& local,
                                          const ProgressFn& progress,
                                          const std::atomic<bool>* cancel = nullptr);

// [lock held] Renames `from` over `to` atomically (posix-rename@openssh.com; servers without it
// get remove + rename). libssh 0.10's sftp_rename refuses an existing target.
core::Status sftp_replace(Connection& conn, const std::string& from, const std::string& to);

// [lock held] Bytes an unprivileged user may still write on the file system of `path`
// (statvfs@openssh.com); nullopt when the server does not offer it.
core::Result<std::optional<std::uint64_t>> sftp_free_bytes(Connection& conn,
                                                           const std::string& path);

}  // namespace cosmos::transport::detail
