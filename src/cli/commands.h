#pragma once
/// Each command registers itself on the CLI11 app; its callback records the exit code in the
/// Context.
namespace CLI {
class App;
}

namespace agendasync::cli {

struct Context;

void add_init_command(CLI::App& app, Context& context);
void add_users_command(CLI::App& app, Context& context);
void add_activity_types_command(CLI::App& app, Context& context);
void add_settings_command(CLI::App& app, Context& context);
void add_appointments_command(CLI::App& app, Context& context);
void add_version_command(CLI::App& app, Context& context);
void add_sync_command(CLI::App& app, Context& context);
void add_approve_command(CLI::App& app, Context& context);
void add_offboard_command(CLI::App& app, Context& context);
void add_status_command(CLI::App& app, Context& context);
void add_doctor_command(CLI::App& app, Context& context);
void add_serve_command(CLI::App& app, Context& context);
void add_tokens_command(CLI::App& app, Context& context);
void add_secrets_command(CLI::App& app, Context& context);
void add_orgs_command(CLI::App& app, Context& context);
void add_backup_commands(CLI::App& app, Context& context);
void add_migrate_command(CLI::App& app, Context& context);

}  // namespace agendasync::cli
