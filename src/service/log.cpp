#include "service/log.h"

#include <chrono>
#include <mutex>

#include <spdlog/sinks/stdout_sinks.h>

namespace agendasync::service {

std::shared_ptr<spdlog::logger> service_logger() {
  static std::once_flag once;
  static std::shared_ptr<spdlog::logger> logger;
  std::call_once(once, [] {
    logger = std::make_shared<spdlog::logger>("agendasync.service",
                                              std::make_shared<spdlog::sinks::stderr_sink_mt>());
    // The line is already a JSON object: no prefix, so log shippers can parse it as is.
    logger->set_pattern("%v");
    logger->set_level(spdlog::level::info);
    logger->flush_on(spdlog::level::info);
  });
  return logger;
}

void add_log_sink(std::shared_ptr<spdlog::sinks::sink> sink) {
  sink->set_pattern("%v");
  service_logger()->sinks().push_back(std::move(sink));
}

void log_event(spdlog::level::level_enum level, std::string_view event, nlohmann::json fields) {
  auto logger = service_logger();
  if (!logger->should_log(level)) return;
  nlohmann::json line = nlohmann::json::object();
  auto now =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  line["ts_ms"] = now.time_since_epoch().count();
  line["level"] = spdlog::level::to_string_view(level).data();
  line["event"] = event;
  if (fields.is_object()) {
    for (auto& [key, value] : fields.items()) line[key] = value;
  }
  logger->log(level, "{}", line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace agendasync::service
