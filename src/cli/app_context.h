#pragma once
/// The sync commands (sync, plan, approve, status, doctor, offboard) need the configuration,
/// the agenda and the app layer together; this opens them once, naming what is missing.
#include <memory>

#include "app/app.h"
#include "cli/context.h"

namespace agendasync::cli {

/// The agenda store and the SyncApp built on it (the store must outlive the app).
struct OpenedApp {
  std::unique_ptr<store::AgendaStore> store;
  std::unique_ptr<app::SyncApp> app;
};

/// Loads the configuration (with --database applied), opens the agenda and the app.
Result<OpenedApp> open_app(const Context& context);

/// "2026-11-25 09:51:31 UTC".
std::string format_time(Instant at);

}  // namespace agendasync::cli
