// bench/native/stdio_loadgen.cc — a load generator for MCP servers over stdio (POSIX, no N-API).
//
//   stdio_loadgen --era legacy|stateless --requests N --window W --warmup M [--core C] [--server-core C]
//                 [--timeout SECONDS] -- <server command...>
//
// Starts the server with pipes on its stdin and stdout (stderr is inherited), does the era's handshake
// (legacy: initialize with protocolVersion 2025-11-25, checks the result, then notifications/initialized;
// stateless 2026-07-28: none, every request carries params._meta with the protocol version and client
// capabilities), sends M warm-up calls, then N `tools/call` echo requests with distinct ids and texts,
// keeping W in flight. Requests go out in batches through non-blocking pipes driven by poll().
//
// Every response is checked: it must be the echo result for its id, byte for byte in one of the two
// spellings servers use (`{"jsonrpc","id","result"}` or the official SDK's `{"result","jsonrpc","id"}`),
// or else, parsed, exactly that object in any other legal JSON spelling ("slowChecks" counts those).
// Replies may come in any order. Any mismatch, duplicate, unknown id or missing reply counts as an error.
//
// Measured phase only (from just before the first measured request to the last response): calls/s, the
// latency of each call (send batch -> its response, CLOCK_MONOTONIC), the server's CPU time (sum of
// /proc/<pid>/task/*/schedstat, exact ns, all threads), and this generator's own CPU time, so a report
// can tell whether the generator was the bottleneck. Peak RSS is the server's VmHWM at the end.
//
// Prints one JSON line on stdout:
//   {"calls":N,"seconds":..,"callsPerSec":..,"p50Us":..,"p99Us":..,"p999Us":..,"serverCpuNsPerCall":..,
//    "serverPeakRssKb":..,"loadgenCpuNsPerCall":..,"errors":0,...}
// then closes the server's stdin and waits for it to exit. Exit status 0 only when errors is 0.
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mcp::loadgen {

enum class Era : uint8_t { kLegacy, kStateless };

struct Options {
  Era era = Era::kLegacy;
  int64_t requests = 100000;
  int64_t window = 64;
  int64_t warmup = 10000;
  int core = -1;         ///< pin this process to the core (after the fork, so the server is not pinned)
  int server_core = -1;  ///< pin the server to the core (between fork and exec)
  int timeout_s = 300;   ///< the whole run, handshake to last response
  char** command = nullptr;
};

// ---- time and /proc ---------------------------------------------------------------------------------

int64_t now_ns(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

/** CPU time (ns) of every live thread of `pid`, from schedstat; -1 when /proc has no such process. */
int64_t server_cpu_ns(pid_t pid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/task", static_cast<int>(pid));
  DIR* dir = opendir(path);
  if (dir == nullptr) return -1;
  int64_t total = 0;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    char file[320];
    std::snprintf(file, sizeof file, "/proc/%d/task/%s/schedstat", static_cast<int>(pid), entry->d_name);
    FILE* f = std::fopen(file, "r");
    if (f == nullptr) continue;  // the thread ended between readdir and open
    long long ns = 0;
    if (std::fscanf(f, "%lld", &ns) == 1) total += ns;
    std::fclose(f);
  }
  closedir(dir);
  return total;
}

/** A "Field:   123 kB" line of /proc/<pid>/status, in KiB; -1 when missing. */
int64_t status_kb(pid_t pid, const char* field) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/status", static_cast<int>(pid));
  FILE* f = std::fopen(path, "r");
  if (f == nullptr) return -1;
  char line[256];
  int64_t kb = -1;
  const size_t len = std::strlen(field);
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::strncmp(line, field, len) == 0 && line[len] == ':') {
      kb = std::strtoll(line + len + 1, nullptr, 10);
      break;
    }
  }
  std::fclose(f);
  return kb;
}

bool pin_to(pid_t pid, int core) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(core, &set);
  return sched_setaffinity(pid, sizeof set, &set) == 0;
}

// ---- requests ---------------------------------------------------------------------------------------

constexpr std::string_view kTextTail = " the quick brown fox jumps over the lazy dog";
constexpr std::string_view kMeta =
    R"(,"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",)"
    R"("io.modelcontextprotocol/clientCapabilities":{}})";

void append_int(std::string& out, int64_t value) {
  char digits[24];
  auto r = std::to_chars(digits, digits + sizeof digits, value);
  out.append(digits, r.ptr);
}

/** The echo text of call `id`: distinct per id and free of characters JSON would escape. */
void append_text(std::string& out, int64_t id) {
  out.append("echo ");
  append_int(out, id);
  out.append(kTextTail);
}

void append_call(std::string& out, Era era, int64_t id) {
  out.append(R"({"jsonrpc":"2.0","id":)");
  append_int(out, id);
  out.append(R"(,"method":"tools/call","params":{"name":"echo","arguments":{"text":")");
  append_text(out, id);
  out.append(R"("})");
  if (era == Era::kStateless) out.append(kMeta);
  out.append("}}\n");
}

constexpr std::string_view kInitialize =
    R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25",)"
    R"("capabilities":{},"clientInfo":{"name":"stdio_loadgen","version":"1.0.0"}}})"
    "\n";
constexpr std::string_view kInitialized = R"({"jsonrpc":"2.0","method":"notifications/initialized"})"
                                          "\n";

// ---- a small JSON reader for replies in an unexpected spelling ----------------------------------------

struct Value {
  enum class Kind : uint8_t { kNull, kBool, kNumber, kString, kArray, kObject } kind = Kind::kNull;
  std::string text;  ///< a string's decoded bytes, a number's source text, "true"/"false"
  std::vector<Value> items;
  std::vector<std::pair<std::string, Value>> members;

  const Value* get(std::string_view key) const {
    const Value* found = nullptr;
    for (const auto& m : members) {
      if (m.first == key) {
        if (found != nullptr) return nullptr;  // a duplicate key is not a reply we accept
        found = &m.second;
      }
    }
    return found;
  }
};

class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}

  bool parse_document(Value& out) {
    if (!parse(out, 0)) return false;
    skip_ws();
    return pos_ == s_.size();
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;

  void skip_ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }
  bool eat(char c) {
    skip_ws();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }
  static int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
  bool hex4(uint32_t& out) {
    if (pos_ + 4 > s_.size()) return false;
    out = 0;
    for (int i = 0; i < 4; ++i) {
      const int h = hex(s_[pos_++]);
      if (h < 0) return false;
      out = out * 16 + static_cast<uint32_t>(h);
    }
    return true;
  }
  static void put_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }
  bool string(std::string& out) {
    if (!eat('"')) return false;
    while (pos_ < s_.size()) {
      const char c = s_[pos_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (pos_ >= s_.size()) return false;
      const char e = s_[pos_++];
      switch (e) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case '/': out.push_back('/'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
          uint32_t cp = 0;
          if (!hex4(cp)) return false;
          if (cp >= 0xD800 && cp < 0xDC00) {
            uint32_t low = 0;
            if (!literal("\\u") || !hex4(low) || low < 0xDC00 || low >= 0xE000) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp < 0xE000) {
            return false;
          }
          put_utf8(out, cp);
          break;
        }
        default: return false;
      }
    }
    return false;
  }
  bool number(std::string& out) {
    const size_t start = pos_;
    if (pos_ < s_.size() && s_[pos_] == '-') ++pos_;
    if (pos_ >= s_.size()) return false;
    if (s_[pos_] == '0') {
      ++pos_;
    } else if (s_[pos_] >= '1' && s_[pos_] <= '9') {
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
    } else {
      return false;
    }
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      const size_t digits = pos_;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
      if (pos_ == digits) return false;
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      const size_t digits = pos_;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
      if (pos_ == digits) return false;
    }
    out.assign(s_.substr(start, pos_ - start));
    return true;
  }
  bool parse(Value& v, int depth) {
    if (depth > 64) return false;
    skip_ws();
    if (pos_ >= s_.size()) return false;
    const char c = s_[pos_];
    if (c == '{') {
      ++pos_;
      v.kind = Value::Kind::kObject;
      if (eat('}')) return true;
      do {
        std::pair<std::string, Value> member;
        skip_ws();
        if (!string(member.first) || !eat(':') || !parse(member.second, depth + 1)) return false;
        v.members.push_back(std::move(member));
      } while (eat(','));
      return eat('}');
    }
    if (c == '[') {
      ++pos_;
      v.kind = Value::Kind::kArray;
      if (eat(']')) return true;
      do {
        v.items.emplace_back();
        if (!parse(v.items.back(), depth + 1)) return false;
      } while (eat(','));
      return eat(']');
    }
    if (c == '"') {
      v.kind = Value::Kind::kString;
      return string(v.text);
    }
    if (literal("true") || literal("false")) {
      v.kind = Value::Kind::kBool;
      return true;
    }
    if (literal("null")) return true;
    v.kind = Value::Kind::kNumber;
    return number(v.text);
  }
};

bool is_string(const Value* v, std::string_view expected) {
  return v != nullptr && v->kind == Value::Kind::kString && v->text == expected;
}

/** The id of a reply that is a non-negative integer without fraction or exponent; -1 otherwise. */
int64_t integer_id(const Value* v) {
  if (v == nullptr || v->kind != Value::Kind::kNumber || v->text.empty() || v->text.size() > 18) return -1;
  int64_t id = 0;
  auto r = std::from_chars(v->text.data(), v->text.data() + v->text.size(), id);
  if (r.ec != std::errc() || r.ptr != v->text.data() + v->text.size() || id < 0) return -1;
  return id;
}

// ---- checking a reply -------------------------------------------------------------------------------

constexpr std::string_view kPrefixA = R"({"jsonrpc":"2.0","id":)";
constexpr std::string_view kResultA = R"(,"result":{"content":[{"type":"text","text":")";
constexpr std::string_view kPrefixB = R"({"result":{"content":[{"type":"text","text":")";
constexpr std::string_view kMiddleB = R"(},"jsonrpc":"2.0","id":)";
constexpr std::string_view kResultType = R"(,"resultType":"complete")";

bool text_matches(std::string_view text, int64_t id) {
  char digits[24];
  auto r = std::to_chars(digits, digits + sizeof digits, id);
  const std::string_view number(digits, static_cast<size_t>(r.ptr - digits));
  return text.size() == 5 + number.size() + kTextTail.size() && text.substr(0, 5) == "echo " &&
         text.substr(5, number.size()) == number && text.substr(5 + number.size()) == kTextTail;
}

bool take(std::string_view& s, std::string_view prefix) {
  if (s.substr(0, prefix.size()) != prefix) return false;
  s.remove_prefix(prefix.size());
  return true;
}

int64_t take_id(std::string_view& s) {
  if (s.empty() || s[0] < '0' || s[0] > '9' || (s[0] == '0' && s.size() > 1 && s[1] >= '0' && s[1] <= '9')) return -1;
  int64_t id = 0;
  auto r = std::from_chars(s.data(), s.data() + std::min<size_t>(s.size(), 18), id);
  if (r.ec != std::errc()) return -1;
  s.remove_prefix(static_cast<size_t>(r.ptr - s.data()));
  return id;
}

/** The closing tail of the result object after the content array: `]` then the era's fields. */
bool take_result_tail(std::string_view& s, Era era) {
  if (!take(s, R"("}])")) return false;
  return era == Era::kLegacy || take(s, kResultType);
}

/** Byte-exact check in the two usual spellings; returns the id, or -1 when the line is spelt otherwise. */
int64_t check_fast(std::string_view s, Era era) {
  if (take(s, kPrefixA)) {
    const int64_t id = take_id(s);
    if (id < 0 || !take(s, kResultA)) return -1;
    const size_t quote = s.find('"');
    if (quote == std::string_view::npos || !text_matches(s.substr(0, quote), id)) return -1;
    s.remove_prefix(quote);
    if (!take_result_tail(s, era) || s != "}}") return -1;
    return id;
  }
  if (take(s, kPrefixB)) {
    const size_t quote = s.find('"');
    if (quote == std::string_view::npos) return -1;
    const std::string_view text = s.substr(0, quote);
    s.remove_prefix(quote);
    if (!take_result_tail(s, era) || !take(s, kMiddleB)) return -1;
    const int64_t id = take_id(s);
    if (id < 0 || s != "}" || !text_matches(text, id)) return -1;
    return id;
  }
  return -1;
}

/** The same check on the parsed reply: any key order and whitespace, escapes decoded; -1 on mismatch. */
int64_t check_parsed(std::string_view s, Era era) {
  Value v;
  if (!Reader(s).parse_document(v) || v.kind != Value::Kind::kObject || v.members.size() != 3) return -1;
  const int64_t id = integer_id(v.get("id"));
  const Value* result = v.get("result");
  if (id < 0 || !is_string(v.get("jsonrpc"), "2.0") || result == nullptr || result->kind != Value::Kind::kObject) {
    return -1;
  }
  const size_t fields = era == Era::kStateless ? 2 : 1;
  if (result->members.size() != fields) return -1;
  if (era == Era::kStateless && !is_string(result->get("resultType"), "complete")) return -1;
  const Value* content = result->get("content");
  if (content == nullptr || content->kind != Value::Kind::kArray || content->items.size() != 1) return -1;
  const Value& item = content->items[0];
  const Value* text = item.get("text");
  if (item.kind != Value::Kind::kObject || item.members.size() != 2 || !is_string(item.get("type"), "text") ||
      text == nullptr || text->kind != Value::Kind::kString || !text_matches(text->text, id)) {
    return -1;
  }
  return id;
}

// ---- the run ----------------------------------------------------------------------------------------

class Run {
 public:
  explicit Run(const Options& o) : o_(o) {}

  int main() {
    if (!spawn()) return 2;
    const int64_t deadline = now_ns(CLOCK_MONOTONIC) + static_cast<int64_t>(o_.timeout_s) * 1000000000;
    const int64_t last = o_.warmup + o_.requests;
    sent_.assign(static_cast<size_t>(last + 1), -1);
    latency_.reserve(static_cast<size_t>(o_.requests));

    bool ok = true;
    if (o_.era == Era::kLegacy) ok = handshake(deadline);
    if (ok && o_.warmup > 0) ok = drive(1, o_.warmup, deadline, false);

    int64_t server_cpu0 = server_cpu_ns(pid_);
    const int64_t own_cpu0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
    const int64_t wall0 = now_ns(CLOCK_MONOTONIC);
    if (ok) {
      ok = drive(o_.warmup + 1, last, deadline, true);
    } else {
      missing_ = o_.requests;  // the handshake or the warm-up failed: nothing was measured
    }
    const int64_t wall1 = now_ns(CLOCK_MONOTONIC);
    const int64_t own_cpu1 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
    const int64_t server_cpu1 = server_cpu_ns(pid_);
    const int64_t peak_kb = status_kb(pid_, "VmHWM");
    if (server_cpu0 < 0 || server_cpu1 < 0) server_cpu0 = -1;

    const int exit_code = finish();
    report(wall1 - wall0, server_cpu0 < 0 ? -1 : server_cpu1 - server_cpu0, own_cpu1 - own_cpu0, peak_kb, exit_code);
    return errors_ == 0 && missing_ == 0 && ok ? 0 : 1;
  }

 private:
  const Options& o_;
  pid_t pid_ = -1;
  int to_server_ = -1;
  int from_server_ = -1;
  std::string out_;
  size_t out_pos_ = 0;
  std::vector<char> in_ = std::vector<char>(1 << 20);
  size_t in_len_ = 0;
  std::vector<int64_t> sent_;  ///< send time by id; -1 before sending, -2 once answered
  std::vector<uint32_t> latency_;  ///< ns per measured call, clamped at 4.29 s
  int64_t errors_ = 0;
  int64_t slow_checks_ = 0;
  int64_t missing_ = 0;  ///< calls of the failed phase left without a right reply
  int reported_ = 0;

  bool spawn() {
    int in[2];
    int out[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) {
      std::perror("stdio_loadgen: pipe2");
      return false;
    }
    pid_ = fork();
    if (pid_ < 0) {
      std::perror("stdio_loadgen: fork");
      return false;
    }
    if (pid_ == 0) {
      dup2(in[0], 0);
      dup2(out[1], 1);
      if (o_.server_core >= 0 && !pin_to(0, o_.server_core)) std::perror("stdio_loadgen: server affinity");
      execvp(o_.command[0], o_.command);
      std::fprintf(stderr, "stdio_loadgen: cannot run %s: %s\n", o_.command[0], std::strerror(errno));
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    to_server_ = in[1];
    from_server_ = out[0];
    fcntl(to_server_, F_SETFL, fcntl(to_server_, F_GETFL) | O_NONBLOCK);
    fcntl(from_server_, F_SETFL, fcntl(from_server_, F_GETFL) | O_NONBLOCK);
    if (o_.core >= 0 && !pin_to(0, o_.core)) std::perror("stdio_loadgen: affinity");
    return true;
  }

  void complain(std::string_view what, std::string_view line) {
    ++errors_;
    if (reported_++ < 5) {
      std::fprintf(stderr, "stdio_loadgen: %.*s: %.*s\n", static_cast<int>(what.size()), what.data(),
                   static_cast<int>(std::min<size_t>(line.size(), 300)), line.data());
    }
  }

  /** Writes as much of the pending output as the pipe takes; false when the server is gone. */
  bool flush() {
    while (out_pos_ < out_.size()) {
      const ssize_t n = write(to_server_, out_.data() + out_pos_, out_.size() - out_pos_);
      if (n > 0) {
        out_pos_ += static_cast<size_t>(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        break;
      } else {
        std::perror("stdio_loadgen: write to server");
        return false;
      }
    }
    if (out_pos_ == out_.size()) {
      out_.clear();
      out_pos_ = 0;
    } else if (out_pos_ > (1u << 20)) {
      out_.erase(0, out_pos_);
      out_pos_ = 0;
    }
    return true;
  }

  /**
   * Waits for the pipes, then reads every complete line and hands it to `on_line`. Returns false on
   * EOF, a read error or the deadline.
   */
  template <typename OnLine>
  bool pump(int64_t deadline, OnLine&& on_line) {
    const short want_write = out_pos_ < out_.size() ? POLLOUT : 0;
    pollfd fds[2] = {{from_server_, POLLIN, 0}, {to_server_, want_write, 0}};
    const int64_t left_ms = (deadline - now_ns(CLOCK_MONOTONIC)) / 1000000;
    if (left_ms <= 0) {
      std::fprintf(stderr, "stdio_loadgen: timed out after %d s\n", o_.timeout_s);
      return false;
    }
    const int r = poll(fds, 2, static_cast<int>(std::min<int64_t>(left_ms, 1000)));
    if (r < 0 && errno != EINTR) {
      std::perror("stdio_loadgen: poll");
      return false;
    }
    if (fds[1].revents & (POLLOUT | POLLERR | POLLHUP)) {
      if (!flush()) return false;
    }
    if (!(fds[0].revents & (POLLIN | POLLHUP | POLLERR))) return true;
    for (;;) {
      if (in_len_ == in_.size()) in_.resize(in_.size() * 2);  // one line longer than the buffer
      const ssize_t n = read(from_server_, in_.data() + in_len_, in_.size() - in_len_);
      if (n == 0) {
        std::fprintf(stderr, "stdio_loadgen: the server closed its stdout\n");
        return false;
      }
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
        std::perror("stdio_loadgen: read from server");
        return false;
      }
      const int64_t t = now_ns(CLOCK_MONOTONIC);
      const size_t scanned = in_len_;
      in_len_ += static_cast<size_t>(n);
      size_t start = 0;
      const char* base = in_.data();
      for (const char* nl = static_cast<const char*>(std::memchr(base + scanned, '\n', in_len_ - scanned));
           nl != nullptr; nl = static_cast<const char*>(std::memchr(base + start, '\n', in_len_ - start))) {
        std::string_view line(base + start, static_cast<size_t>(nl - base) - start);
        start = static_cast<size_t>(nl - base) + 1;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (!line.empty()) on_line(line, t);
      }
      if (start > 0) {
        std::memmove(in_.data(), in_.data() + start, in_len_ - start);
        in_len_ -= start;
      }
      if (in_len_ < in_.size()) return true;  // the read did not fill the buffer: the pipe is drained
    }
  }

  bool handshake(int64_t deadline) {
    out_.append(kInitialize);
    if (!flush()) return false;
    bool done = false;
    while (!done) {
      const bool alive = pump(deadline, [&](std::string_view line, int64_t) {
        Value v;
        const Value* result = nullptr;
        const Value* caps = nullptr;
        if (Reader(line).parse_document(v) && v.kind == Value::Kind::kObject && integer_id(v.get("id")) == 0 &&
            is_string(v.get("jsonrpc"), "2.0") && (result = v.get("result")) != nullptr &&
            result->kind == Value::Kind::kObject && is_string(result->get("protocolVersion"), "2025-11-25") &&
            (caps = result->get("capabilities")) != nullptr && caps->kind == Value::Kind::kObject &&
            caps->get("tools") != nullptr && result->get("serverInfo") != nullptr) {
          done = true;
        } else {
          complain("unexpected initialize reply", line);
        }
      });
      if (!alive) return false;
      if (errors_ > 0) return false;
    }
    out_.append(kInitialized);
    return flush();
  }

  /** Calls ids first..last with the window full; records latencies when `measured`. */
  bool drive(int64_t first, int64_t last, int64_t deadline, bool measured) {
    int64_t next = first;
    int64_t answered = 0;
    const int64_t total = last - first + 1;
    auto on_line = [&](std::string_view line, int64_t t) {
      int64_t id = check_fast(line, o_.era);
      if (id < 0) {
        id = check_parsed(line, o_.era);
        if (id >= 0) ++slow_checks_;
      }
      if (id < 0) return complain("reply is not the expected echo result", line);
      if (id < first || id >= next) return complain("unexpected id", line);
      int64_t& sent = sent_[static_cast<size_t>(id)];
      if (sent < 0) return complain("repeated id", line);
      if (measured) latency_.push_back(static_cast<uint32_t>(std::min<int64_t>(t - sent, UINT32_MAX)));
      sent = -2;
      ++answered;
    };
    while (answered < total) {
      // Top the window up in one batch, then write what the pipe takes.
      const int64_t room = std::min(o_.window - (next - first - answered), last + 1 - next);
      if (room > 0) {
        const int64_t t = now_ns(CLOCK_MONOTONIC);
        for (int64_t i = 0; i < room; ++i, ++next) {
          append_call(out_, o_.era, next);
          sent_[static_cast<size_t>(next)] = t;
        }
        if (!flush()) return false;
      }
      // A wrong reply fails the run at once (its call would never be answered right).
      if (!pump(deadline, on_line) || errors_ > 0) {
        if (measured) missing_ = total - answered;
        return false;
      }
    }
    return true;
  }

  /** Closes the server's stdin and waits for it to exit (10 s, then SIGTERM, then SIGKILL). */
  int finish() {
    close(to_server_);
    const int64_t until = now_ns(CLOCK_MONOTONIC) + 10000000000LL;
    int status = 0;
    int signal_sent = 0;
    char sink[65536];
    for (;;) {
      const pid_t r = waitpid(pid_, &status, WNOHANG);
      if (r == pid_) break;
      if (r < 0) return -1;
      while (read(from_server_, sink, sizeof sink) > 0) {
        // Replies after the run (there should be none) are drained so the server can exit.
      }
      if (now_ns(CLOCK_MONOTONIC) > until && signal_sent < 2) {
        kill(pid_, signal_sent == 0 ? SIGTERM : SIGKILL);
        ++signal_sent;
      }
      usleep(5000);
    }
    close(from_server_);
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return 128 + WTERMSIG(status);
  }

  void report(int64_t wall_ns, int64_t server_cpu_ns, int64_t own_cpu_ns, int64_t peak_kb, int exit_code) {
    std::vector<uint32_t> sorted = latency_;
    std::sort(sorted.begin(), sorted.end());
    auto pct = [&](double p) -> double {
      if (sorted.empty()) return 0;  // a failed run: errors says so
      const double rank = std::ceil(p / 100.0 * static_cast<double>(sorted.size())) - 1;
      return sorted[static_cast<size_t>(std::clamp(rank, 0.0, static_cast<double>(sorted.size() - 1)))];
    };
    const double calls = static_cast<double>(o_.requests);
    const double seconds = static_cast<double>(wall_ns) / 1e9;
    const long long errors = static_cast<long long>(errors_ + missing_);
    std::printf(
        "{\"calls\":%lld,\"seconds\":%.6f,\"callsPerSec\":%.1f,\"p50Us\":%.2f,\"p99Us\":%.2f,\"p999Us\":%.2f,"
        "\"serverCpuNsPerCall\":%.1f,\"serverPeakRssKb\":%lld,\"loadgenCpuNsPerCall\":%.1f,\"errors\":%lld,"
        "\"era\":\"%s\",\"window\":%lld,\"warmup\":%lld,\"slowChecks\":%lld,\"serverExit\":%d}\n",
        static_cast<long long>(o_.requests), seconds, seconds > 0 && errors == 0 ? calls / seconds : 0.0, pct(50) / 1e3,
        pct(99) / 1e3, pct(99.9) / 1e3, server_cpu_ns < 0 ? -1.0 : static_cast<double>(server_cpu_ns) / calls,
        static_cast<long long>(peak_kb), static_cast<double>(own_cpu_ns) / calls, errors,
        o_.era == Era::kLegacy ? "legacy" : "stateless", static_cast<long long>(o_.window),
        static_cast<long long>(o_.warmup), static_cast<long long>(slow_checks_), exit_code);
    std::fflush(stdout);
  }
};

// ---- command line -----------------------------------------------------------------------------------

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "stdio_loadgen: %s\n"
               "usage: stdio_loadgen --era legacy|stateless --requests N --window W --warmup M [--core C]\n"
               "                     [--server-core C] [--timeout SECONDS] -- <server command...>\n",
               why);
  std::exit(2);
}

int64_t number_arg(const char* value, const char* name, int64_t min) {
  if (value == nullptr) usage("missing value");
  int64_t n = 0;
  const char* end = value + std::strlen(value);
  auto r = std::from_chars(value, end, n);
  if (r.ec != std::errc() || r.ptr != end || n < min) {
    std::fprintf(stderr, "stdio_loadgen: %s needs an integer >= %lld, got \"%s\"\n", name, static_cast<long long>(min),
                 value);
    std::exit(2);
  }
  return n;
}

Options parse(int argc, char** argv) {
  Options o;
  int i = 1;
  for (; i < argc; ++i) {
    const std::string_view a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
    if (a == "--") {
      ++i;
      break;
    }
    if (a == "--era") {
      if (v == nullptr) usage("--era needs legacy or stateless");
      if (std::string_view(v) == "legacy") {
        o.era = Era::kLegacy;
      } else if (std::string_view(v) == "stateless") {
        o.era = Era::kStateless;
      } else {
        usage("--era needs legacy or stateless");
      }
    } else if (a == "--requests") {
      o.requests = number_arg(v, "--requests", 1);
    } else if (a == "--window") {
      o.window = number_arg(v, "--window", 1);
    } else if (a == "--warmup") {
      o.warmup = number_arg(v, "--warmup", 0);
    } else if (a == "--core") {
      o.core = static_cast<int>(number_arg(v, "--core", 0));
    } else if (a == "--server-core") {
      o.server_core = static_cast<int>(number_arg(v, "--server-core", 0));
    } else if (a == "--timeout") {
      o.timeout_s = static_cast<int>(number_arg(v, "--timeout", 1));
    } else {
      usage("unknown option");
    }
    ++i;
  }
  if (i >= argc) usage("no server command after --");
  o.command = argv + i;
  return o;
}

}  // namespace mcp::loadgen

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  const mcp::loadgen::Options options = mcp::loadgen::parse(argc, argv);
  mcp::loadgen::Run run(options);
  return run.main();
}
