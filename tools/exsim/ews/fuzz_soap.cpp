// libFuzzer target: arbitrary request bodies through exsim's EWS endpoint (SOAP parsing,
// headers, every operation handler) with a fixed authenticated account.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "exsim/ews/ews_service.h"
#include "exsim/ews/notifications.h"
#include "exsim/store/store.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static exsim::ServerConfig config = [] {
    exsim::ServerConfig c;
    c.mailboxes.push_back({"alice@example.com", "Alice"});
    c.accounts.push_back({"alice@example.com", "pw", true, {"*"}});
    c.state_key = "fuzz";
    return c;
  }();
  static exsim::Store store;
  static bool seeded = [] {
    store.add_mailbox("alice@example.com", "Alice");
    return true;
  }();
  (void)seeded;
  static exsim::Subscriptions subscriptions;
  static exsim::EwsService service(store, config, subscriptions);
  // A stream reply is not run: it would wait for events.
  service.handle(config.accounts.front(),
                 std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
