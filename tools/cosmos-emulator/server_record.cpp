#include "server_record.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace cosmos::emulator {

EventLog::EventLog(std::string path, std::string mode)
    : m_path(std::move(path)), m_mode(std::move(mode)) {}

void EventLog::write(std::string_view event, const nlohmann::ordered_json& fields) const {
    if (m_path.empty()) {
        return;
    }
    nlohmann::ordered_json line;
    line["mode"] = m_mode;
    line["event"] = std::string(event);
    line["pid"] = ::getpid();
    for (const auto& [key, value] : fields.items()) {
        line[key] = value;
    }
    std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    int fd = ::open(m_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        return;
    }
    [[maybe_unused]] ssize_t n = ::write(fd, text.data(), text.size());
    ::close(fd);
}

}  // namespace cosmos::emulator
