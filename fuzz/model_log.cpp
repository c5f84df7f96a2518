// A model's log as cosmos follows it (Transfer1 and the Transfer2.5 dialect): every line is
// parsed and fed to the progress tracker, whose fraction stays within [0, 1].
#include "model/model_log.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace cosmos::model;
    if (size == 0) {
        return 0;
    }
    // The first byte picks the dialect and the chunk count (as from the run's frames).
    const auto dialect = (data[0] & 1) != 0 ? LogDialect::transfer2_5 : LogDialect::transfer1;
    ProgressTracker tracker(expected_chunks(std::int64_t{data[0]} * 16 - 100), dialect);
    std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
    while (!text.empty()) {
        auto nl = text.find('\n');
        auto line = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        auto parsed = parse_log_line(line);
        (void)parsed;
        tracker.feed(line);
        double f = tracker.fraction();
        if (!(f >= 0.0 && f <= 1.0)) {
            std::abort();
        }
    }
    auto phase = tracker.phase();
    (void)phase;
    return 0;
}
