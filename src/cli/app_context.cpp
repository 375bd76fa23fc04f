#include "cli/app_context.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "store/database_locator.h"

namespace agendasync::cli {

Result<OpenedApp> open_app(const Context& context) {
  auto org = context.organisation();
  if (!org) return std::unexpected(org.error());
  auto config = context.load_config();
  if (!config) return std::unexpected(config.error());
  OpenedApp opened;
  auto store = store::open_agenda_store(config->database.string(), *org);
  if (!store) return std::unexpected(store.error());
  opened.store = std::move(*store);
  app::AppOptions options;
  options.config = std::move(*config);
  options.org = *org;
  auto app = app::SyncApp::open(*opened.store, std::move(options));
  if (!app) return std::unexpected(app.error());
  opened.app = std::move(*app);
  return opened;
}

std::string format_time(Instant at) { return fmt::format("{:%Y-%m-%d %H:%M:%S} UTC", at); }

}  // namespace agendasync::cli
