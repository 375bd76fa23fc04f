#include "exsim/faults/faults.h"

namespace exsim {

nlohmann::json to_json(const FaultSettings& f) {
  return {{"latency_ms", f.latency_ms},
          {"response_delay_ms", f.response_delay_ms},
          {"http_error_rate", f.http_error_rate},
          {"http_error_next", f.http_error_next},
          {"http_error_status", f.http_error_status},
          {"server_busy_rate", f.server_busy_rate},
          {"server_busy_next", f.server_busy_next},
          {"back_off_ms", f.back_off_ms},
          {"max_concurrent_per_account", f.max_concurrent_per_account},
          {"reset_rate", f.reset_rate},
          {"reset_next", f.reset_next},
          {"truncate_rate", f.truncate_rate},
          {"truncate_next", f.truncate_next}};
}

FaultSettings FaultInjector::get() {
  std::lock_guard lock(mutex_);
  return settings_;
}

std::string FaultInjector::update(const nlohmann::json& patch) {
  std::lock_guard lock(mutex_);
  FaultSettings s = settings_;
  try {
    for (auto& [key, value] : patch.items()) {
      if (key == "latency_ms")
        s.latency_ms = value.get<int>();
      else if (key == "response_delay_ms")
        s.response_delay_ms = value.get<int>();
      else if (key == "http_error_rate")
        s.http_error_rate = value.get<double>();
      else if (key == "http_error_next")
        s.http_error_next = value.get<int>();
      else if (key == "http_error_status")
        s.http_error_status = value.get<int>();
      else if (key == "server_busy_rate")
        s.server_busy_rate = value.get<double>();
      else if (key == "server_busy_next")
        s.server_busy_next = value.get<int>();
      else if (key == "back_off_ms")
        s.back_off_ms = value.get<int>();
      else if (key == "max_concurrent_per_account")
        s.max_concurrent_per_account = value.get<int>();
      else if (key == "reset_rate")
        s.reset_rate = value.get<double>();
      else if (key == "reset_next")
        s.reset_next = value.get<int>();
      else if (key == "truncate_rate")
        s.truncate_rate = value.get<double>();
      else if (key == "truncate_next")
        s.truncate_next = value.get<int>();
      else
        return "unknown fault setting '" + key + "'; GET /exsim/admin/faults lists them";
    }
  } catch (const nlohmann::json::exception& e) {
    return std::string("bad fault setting value: ") + e.what();
  }
  if (s.http_error_status != 500 && s.http_error_status != 503) {
    return "http_error_status must be 500 or 503";
  }
  settings_ = s;
  return {};
}

bool FaultInjector::roll(double rate, int& next) {
  if (next > 0) {
    --next;
    return true;
  }
  return rate > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < rate;
}

FaultDecision FaultInjector::decide() {
  std::lock_guard lock(mutex_);
  FaultDecision d;
  d.latency_ms = settings_.latency_ms;
  d.response_delay_ms = settings_.response_delay_ms;
  if (roll(settings_.http_error_rate, settings_.http_error_next)) {
    d.http_error = settings_.http_error_status;
  } else if (roll(settings_.server_busy_rate, settings_.server_busy_next)) {
    d.server_busy = true;
    d.back_off_ms = settings_.back_off_ms;
  } else if (roll(settings_.reset_rate, settings_.reset_next)) {
    d.reset = true;
  } else if (roll(settings_.truncate_rate, settings_.truncate_next)) {
    d.truncate = true;
  }
  return d;
}

bool FaultInjector::enter(const std::string& account) {
  std::lock_guard lock(mutex_);
  int& n = in_flight_[account];
  if (settings_.max_concurrent_per_account > 0 && n >= settings_.max_concurrent_per_account) {
    return false;
  }
  ++n;
  return true;
}

void FaultInjector::leave(const std::string& account) {
  std::lock_guard lock(mutex_);
  --in_flight_[account];
}

}  // namespace exsim
