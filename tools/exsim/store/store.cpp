#include "exsim/store/store.h"

#include <algorithm>
#include <cctype>

#include "exsim/store/xml_util.h"

namespace exsim {

PropertyBag new_property_bag() {
  auto doc = std::make_shared<pugi::xml_document>();
  doc->append_child("t:CalendarItem");
  return doc;
}

PropertyBag clone_property_bag(const PropertyBag& bag) {
  auto doc = std::make_shared<pugi::xml_document>();
  doc->append_copy(bag->document_element());
  return doc;
}

pugi::xml_node bag_root(const PropertyBag& bag) { return bag->document_element(); }

Seconds far_future() {
  using namespace std::chrono;
  return sys_days{year{2200} / 1 / 1};
}

std::vector<Seconds> occurrence_starts(const StoredItem& master, Seconds until, size_t max) {
  std::vector<Seconds> out;
  if (!master.rule) return out;
  until = std::min(until, far_future());
  using namespace std::chrono;
  LocalSeconds local_start = master.zone.to_local(master.start);
  auto time_of_day = local_start - floor<days>(local_start);
  LocalSeconds local_until = master.zone.to_local(until);
  year_month_day until_date{floor<days>(local_until)};
  for (const auto& d : expand_dates(*master.rule, until_date, max)) {
    Seconds s = master.zone.to_utc(local_days{d} + time_of_day);
    if (s > until) break;
    out.push_back(s);
  }
  return out;
}

namespace {
void collect_attendees(pugi::xml_node list, std::vector<std::string>& out) {
  for (pugi::xml_node a : children(list, "Attendee")) {
    std::string addr = child_text(child(a, "Mailbox"), "EmailAddress");
    if (!addr.empty()) out.push_back(addr);
  }
}
}  // namespace

std::vector<std::string> attendee_addresses(const StoredItem& item) {
  std::vector<std::string> out;
  pugi::xml_node root = bag_root(item.props);
  for (const char* list : {"RequiredAttendees", "OptionalAttendees", "Resources"}) {
    collect_attendees(child(root, list), out);
  }
  return out;
}

bool has_attendees(const StoredItem& item) { return !attendee_addresses(item).empty(); }

Store::Store() = default;

namespace {
std::string lower_address(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}
}  // namespace

Mailbox& Store::add_mailbox(const std::string& address, const std::string& display_name) {
  if (Mailbox* existing = find_mailbox(address)) return *existing;
  auto mb = std::make_unique<Mailbox>();
  mb->index = static_cast<uint32_t>(mailboxes_.size());
  mb->address = address;
  mb->display_name = display_name.empty() ? address.substr(0, address.find('@')) : display_name;
  by_address_[lower_address(address)] = mb.get();
  mailboxes_.push_back(std::move(mb));
  return *mailboxes_.back();
}

Mailbox* Store::find_mailbox(std::string_view address) {
  // An index rather than a scan: every EWS request looks up one to three addresses under the
  // store mutex, and organisations have thousands of mailboxes.
  auto it = by_address_.find(lower_address(address));
  return it == by_address_.end() ? nullptr : it->second;
}

Mailbox* Store::mailbox_at(uint32_t index) {
  return index < mailboxes_.size() ? mailboxes_[index].get() : nullptr;
}

StoredItem& Store::new_item(Mailbox& mb, FolderKind folder) {
  uint64_t id = next_item_id_++;
  StoredItem& item = mb.items[id];
  item.id = id;
  item.folder = folder;
  item.props = new_property_bag();
  item.created = item.modified = now();
  return item;
}

void Store::record_create(Mailbox& mb, StoredItem& item) {
  item.create_seq = item.change_seq = ++mb.seq;
  push_event(mb, ChangeEvent::Kind::kCreated, item.id, item.folder);
  if (observer_) observer_->item_saved(mb, item);
}

StoredItem& Store::restore_item(Mailbox& mb, uint64_t id) {
  next_item_id_ = std::max(next_item_id_, id + 1);
  StoredItem& item = mb.items[id];
  item.id = id;
  item.props = new_property_bag();
  return item;
}

void Store::record_mail(OutboxMessage message) {
  outbox_.push_back(std::move(message));
  if (observer_) observer_->mail_recorded(outbox_.back());
}

void Store::record_update(Mailbox& mb, StoredItem& item) {
  ++item.version;
  item.change_seq = ++mb.seq;
  item.modified = now();
  push_event(mb, ChangeEvent::Kind::kModified, item.id, item.folder);
  if (observer_) observer_->item_saved(mb, item);
}

void Store::remove_item(Mailbox& mb, uint64_t id) {
  auto it = mb.items.find(id);
  if (it == mb.items.end()) return;
  mb.tombstones.push_back({id, it->second.folder, it->second.create_seq, ++mb.seq});
  push_event(mb, ChangeEvent::Kind::kDeleted, id, it->second.folder);
  mb.items.erase(it);
  if (observer_) observer_->item_removed(mb, mb.tombstones.back());
}

void Store::push_event(Mailbox& mb, ChangeEvent::Kind kind, uint64_t item, FolderKind folder) {
  constexpr size_t kMaxEvents = 10000;
  mb.events.push_back({kind, mb.seq, item, folder, now()});
  if (mb.events.size() > kMaxEvents) mb.events.pop_front();
  changed_.notify_all();
}

Seconds Store::now() const {
  return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

}  // namespace exsim
