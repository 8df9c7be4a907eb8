#include "wardgate/service/logging.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>

namespace wardgate::service {

namespace {

// "<N>": the syslog priority journald reads from the start of a line (sd-daemon.h).
class PriorityFlag : public spdlog::custom_flag_formatter {
public:
    void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
        int p = 6;
        switch (msg.level) {
            case spdlog::level::trace:
            case spdlog::level::debug: p = 7; break;
            case spdlog::level::info: p = 6; break;
            case spdlog::level::warn: p = 4; break;
            case spdlog::level::err: p = 3; break;
            case spdlog::level::critical: p = 2; break;
            default: break;
        }
        char text[4] = {'<', static_cast<char>('0' + p), '>', 0};
        dest.append(text, text + 3);
    }
    std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<PriorityFlag>(); }
};

}  // namespace

void setup_logging() {
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();  // never coloured
    auto formatter = std::make_unique<spdlog::pattern_formatter>();
    if (const char* j = std::getenv("JOURNAL_STREAM"); j && *j)
        formatter->add_flag<PriorityFlag>('*').set_pattern("%*%v");
    else
        formatter->set_pattern("%Y-%m-%dT%H:%M:%S.%e %l: %v");
    sink->set_formatter(std::move(formatter));
    auto logger = std::make_shared<spdlog::logger>("wardgate", sink);
    logger->flush_on(spdlog::level::trace);
    spdlog::set_default_logger(logger);
}

}  // namespace wardgate::service
