// router.h: methods, name tables, replacement, deletion, clear, and lookups by string_view.
#include "core/router.h"

#include <map>
#include <string>

#include "check.h"

namespace {

using mcp::jsonrpc::Router;
namespace table = mcp::jsonrpc::table;

bool test_methods() {
  Router router;
  ASSERT_TRUE(router.find_method("ping") == nullptr);
  ASSERT_TRUE(router.set_method("ping", 1, table::kNone));
  ASSERT_TRUE(router.set_method("tools/call", 3, table::kTools));
  const Router::Route* route = router.find_method("tools/call");
  ASSERT_TRUE(route != nullptr);
  ASSERT_EQ(route->slot, 3);
  ASSERT_EQ(route->table, table::kTools);
  ASSERT_EQ(router.find_method("ping")->table, table::kNone);
  // Replacement keeps one entry.
  ASSERT_TRUE(router.set_method("ping", 9, table::kNone));
  ASSERT_EQ(router.find_method("ping")->slot, 9);
  ASSERT_TRUE(router.delete_method("ping"));
  ASSERT_FALSE(router.delete_method("ping"));
  ASSERT_TRUE(router.find_method("ping") == nullptr);
  ASSERT_TRUE(router.find_method("tools/call") != nullptr);
  return true;
}

bool test_lookups_are_exact_bytes() {
  Router router;
  ASSERT_TRUE(router.set_method("tools/call", 3, table::kTools));
  ASSERT_TRUE(router.find_method("tools/cal") == nullptr);
  ASSERT_TRUE(router.find_method("tools/call ") == nullptr);
  ASSERT_TRUE(router.find_method("Tools/call") == nullptr);
  ASSERT_TRUE(router.find_method("") == nullptr);
  // A view into a larger buffer: only its bytes count.
  const std::string buffer = "xxtools/callxx";
  ASSERT_TRUE(router.find_method(std::string_view(buffer).substr(2, 10)) != nullptr);
  // Embedded NUL bytes are ordinary bytes.
  ASSERT_TRUE(router.set_method(std::string_view("a\0b", 3), 4, table::kNone));
  ASSERT_TRUE(router.find_method(std::string_view("a\0b", 3)) != nullptr);
  ASSERT_TRUE(router.find_method("a") == nullptr);
  return true;
}

bool test_names_per_table() {
  Router router;
  ASSERT_TRUE(router.set_name(table::kTools, "echo", 0));
  ASSERT_TRUE(router.set_name(table::kPrompts, "echo", 5));
  ASSERT_TRUE(router.set_name(table::kResources, "file:///a.txt", 2));
  ASSERT_EQ(router.find_name(table::kTools, "echo"), 0);
  ASSERT_EQ(router.find_name(table::kPrompts, "echo"), 5);
  ASSERT_EQ(router.find_name(table::kResources, "echo"), -1);
  ASSERT_EQ(router.find_name(table::kResources, "file:///a.txt"), 2);
  ASSERT_TRUE(router.set_name(table::kTools, "echo", 7));
  ASSERT_EQ(router.find_name(table::kTools, "echo"), 7);
  ASSERT_TRUE(router.delete_name(table::kTools, "echo"));
  ASSERT_FALSE(router.delete_name(table::kTools, "echo"));
  ASSERT_EQ(router.find_name(table::kTools, "echo"), -1);
  ASSERT_EQ(router.find_name(table::kPrompts, "echo"), 5);
  return true;
}

bool test_bad_arguments_change_nothing() {
  Router router;
  ASSERT_FALSE(router.set_method("m", -1, table::kNone));
  ASSERT_FALSE(router.set_method("m", 0, 3));
  ASSERT_FALSE(router.set_method("m", 0, -2));
  ASSERT_TRUE(router.find_method("m") == nullptr);
  ASSERT_FALSE(router.set_name(3, "n", 0));
  ASSERT_FALSE(router.set_name(table::kNone, "n", 0));
  ASSERT_FALSE(router.set_name(table::kTools, "n", -1));
  ASSERT_EQ(router.find_name(table::kTools, "n"), -1);
  ASSERT_EQ(router.find_name(7, "n"), -1);
  ASSERT_FALSE(router.delete_name(-1, "n"));
  return true;
}

bool test_clear() {
  Router router;
  ASSERT_TRUE(router.set_method("ping", 1, table::kNone));
  ASSERT_TRUE(router.set_name(table::kTools, "echo", 0));
  ASSERT_TRUE(router.set_name(table::kResources, "r", 0));
  router.clear();
  ASSERT_TRUE(router.find_method("ping") == nullptr);
  ASSERT_EQ(router.find_name(table::kTools, "echo"), -1);
  ASSERT_EQ(router.find_name(table::kResources, "r"), -1);
  ASSERT_TRUE(router.set_method("ping", 2, table::kNone));
  ASSERT_EQ(router.find_method("ping")->slot, 2);
  return true;
}

bool test_name_fields() {
  ASSERT_EQ(Router::name_field(table::kTools), "name");
  ASSERT_EQ(Router::name_field(table::kResources), "uri");
  ASSERT_EQ(Router::name_field(table::kPrompts), "name");
  ASSERT_EQ(Router::name_field(table::kNone), "");
  ASSERT_EQ(Router::name_field(3), "");
  return true;
}

bool test_many_entries() {
  Router router;
  for (int i = 0; i < 5000; ++i) ASSERT_TRUE(router.set_method("m" + std::to_string(i), i, table::kNone));
  for (int i = 0; i < 5000; ++i) ASSERT_EQ(router.find_method("m" + std::to_string(i))->slot, i);
  for (int i = 0; i < 5000; i += 2) ASSERT_TRUE(router.delete_method("m" + std::to_string(i)));
  for (int i = 0; i < 5000; ++i) ASSERT_EQ(router.find_method("m" + std::to_string(i)) != nullptr, i % 2 == 1);
  return true;
}

// Random set / delete / clear against a std::map model (exercises probing and backward-shift deletion).
bool test_random_operations_match_a_model() {
  Router router;
  std::map<std::string, int32_t> model;
  uint32_t state = 12345;
  auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return state;
  };
  for (int step = 0; step < 50000; ++step) {
    const uint32_t r = next();
    const std::string key = "k" + std::to_string(r % 300);
    const uint32_t op = (r >> 16) % 100;
    if (op < 50) {
      const auto slot = static_cast<int32_t>(r >> 20);
      ASSERT_TRUE(router.set_name(table::kTools, key, slot));
      model[key] = slot;
    } else if (op < 99) {
      ASSERT_EQ(router.delete_name(table::kTools, key), model.erase(key) == 1);
    } else if (step % 7 == 0) {
      router.clear();
      model.clear();
    }
    if (step % 97 == 0) {
      for (int k = 0; k < 300; ++k) {
        const std::string probe = "k" + std::to_string(k);
        const auto found = model.find(probe);
        ASSERT_EQ(router.find_name(table::kTools, probe), found == model.end() ? -1 : found->second);
      }
    }
  }
  return true;
}

}  // namespace

int main() {
  int failures = 0;
  RUN(test_methods);
  RUN(test_lookups_are_exact_bytes);
  RUN(test_names_per_table);
  RUN(test_bad_arguments_change_nothing);
  RUN(test_clear);
  RUN(test_name_fields);
  RUN(test_many_entries);
  RUN(test_random_operations_match_a_model);
  return failures == 0 ? 0 : 1;
}
