// agendasync appointments add|set|remove|list: the host side of the agenda.
#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/table.h"
#include "cli/time_text.h"
#include "core/validate.h"

namespace agendasync::cli {

namespace {

struct AddOptions {
  std::string subject;
  std::string start;
  std::string end;
  std::string zone = "UTC";
  bool all_day = false;
  std::string rrule;
  std::vector<std::string> exdates;
  std::vector<std::string> moved;
  std::string owner;
  std::vector<std::string> participants;
  std::string activity_type;
  std::string location;
  std::string body;
  bool html = false;
  bool is_private = false;
  std::string show_as;
  std::vector<std::string> categories;
  int reminder = -1;
  bool project_task = false;
  std::string online_meeting_url;
  bool json = false;
};

struct ListOptions {
  std::string user;
  std::string from;
  std::string to;
  bool json = false;
};

const std::vector<std::string> kShowAsNames = {"free", "tentative", "busy", "out-of-office",
                                               "working-elsewhere"};

std::optional<ShowAs> parse_show_as(const std::string& text) {
  for (auto value : {ShowAs::kFree, ShowAs::kTentative, ShowAs::kBusy, ShowAs::kOutOfOffice,
                     ShowAs::kWorkingElsewhere}) {
    if (text == to_string(value)) return value;
  }
  return std::nullopt;
}

/// A time option: a date for all-day items, a wall-clock time in the item's zone otherwise.
Result<Instant> parse_time(const std::string& text, const Appointment& item,
                           std::string_view option) {
  if (item.all_day) return parse_date(text, option);
  return parse_in_zone(text, item.time_zone, option);
}

/// --move ORIGINAL=NEWSTART/NEWEND values as overrides of `item`'s series.
Result<std::vector<OccurrenceOverride>> parse_moves(const std::vector<std::string>& texts,
                                                    const Appointment& item) {
  std::vector<OccurrenceOverride> overrides;
  for (const auto& text : texts) {
    // ORIGINAL=NEWSTART/NEWEND
    auto equals = text.find('=');
    auto slash = text.find('/', equals == std::string::npos ? 0 : equals);
    if (equals == std::string::npos || slash == std::string::npos) {
      return fail(ErrorKind::kInvalidData,
                  "--move: \"" + text +
                      "\" is not ORIGINAL=NEWSTART/NEWEND, e.g. "
                      "2026-03-10T09:00=2026-03-10T14:00/2026-03-10T15:00");
    }
    auto original = parse_time(text.substr(0, equals), item, "--move");
    auto new_start = parse_time(text.substr(equals + 1, slash - equals - 1), item, "--move");
    auto new_end = parse_time(text.substr(slash + 1), item, "--move");
    if (!original) return std::unexpected(original.error());
    if (!new_start) return std::unexpected(new_start.error());
    if (!new_end) return std::unexpected(new_end.error());
    OccurrenceOverride moved;
    moved.recurrence_id = *original;
    moved.start = *new_start;
    moved.end = *new_end;
    overrides.push_back(moved);
  }
  return overrides;
}

/// Overrides copy the series' text fields (the CLI cannot edit them one by one).
void copy_series_text(Appointment& item) {
  if (!item.recurrence) return;
  for (auto& moved : item.recurrence->overrides) {
    moved.subject = item.subject;
    moved.body = item.body;
    moved.location = item.location;
    moved.show_as = item.show_as;
    moved.sensitivity = item.sensitivity;
    moved.reminder = item.reminder;
  }
}

/// The appointment the options describe; kInvalidData naming the option that is wrong.
Result<Appointment> build_appointment(const AddOptions& options) {
  Appointment item;
  item.subject = options.subject;
  item.all_day = options.all_day;
  auto zone = normalize_zone(options.zone);
  if (!zone) return fail(ErrorKind::kInvalidData, "--zone: " + zone.error().message);
  item.time_zone = *zone;

  auto start = parse_time(options.start, item, "--start");
  if (!start) return std::unexpected(start.error());
  item.start = *start;
  if (!options.end.empty()) {
    auto end = parse_time(options.end, item, "--end");
    if (!end) return std::unexpected(end.error());
    item.end = *end;
  } else if (item.all_day) {
    item.end = item.start + std::chrono::days{1};  // one day, end exclusive
  } else {
    return fail(ErrorKind::kInvalidData,
                "--end is required for an appointment with a time "
                "(or use --all-day with dates)");
  }

  if (!options.rrule.empty()) {
    auto rule = parse_rrule(options.rrule);
    if (!rule) return fail(ErrorKind::kInvalidData, "--rrule: " + rule.error().message);
    item.recurrence = Recurrence{*rule, {}, {}};
  }
  if ((!options.exdates.empty() || !options.moved.empty()) && !item.recurrence) {
    return fail(ErrorKind::kInvalidData,
                "--exdate and --move need a recurring appointment "
                "(--rrule)");
  }
  for (const auto& text : options.exdates) {
    auto exdate = parse_time(text, item, "--exdate");
    if (!exdate) return std::unexpected(exdate.error());
    item.recurrence->exdates.push_back(*exdate);
  }
  if (!options.moved.empty()) {
    auto moved = parse_moves(options.moved, item);
    if (!moved) return std::unexpected(moved.error());
    item.recurrence->overrides = std::move(*moved);
  }

  item.owner = options.owner;
  item.participants = options.participants;
  item.activity_type = options.activity_type;
  item.location = options.location;
  item.body = Body{options.html ? BodyType::kHtml : BodyType::kText, options.body};
  if (options.is_private) item.sensitivity = Sensitivity::kPrivate;
  if (!options.show_as.empty()) item.show_as = *parse_show_as(options.show_as);
  item.categories = options.categories;
  if (options.reminder >= 0) item.reminder = std::chrono::minutes{options.reminder};
  item.project_task = options.project_task;
  item.online_meeting_url = options.online_meeting_url;
  copy_series_text(item);
  if (auto valid = validate(item); !valid) return std::unexpected(valid.error());
  return item;
}

int run_add(Context& context, const AddOptions& options) {
  auto item = build_appointment(options);
  if (!item) {
    context.fail(item.error(), kExitUsage);
    return context.exit_code;
  }
  auto store = context.open_store();
  if (!store) {
    context.fail(store.error(), kExitRuntime);
    return context.exit_code;
  }
  auto created = (*store)->create_appointment(*item);
  if (!created) {
    context.fail(created.error(), kExitRuntime);
    return context.exit_code;
  }
  if (options.json) {
    std::cout << nlohmann::json{{"id", created->id}, {"revision", created->revision}}.dump()
              << "\n";
  } else {
    std::cout << "Created appointment " << created->id << " (revision " << created->revision
              << "): " << created->item.subject << "\n";
  }
  return kExitOk;
}

struct SetOptions {
  store::AppointmentId id = 0;
  std::int64_t if_revision = -1;
  AddOptions item;
};

/// `stored` with the options the command line gave; kInvalidData naming the option.
Result<Appointment> apply_options(Appointment item, const AddOptions& o, const CLI::App& set) {
  auto given = [&](const char* name) { return set.count(name) > 0; };
  if (given("--subject")) item.subject = o.subject;
  if (given("--zone")) {
    auto zone = normalize_zone(o.zone);
    if (!zone) return fail(ErrorKind::kInvalidData, "--zone: " + zone.error().message);
    item.time_zone = *zone;  // the instants stay; --start/--end below are read in this zone
  }
  if (given("--all-day") || given("--no-all-day")) {
    if (o.all_day != item.all_day && !given("--start")) {
      return fail(ErrorKind::kInvalidData,
                  "--all-day / --no-all-day change how the times are read: give --start (and "
                  "--end) as well");
    }
    item.all_day = o.all_day;
  }
  if (given("--start")) {
    const auto duration = item.end - item.start;
    auto start = parse_time(o.start, item, "--start");
    if (!start) return std::unexpected(start.error());
    item.start = *start;
    // Without --end the appointment keeps its length (an all-day item: at least one day).
    item.end = item.start + (item.all_day && duration < std::chrono::days{1}
                                 ? std::chrono::days{1}
                                 : std::chrono::duration_cast<std::chrono::seconds>(duration));
  }
  if (given("--end")) {
    auto end = parse_time(o.end, item, "--end");
    if (!end) return std::unexpected(end.error());
    item.end = *end;
  }
  if (given("--rrule")) {
    if (o.rrule == "none") {
      item.recurrence.reset();
    } else {
      auto rule = parse_rrule(o.rrule);
      if (!rule) return fail(ErrorKind::kInvalidData, "--rrule: " + rule.error().message);
      if (item.recurrence) {
        item.recurrence->rule = *rule;
      } else {
        item.recurrence = Recurrence{*rule, {}, {}};
      }
    }
  }
  if ((given("--exdate") || given("--move")) && !item.recurrence) {
    return fail(ErrorKind::kInvalidData,
                "--exdate and --move need a recurring appointment (--rrule)");
  }
  if (given("--exdate")) {
    item.recurrence->exdates.clear();
    for (const auto& text : o.exdates) {
      auto exdate = parse_time(text, item, "--exdate");
      if (!exdate) return std::unexpected(exdate.error());
      item.recurrence->exdates.push_back(*exdate);
    }
  }
  if (given("--move")) {
    auto moved = parse_moves(o.moved, item);
    if (!moved) return std::unexpected(moved.error());
    item.recurrence->overrides = std::move(*moved);
  }
  if (given("--owner")) item.owner = o.owner;
  if (given("--participant")) item.participants = o.participants;
  if (given("--activity-type")) item.activity_type = o.activity_type;
  if (given("--location")) item.location = o.location;
  if (given("--body")) item.body.content = o.body;
  if (given("--html") || given("--no-html")) {
    item.body.type = o.html ? BodyType::kHtml : BodyType::kText;
  }
  if (given("--private") || given("--no-private")) {
    item.sensitivity = o.is_private ? Sensitivity::kPrivate : Sensitivity::kNormal;
  }
  if (given("--show-as")) item.show_as = *parse_show_as(o.show_as);
  if (given("--category")) item.categories = o.categories;
  if (given("--reminder")) item.reminder = std::chrono::minutes{o.reminder};
  if (given("--project-task") || given("--no-project-task")) item.project_task = o.project_task;
  if (given("--online-meeting-url")) item.online_meeting_url = o.online_meeting_url;
  if (given("--move")) copy_series_text(item);
  if (auto valid = validate(item); !valid) return std::unexpected(valid.error());
  return item;
}

/// Store refusals: a stale --if-revision or unknown id is the operation failing (1); an item
/// the store finds invalid (unknown user or type) is the command line's fault (2).
ExitCode exit_for(const Error& error) {
  return error.kind == ErrorKind::kInvalidData ? kExitUsage : kExitRuntime;
}

std::optional<store::Revision> expected_revision(const SetOptions& options) {
  if (options.if_revision < 0) return std::nullopt;
  return options.if_revision;
}

int run_set(Context& context, const SetOptions& options, const CLI::App& command) {
  auto store = context.open_store();
  if (!store) {
    context.fail(store.error(), kExitRuntime);
    return context.exit_code;
  }
  auto stored = (*store)->appointment(options.id);
  if (!stored) {
    context.fail(stored.error(), kExitRuntime);
    return context.exit_code;
  }
  if (!*stored) {
    context.fail("appointment " + std::to_string(options.id) +
                     " does not exist (or was deleted); list them with `agendasync "
                     "appointments list`",
                 kExitRuntime);
    return context.exit_code;
  }
  auto item = apply_options((*stored)->item, options.item, command);
  if (!item) {
    context.fail(item.error(), kExitUsage);
    return context.exit_code;
  }
  // Without --if-revision the revision just read guards the write: a change made meanwhile
  // by the API or a sync is never overwritten by options that did not mention it.
  auto expected = expected_revision(options).value_or((*stored)->revision);
  auto updated = (*store)->update_appointment(options.id, *item, expected);
  if (!updated) {
    context.fail(updated.error(), exit_for(updated.error()));
    return context.exit_code;
  }
  if (options.item.json) {
    std::cout << nlohmann::json{{"id", updated->id}, {"revision", updated->revision}}.dump()
              << "\n";
  } else {
    std::cout << "Changed appointment " << updated->id << " (revision " << updated->revision
              << "): " << updated->item.subject << "\n";
  }
  return kExitOk;
}

int run_remove(Context& context, const SetOptions& options) {
  auto store = context.open_store();
  if (!store) {
    context.fail(store.error(), kExitRuntime);
    return context.exit_code;
  }
  auto deleted = (*store)->delete_appointment(options.id, expected_revision(options));
  if (!deleted) {
    context.fail(deleted.error(), exit_for(deleted.error()));
    return context.exit_code;
  }
  std::cout << "Deleted appointment " << options.id << " (revision " << *deleted << ")\n";
  return kExitOk;
}

/// "2026-03-02 09:00-10:00" in the item's zone, or "2026-03-05 (all day)".
std::string when_text(const Appointment& item) {
  if (item.all_day) {
    auto last_day = item.end - std::chrono::days{1};
    if (last_day <= item.start) return format_date(item.start) + " (all day)";
    return format_date(item.start) + ".." + format_date(last_day) + " (all day)";
  }
  auto start = format_local(item.start, item.time_zone);
  auto end = format_local(item.end, item.time_zone);
  if (start.substr(0, 10) == end.substr(0, 10)) return start + "-" + end.substr(11);
  return start + " - " + end;
}

std::string repeats_text(const Appointment& item) {
  if (!item.recurrence) return "";
  std::string text = format_rrule(item.recurrence->rule);
  if (!item.recurrence->exdates.empty()) {
    text += "; " + std::to_string(item.recurrence->exdates.size()) + " deleted";
  }
  if (!item.recurrence->overrides.empty()) {
    text += "; " + std::to_string(item.recurrence->overrides.size()) + " moved";
  }
  return text;
}

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& part : parts) out += (out.empty() ? "" : ",") + part;
  return out;
}

nlohmann::json appointment_json(const store::StoredAppointment& stored) {
  const auto& item = stored.item;
  auto exdates = nlohmann::json::array();
  auto moved = nlohmann::json::array();
  if (item.recurrence) {
    for (auto exdate : item.recurrence->exdates) exdates.push_back(format_utc(exdate));
    for (const auto& o : item.recurrence->overrides) {
      moved.push_back({{"original_start", format_utc(o.recurrence_id)},
                       {"start", format_utc(o.start)},
                       {"end", format_utc(o.end)}});
    }
  }
  return {
      {"id", stored.id},
      {"revision", stored.revision},
      {"subject", item.subject},
      {"all_day", item.all_day},
      {"start", item.all_day ? format_date(item.start) : format_utc(item.start)},
      {"end", item.all_day ? format_date(item.end) : format_utc(item.end)},
      {"time_zone", item.time_zone},
      {"rrule", item.recurrence ? nlohmann::json(format_rrule(item.recurrence->rule))
                                : nlohmann::json(nullptr)},
      {"exdates", exdates},
      {"moved_occurrences", moved},
      {"owner", item.owner},
      {"participants", item.participants},
      {"activity_type", item.activity_type},
      {"project_task", item.project_task},
      {"location", item.location},
      {"sensitivity", to_string(item.sensitivity)},
      {"show_as", to_string(item.show_as)},
      {"categories", item.categories},
      {"reminder_minutes",
       item.reminder ? nlohmann::json(item.reminder->count()) : nlohmann::json(nullptr)},
  };
}

int run_list(Context& context, const ListOptions& options) {
  store::AppointmentQuery query;
  if (!options.user.empty()) query.user = options.user;
  if (!options.from.empty()) {
    auto from = parse_date(options.from, "--from");
    if (!from) {
      context.fail(from.error(), kExitUsage);
      return context.exit_code;
    }
    query.from = *from;
  }
  if (!options.to.empty()) {
    auto to = parse_date(options.to, "--to");
    if (!to) {
      context.fail(to.error(), kExitUsage);
      return context.exit_code;
    }
    query.to = *to;
  }
  auto store = context.open_store();
  if (!store) {
    context.fail(store.error(), kExitRuntime);
    return context.exit_code;
  }
  auto appointments = (*store)->appointments(query);
  if (!appointments) {
    context.fail(appointments.error(), kExitRuntime);
    return context.exit_code;
  }
  if (options.json) {
    auto out = nlohmann::json::array();
    for (const auto& stored : *appointments) out.push_back(appointment_json(stored));
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  Table table({"ID", "REV", "WHEN", "ZONE", "SUBJECT", "OWNER", "PARTICIPANTS", "TYPE", "REPEATS"});
  for (const auto& stored : *appointments) {
    const auto& item = stored.item;
    table.add({std::to_string(stored.id), std::to_string(stored.revision), when_text(item),
               item.time_zone, item.subject, item.owner, join(item.participants),
               item.activity_type + (item.project_task ? " (project task)" : ""),
               repeats_text(item)});
  }
  table.print(std::cout);
  return kExitOk;
}

/// The item options of `add`, and of `set`, where none is required, flags can be turned off
/// (--no-private) and repeatable options replace the whole list.
void add_item_options(CLI::App* command, AddOptions& o, bool for_set) {
  auto* subject = command->add_option("--subject", o.subject, "Subject");
  auto* start = command->add_option("--start", o.start,
                                    "Start: 2026-03-02T09:00 in --zone, or a date with --all-day");
  auto* owner = command->add_option("--owner", o.owner, "Host user who owns it");
  if (!for_set) {
    subject->required();
    start->required();
    owner->required();
  }
  command->add_option("--end", o.end, "End (exclusive date with --all-day; default one day)");
  command->add_option("--zone", o.zone, "Time zone, IANA or Windows id (default UTC)");
  command->add_flag(for_set ? "--all-day,!--no-all-day" : "--all-day", o.all_day,
                    "An all-day item: --start/--end are dates");
  command->add_option("--rrule", o.rrule,
                      for_set ? "Recurrence rule, or `none` for a single appointment"
                              : "Recurrence rule, e.g. FREQ=WEEKLY;BYDAY=MO;COUNT=10");
  command->add_option("--exdate", o.exdates, "Deleted occurrence (its original start); repeatable");
  command->add_option("--move", o.moved, "Moved occurrence ORIGINAL=NEWSTART/NEWEND; repeatable");
  command->add_option("--participant", o.participants, "Participating host user; repeatable");
  command->add_option("--activity-type", o.activity_type,
                      "Activity type (see activity-types list)");
  command->add_option("--location", o.location, "Location");
  command->add_option("--body", o.body, "Body text");
  command->add_flag(for_set ? "--html,!--no-html" : "--html", o.html, "The body is HTML");
  command->add_flag(for_set ? "--private,!--no-private" : "--private", o.is_private,
                    "Private (sensitivity)");
  command->add_option("--show-as", o.show_as, "free|tentative|busy|out-of-office|working-elsewhere")
      ->check(CLI::IsMember(kShowAsNames));
  command->add_option("--category", o.categories, "Category; repeatable");
  command->add_option("--reminder", o.reminder, "Reminder, minutes before start")
      ->check(CLI::Range(0, 60 * 24 * 14));
  command->add_flag(for_set ? "--project-task,!--no-project-task" : "--project-task",
                    o.project_task, "A project task (never synced, R16)");
  command->add_option("--online-meeting-url", o.online_meeting_url, "Online meeting link");
}

}  // namespace

void add_appointments_command(CLI::App& app, Context& context) {
  auto* appointments = app.add_subcommand("appointments", "Host appointments");
  appointments->require_subcommand(1);

  auto o = std::make_shared<AddOptions>();
  auto* add = appointments->add_subcommand("add", "Add a host appointment");
  add_item_options(add, *o, false);
  add->add_flag("--json", o->json, "Print the new id and revision as JSON");
  add->callback([&context, o] { context.exit_code = run_add(context, *o); });

  auto s = std::make_shared<SetOptions>();
  auto* set = appointments->add_subcommand(
      "set", "Change a host appointment: only the options given change");
  set->add_option("id", s->id, "Appointment id (see appointments list)")->required();
  add_item_options(set, s->item, true);
  set->add_option("--if-revision", s->if_revision,
                  "Change it only if it is still at this revision (see appointments list)");
  set->add_flag("--json", s->item.json, "Print the id and new revision as JSON");
  set->callback([&context, s, set] { context.exit_code = run_set(context, *s, *set); });

  auto r = std::make_shared<SetOptions>();
  auto* remove = appointments->add_subcommand("remove", "Delete a host appointment");
  remove->add_option("id", r->id, "Appointment id (see appointments list)")->required();
  remove->add_option("--if-revision", r->if_revision,
                     "Delete it only if it is still at this revision (see appointments list)");
  remove->callback([&context, r] { context.exit_code = run_remove(context, *r); });

  auto l = std::make_shared<ListOptions>();
  auto* list = appointments->add_subcommand("list", "List host appointments");
  list->add_option("--user", l->user, "Only this user's (owner or participant)");
  list->add_option("--from", l->from, "Window start date, e.g. 2026-03-01");
  list->add_option("--to", l->to, "Window end date (exclusive)");
  list->add_flag("--json", l->json, "JSON instead of a table");
  list->callback([&context, l] { context.exit_code = run_list(context, *l); });
}

}  // namespace agendasync::cli
