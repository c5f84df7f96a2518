# Every dependency comes from Debian 12 packages (scripts/install-deps.sh); nothing is downloaded.
# Each find records its version and origin for the summary printed at the end of configure.
set(COSMOS_DEPENDENCY_SUMMARY "")
function(register_dependency name version origin)
  set(COSMOS_DEPENDENCY_SUMMARY "${COSMOS_DEPENDENCY_SUMMARY}  ${name} ${version} (${origin})\n" PARENT_SCOPE)
endfunction()

find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)

find_package(SQLite3 3.35 REQUIRED)
register_dependency(sqlite3 "${SQLite3_VERSION}" "libsqlite3-dev")
find_package(nlohmann_json 3.10 REQUIRED)
register_dependency(nlohmann-json "${nlohmann_json_VERSION}" "nlohmann-json3-dev")
find_package(CLI11 2.1 REQUIRED)
register_dependency(CLI11 "${CLI11_VERSION}" "libcli11-dev")
find_package(fmt 9 REQUIRED)
register_dependency(fmt "${fmt_VERSION}" "libfmt-dev")
find_package(OpenSSL 3 REQUIRED)
register_dependency(OpenSSL "${OPENSSL_VERSION}" "libssl-dev")
find_package(tomlplusplus 3.3 REQUIRED)
register_dependency(toml++ "${tomlplusplus_VERSION}" "libtomlplusplus-dev")
pkg_check_modules(LIBAV REQUIRED IMPORTED_TARGET
  libavformat>=59 libavcodec>=59 libavfilter>=8 libavutil>=57 libswscale>=6)
register_dependency(ffmpeg-libs "${LIBAV_libavformat_VERSION}" "libav*-dev")
pkg_check_modules(LIBSSH REQUIRED IMPORTED_TARGET libssh>=0.10)
register_dependency(libssh "${LIBSSH_VERSION}" "libssh-dev")
# Zip archives: PyTorch's .pt tensor files (src/model/pt_tensor.cpp) and the emulator's reader.
pkg_check_modules(LIBZIP REQUIRED IMPORTED_TARGET libzip>=1.7)
register_dependency(libzip "${LIBZIP_VERSION}" "libzip-dev")
# The web UI's HTTP server (src/web); Debian ships it compiled, so link its library and take its
# compile definitions (OpenSSL/zlib/brotli support) from pkg-config to match the ABI.
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib>=0.11)
register_dependency(cpp-httplib "${HTTPLIB_VERSION}" "libcpp-httplib-dev")

function(print_dependency_summary)
  message(STATUS "cosmos dependencies:\n${COSMOS_DEPENDENCY_SUMMARY}")
endfunction()
