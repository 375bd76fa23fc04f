#pragma once
/// Structured logs (R32): one JSON object per line, {"ts","level","event",...fields}. Never
/// pass a secret in `fields`: Secret values are not JSON-serialisable on purpose.
#include <memory>
#include <string_view>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

namespace agendasync::service {

/// The service's logger (stderr by default). Tests add a sink to capture every line.
std::shared_ptr<spdlog::logger> service_logger();

/// Adds a sink (a file, a test capture) that receives the same bare JSON lines.
void add_log_sink(std::shared_ptr<spdlog::sinks::sink> sink);

/// Logs `event` with `fields` as one JSON line.
void log_event(spdlog::level::level_enum level, std::string_view event,
               nlohmann::json fields = nlohmann::json::object());

}  // namespace agendasync::service
