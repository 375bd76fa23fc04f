#include "service/systemd_notify.h"

#include <systemd/sd-daemon.h>

#include <string>

namespace agendasync::service::systemd {

void notify_ready(std::string_view status) {
  std::string message = "READY=1\nSTATUS=" + std::string(status);
  sd_notify(0, message.c_str());
}

void notify_reloading() { sd_notify(0, "RELOADING=1\nSTATUS=reloading the configuration"); }

void notify_stopping() { sd_notify(0, "STOPPING=1\nSTATUS=stopping: running syncs finish"); }

void notify_watchdog() { sd_notify(0, "WATCHDOG=1"); }

std::optional<std::chrono::milliseconds> watchdog_period() {
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::nullopt;
  // Half the timeout, as sd_watchdog_enabled(3) advises: one late ping is not a restart.
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::microseconds(usec / 2));
}

}  // namespace agendasync::service::systemd
