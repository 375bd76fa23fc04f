#pragma once
/// The daemon's side of systemd's service protocol (sd_notify(3), libsystemd): READY=1 once
/// the API listens (Type=notify), RELOADING=1 around a SIGHUP reload, STOPPING=1, and the
/// watchdog's keep-alive. Every call is a no-op when the process was not started by systemd
/// (no $NOTIFY_SOCKET), so tests and a shell run are unaffected.
#include <chrono>
#include <optional>
#include <string_view>

namespace agendasync::service::systemd {

void notify_ready(std::string_view status);
void notify_reloading();
void notify_stopping();
/// WATCHDOG=1: the daemon's loops are alive.
void notify_watchdog();
/// How often to send WATCHDOG=1: half of the unit's WatchdogSec=, or nullopt when the
/// watchdog is off (sd_watchdog_enabled).
std::optional<std::chrono::milliseconds> watchdog_period();

}  // namespace agendasync::service::systemd
