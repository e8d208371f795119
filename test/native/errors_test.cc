// errors.h: the reason table against docs/jsonrpc-engine.md section 8 (parsed from the spec itself), name
// lookups and placeholder filling.
#include "core/errors.h"

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "check.h"

namespace {

using mcp::jsonrpc::Reason;

std::string g_spec_path;

struct SpecRow {
  int code;
  std::string name;
  int wire;
  std::string message;
};

std::string trim(std::string text) {
  const auto first = text.find_first_not_of(' ');
  const auto last = text.find_last_not_of(' ');
  return first == std::string::npos ? std::string() : text.substr(first, last - first + 1);
}

// Rows of the "| code | name | wire code | message |" table.
bool read_spec_rows(std::vector<SpecRow>* rows) {
  std::ifstream file(g_spec_path);
  ASSERT_TRUE(file.good());
  std::string line;
  bool in_table = false;
  while (std::getline(file, line)) {
    if (line.rfind("| code | name | wire code | message |", 0) == 0) {
      in_table = true;
      continue;
    }
    if (!in_table) continue;
    if (line.rfind("|---", 0) == 0) continue;
    if (line.empty() || line[0] != '|') break;
    std::vector<std::string> cells;
    std::stringstream stream(line.substr(1));
    std::string cell;
    while (std::getline(stream, cell, '|')) cells.push_back(trim(cell));
    ASSERT_TRUE(cells.size() >= 4);
    std::string message = cells[3];
    if (message.size() >= 2 && message.front() == '`' && message.back() == '`') {
      message = message.substr(1, message.size() - 2);
    }
    rows->push_back({std::stoi(cells[0]), cells[1], std::stoi(cells[2]), message});
  }
  return true;
}

bool test_table_matches_spec() {
  std::vector<SpecRow> rows;
  ASSERT_TRUE(read_spec_rows(&rows));
  ASSERT_EQ(rows.size(), mcp::jsonrpc::kReasonCount);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto reason = static_cast<Reason>(i);
    ASSERT_EQ(rows[i].code, static_cast<int>(i));
    ASSERT_EQ(mcp::jsonrpc::reason_name(reason), rows[i].name);
    ASSERT_EQ(mcp::jsonrpc::wire_code(reason), rows[i].wire);
    ASSERT_EQ(mcp::jsonrpc::reason_template(reason), rows[i].message);
  }
  return true;
}

bool test_wire_codes_by_family() {
  ASSERT_EQ(mcp::jsonrpc::wire_code(Reason::kOk), 0);
  ASSERT_EQ(mcp::jsonrpc::wire_code(Reason::kInvalidUtf8), mcp::jsonrpc::kParseError);
  ASSERT_EQ(mcp::jsonrpc::wire_code(Reason::kTooDeep), -32700);
  ASSERT_EQ(mcp::jsonrpc::wire_code(Reason::kTooLarge), mcp::jsonrpc::kInvalidRequest);
  ASSERT_EQ(mcp::jsonrpc::wire_code(Reason::kBatchTooLarge), -32600);
  return true;
}

bool test_names_round_trip() {
  for (std::size_t i = 0; i < mcp::jsonrpc::kReasonCount; ++i) {
    Reason reason = Reason::kOk;
    ASSERT_TRUE(mcp::jsonrpc::reason_from_name(mcp::jsonrpc::reason_name(static_cast<Reason>(i)), &reason));
    ASSERT_EQ(static_cast<std::size_t>(reason), i);
  }
  Reason reason = Reason::kOk;
  ASSERT_FALSE(mcp::jsonrpc::reason_from_name("no_such_reason", &reason));
  ASSERT_FALSE(mcp::jsonrpc::reason_from_name("", &reason));
  return true;
}

bool test_out_of_range_is_empty() {
  const auto bogus = static_cast<Reason>(200);
  ASSERT_EQ(mcp::jsonrpc::reason_name(bogus), "");
  ASSERT_EQ(mcp::jsonrpc::reason_template(bogus), "");
  ASSERT_EQ(mcp::jsonrpc::wire_code(bogus), 0);
  return true;
}

bool test_placeholders_filled() {
  mcp::jsonrpc::Limits limits;
  limits.max_message_bytes = 1234;
  limits.max_depth = 7;
  limits.max_batch = 99;
  std::string text;
  mcp::jsonrpc::append_reason_message(&text, Reason::kTooDeep, limits);
  ASSERT_EQ(text, "Parse error: message nests deeper than 7 levels");
  text.clear();
  mcp::jsonrpc::append_reason_message(&text, Reason::kTooLarge, limits);
  ASSERT_EQ(text, "Invalid Request: message exceeds 1234 bytes");
  text.clear();
  mcp::jsonrpc::append_reason_message(&text, Reason::kBatchTooLarge, limits);
  ASSERT_EQ(text, "Invalid Request: batch exceeds 99 messages");
  text = "prefix ";
  mcp::jsonrpc::append_reason_message(&text, Reason::kBadVersion, limits);
  ASSERT_EQ(text, "prefix Invalid Request: \"jsonrpc\" must be \"2.0\"");
  limits.max_message_bytes = mcp::jsonrpc::kMaxMessageBytesLimit;
  text.clear();
  mcp::jsonrpc::append_reason_message(&text, Reason::kTooLarge, limits);
  ASSERT_EQ(text, "Invalid Request: message exceeds 1073741824 bytes");
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <test/vectors directory>\n", argv[0]);
    return 2;
  }
  g_spec_path = std::string(argv[1]) + "/../../docs/jsonrpc-engine.md";
  int failures = 0;
  RUN(test_table_matches_spec);
  RUN(test_wire_codes_by_family);
  RUN(test_names_round_trip);
  RUN(test_out_of_range_is_empty);
  RUN(test_placeholders_filled);
  return failures == 0 ? 0 : 1;
}
