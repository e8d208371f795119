// HTTP/1.1 keep-alive load generator for the Streamable HTTP benchmark (bench/e2e-http.bench.ts).
// One thread, epoll, no dependencies. C connections to 127.0.0.1:port, each with one request in flight
// (no pipelining): a request is built, sent, its whole response read and checked, then the next is sent.
//
// Modes (--mode):
//   stateless  2026-07-28 tools/call "echo": MCP-Protocol-Version, Mcp-Method, Mcp-Name headers and the
//              version in params._meta. --protocol-version 2025-11-25 sends the same request under a
//              version a pre-2026 server accepts (the official SDK v1 in its stateless mode).
//   legacy     per connection: initialize -> Mcp-Session-Id, notifications/initialized (202), then
//              tools/call with the session header. --session SID skips the handshake and uses SID.
//   plain      POST {"text":"..."} (the bare node:http JSON echo floor).
//   sessions   legacy handshakes only: --count N sessions (initialize + initialized) over C connections,
//              then exit (the memory benchmark's idle sessions).
//
// Every response is checked: status 200 (202 for the notification), framing by Content-Length or
// chunked, Content-Type application/json (or text/event-stream with --sse-ok), and the body must hold
// `"text":"<the text of its request>"` (unique per request) and, for MCP, `"id":<its id>` and no
// `"error":{` (and --expect STR, if given). Any mismatch is counted and makes the run fail (exit
// status 1, "ok":false). --header "Name: value" (repeatable) adds a header line to every request (e.g. a
// credential for a server with authentication).
//
// Measured phase: after --warmup seconds, for --duration seconds or --requests responses. Reported:
// requests/s, latency percentiles (requests sent and answered inside the phase), the server's CPU time in
// the phase (sum over /proc/<pid>/task/*/schedstat, exact ns; --pid) and this process's own CPU time
// (CLOCK_PROCESS_CPUTIME_ID), both per request and as a share of one core. Output: one JSON line.
//
//   http_loadgen --port P --mode stateless --connections 50 --duration 5 --warmup 1 --pid 1234
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

enum class Mode { kStateless, kLegacy, kPlain, kSessions };

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string path = "/mcp";
  Mode mode = Mode::kStateless;
  int connections = 1;
  double duration_s = 0;     ///< measured seconds (0: use --requests)
  uint64_t requests = 0;     ///< measured responses (0: use --duration)
  double warmup_s = 0;       ///< seconds before the measured phase
  uint64_t count = 0;        ///< sessions mode: sessions to create
  int pid = 0;               ///< the server, for its CPU time
  std::string protocol_version;  ///< default per mode
  std::string session;       ///< legacy: use this session, no handshake
  uint64_t first_id = 2;     ///< first tools/call id per connection
  int text_bytes = 0;        ///< pad the echoed text to at least this many bytes
  std::string expect;        ///< a string every tools/call reply must also hold
  bool sse_ok = false;       ///< accept text/event-stream replies (the body is checked the same way)
  std::string headers;       ///< extra header lines (--header "Name: value", repeatable), CRLF-terminated
};

int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

int64_t self_cpu_ns() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

/// CPU time (ns) of every live thread of `pid`, from schedstat; -1 when unreadable.
int64_t proc_cpu_ns(int pid) {
  if (pid <= 0) return -1;
  char dir_path[64];
  snprintf(dir_path, sizeof dir_path, "/proc/%d/task", pid);
  DIR* dir = opendir(dir_path);
  if (dir == nullptr) return -1;
  int64_t total = 0;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    char file_path[320];
    snprintf(file_path, sizeof file_path, "/proc/%d/task/%s/schedstat", pid, entry->d_name);
    FILE* f = fopen(file_path, "r");
    if (f == nullptr) continue;  // the thread ended meanwhile
    long long ns = 0;
    if (fscanf(f, "%lld", &ns) == 1) total += ns;
    fclose(f);
  }
  closedir(dir);
  return total;
}

bool starts_with_ci(const char* s, size_t n, const char* prefix) {
  size_t m = strlen(prefix);
  if (n < m) return false;
  for (size_t i = 0; i < m; ++i) {
    char a = s[i];
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
    if (a != prefix[i]) return false;
  }
  return true;
}

std::string trim(const char* s, size_t n) {
  size_t b = 0;
  while (b < n && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (n > b && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) --n;
  return std::string(s + b, n - b);
}

/// One parsed response.
struct Response {
  int status = 0;
  bool chunked = false;
  bool close = false;
  std::string content_type;
  std::string session_id;
  std::string body;
  size_t consumed = 0;  ///< bytes of the buffer this response took
};

enum class Parse { kNeedMore, kOk, kBad };

/// Parses one complete response from buf[0, n); kNeedMore when it has not all arrived yet.
Parse parse_response(const char* buf, size_t n, Response* out, std::string* why) {
  const char* end_of_head = nullptr;
  for (size_t i = 3; i < n; ++i) {
    if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' && buf[i - 3] == '\r') {
      end_of_head = buf + i + 1;
      break;
    }
  }
  if (end_of_head == nullptr) {
    if (n > 65536) {
      *why = "response head over 64 KiB";
      return Parse::kBad;
    }
    return Parse::kNeedMore;
  }
  if (n < 12 || memcmp(buf, "HTTP/1.1 ", 9) != 0) {
    *why = "not an HTTP/1.1 status line";
    return Parse::kBad;
  }
  *out = Response();
  out->status = atoi(buf + 9);
  int64_t content_length = -1;
  const char* line = static_cast<const char*>(memchr(buf, '\n', n)) + 1;
  while (line < end_of_head - 2) {
    const char* eol = static_cast<const char*>(memchr(line, '\n', static_cast<size_t>(end_of_head - line)));
    size_t len = static_cast<size_t>(eol - line);
    const char* colon = static_cast<const char*>(memchr(line, ':', len));
    if (colon != nullptr) {
      size_t name_len = static_cast<size_t>(colon - line);
      std::string value = trim(colon + 1, static_cast<size_t>(eol - colon - 1));
      if (name_len == 14 && starts_with_ci(line, len, "content-length")) {
        content_length = strtoll(value.c_str(), nullptr, 10);
      } else if (name_len == 17 && starts_with_ci(line, len, "transfer-encoding")) {
        out->chunked = value.find("chunked") != std::string::npos;
      } else if (name_len == 12 && starts_with_ci(line, len, "content-type")) {
        out->content_type = value;
      } else if (name_len == 14 && starts_with_ci(line, len, "mcp-session-id")) {
        out->session_id = value;
      } else if (name_len == 10 && starts_with_ci(line, len, "connection")) {
        out->close = value == "close";
      }
    }
    line = eol + 1;
  }
  size_t head = static_cast<size_t>(end_of_head - buf);
  if (out->chunked) {
    // Chunks: "<hex size>[;ext]\r\n<data>\r\n" ... "0\r\n\r\n" (no trailers expected).
    size_t pos = head;
    for (;;) {
      const char* eol = static_cast<const char*>(memchr(buf + pos, '\n', n - pos));
      if (eol == nullptr) return Parse::kNeedMore;
      char* size_end = nullptr;
      unsigned long long size = strtoull(buf + pos, &size_end, 16);
      if (size_end == buf + pos) {
        *why = "bad chunk size";
        return Parse::kBad;
      }
      pos = static_cast<size_t>(eol - buf) + 1;
      if (n - pos < size + 2) return Parse::kNeedMore;
      if (buf[pos + size] != '\r' || buf[pos + size + 1] != '\n') {
        *why = "chunk not followed by CRLF";
        return Parse::kBad;
      }
      if (size == 0) {
        out->consumed = pos + 2;
        return Parse::kOk;
      }
      out->body.append(buf + pos, size);
      pos += size + 2;
    }
  }
  if (content_length < 0) {
    if (out->status == 204 || out->status == 304) {
      out->consumed = head;
      return Parse::kOk;
    }
    *why = "response with neither Content-Length nor chunked framing";
    return Parse::kBad;
  }
  if (n - head < static_cast<size_t>(content_length)) return Parse::kNeedMore;
  out->body.assign(buf + head, static_cast<size_t>(content_length));
  out->consumed = head + static_cast<size_t>(content_length);
  return Parse::kOk;
}

enum class Step { kInitialize, kInitialized, kCall, kDone };

struct Connection {
  int index = 0;
  int fd = -1;
  Step step = Step::kCall;
  std::string session;
  std::string out;
  size_t out_off = 0;
  std::vector<char> in;
  uint64_t seq = 0;      ///< tools/call counter (id = first_id + seq)
  uint64_t id = 0;       ///< id of the request in flight
  std::string text;      ///< echoed text of the request in flight
  int64_t sent_ns = 0;
  bool in_flight = false;
};

struct Run {
  Options opt;
  std::string host_header;
  int epfd = -1;
  std::vector<Connection> conns;
  // Phase bookkeeping.
  bool measuring = false;
  bool finished = false;
  int64_t measure_start_ns = 0;
  int64_t measure_end_ns = 0;
  int64_t server_cpu_start = -1;
  int64_t server_cpu_end = -1;
  int64_t self_cpu_start = 0;
  int64_t self_cpu_end = 0;
  uint64_t issued_measured = 0;  ///< requests sent in the phase (count mode stops at --requests)
  uint64_t completed = 0;        ///< responses checked in the phase
  uint64_t warmup_completed = 0;
  uint64_t sessions_created = 0;
  uint64_t sessions_started = 0;
  std::vector<int64_t> latencies;
  uint64_t failures = 0;
  std::vector<std::string> failure_notes;
  uint64_t framing_length = 0;
  uint64_t framing_chunked = 0;
  int live = 0;
};

void fail(Run* run, const Connection& c, const std::string& what) {
  ++run->failures;
  if (run->failure_notes.size() < 5) {
    run->failure_notes.push_back("conn " + std::to_string(c.index) + ": " + what);
  }
}

void append_request(const Run& run, const Connection& c, const char* method, const std::string& body,
                    std::string* out) {
  const Options& o = run.opt;
  out->clear();
  out->append("POST ").append(o.path).append(" HTTP/1.1\r\nHost: ").append(run.host_header);
  out->append("\r\nContent-Type: application/json\r\n");
  if (o.mode == Mode::kPlain) {
    out->append("Accept: application/json\r\n");
  } else {
    out->append("Accept: application/json, text/event-stream\r\n");
    if (c.step != Step::kInitialize) out->append("MCP-Protocol-Version: ").append(o.protocol_version).append("\r\n");
    if (!c.session.empty()) out->append("Mcp-Session-Id: ").append(c.session).append("\r\n");
    if (o.mode == Mode::kStateless) {
      out->append("Mcp-Method: ").append(method).append("\r\nMcp-Name: echo\r\n");
    }
  }
  out->append(o.headers);
  out->append("Content-Length: ").append(std::to_string(body.size())).append("\r\n\r\n").append(body);
}

/// Builds the next request of `c` into c.out.
void build_next(const Run& run, Connection* c) {
  const Options& o = run.opt;
  std::string body;
  if (c->step == Step::kInitialize) {
    c->id = 1;
    c->text.clear();
    body = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"" +
           o.protocol_version +
           "\",\"capabilities\":{},\"clientInfo\":{\"name\":\"fastermcp-http-loadgen\",\"version\":\"1.0.0\"}}}";
    append_request(run, *c, "initialize", body, &c->out);
  } else if (c->step == Step::kInitialized) {
    c->id = 0;
    c->text.clear();
    body = "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}";
    append_request(run, *c, "notifications/initialized", body, &c->out);
  } else {
    c->id = o.first_id + c->seq;
    char text[64];
    snprintf(text, sizeof text, "c%04d-r%010" PRIu64, c->index, c->seq);
    c->text = text;
    if (static_cast<int>(c->text.size()) < o.text_bytes) c->text.append(o.text_bytes - c->text.size(), 'x');
    ++c->seq;
    if (o.mode == Mode::kPlain) {
      body = "{\"text\":\"" + c->text + "\"}";
    } else {
      body = "{\"jsonrpc\":\"2.0\",\"id\":" + std::to_string(c->id) +
             ",\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"arguments\":{\"text\":\"" + c->text + "\"}";
      if (o.mode == Mode::kStateless) {
        body += ",\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"" + o.protocol_version +
                "\",\"io.modelcontextprotocol/clientCapabilities\":{}}";
      }
      body += "}}";
    }
    append_request(run, *c, "tools/call", body, &c->out);
  }
  c->out_off = 0;
}

/// Checks a response against the request in flight; returns "" when it is right.
std::string check(const Run& run, const Connection& c, const Response& r) {
  const bool notification = c.step == Step::kInitialized;
  const int want_status = notification ? 202 : 200;
  if (r.status != want_status) {
    return "status " + std::to_string(r.status) + " (wanted " + std::to_string(want_status) +
           "): " + r.body.substr(0, 200);
  }
  if (notification) return "";
  const bool sse = run.opt.sse_ok && r.content_type.compare(0, 17, "text/event-stream") == 0;
  if (!sse && r.content_type.compare(0, 16, "application/json") != 0) {
    return "Content-Type '" + r.content_type + "': " + r.body.substr(0, 200);
  }
  if (c.step == Step::kInitialize) {
    if (r.session_id.empty()) return "initialize answered without Mcp-Session-Id";
    if (r.body.find("\"protocolVersion\"") == std::string::npos) return "initialize result: " + r.body.substr(0, 200);
    return "";
  }
  const std::string want_text = "\"text\":\"" + c.text + "\"";
  if (r.body.find(want_text) == std::string::npos) return "body lacks " + want_text + ": " + r.body.substr(0, 200);
  if (run.opt.mode != Mode::kPlain) {
    const std::string want_id = "\"id\":" + std::to_string(c.id);
    size_t at = r.body.find(want_id);
    char next = at == std::string::npos || at + want_id.size() >= r.body.size() ? '\0' : r.body[at + want_id.size()];
    if (at == std::string::npos || (next != ',' && next != '}')) {
      return "body lacks " + want_id + ": " + r.body.substr(0, 200);
    }
    if (r.body.find("\"error\":{") != std::string::npos) return "error reply: " + r.body.substr(0, 200);
  }
  if (!run.opt.expect.empty() && r.body.find(run.opt.expect) == std::string::npos) {
    return "body lacks " + run.opt.expect + ": " + r.body.substr(0, 200);
  }
  return "";
}

void close_conn(Run* run, Connection* c) {
  if (c->fd < 0) return;
  epoll_ctl(run->epfd, EPOLL_CTL_DEL, c->fd, nullptr);
  close(c->fd);
  c->fd = -1;
  c->step = Step::kDone;
  c->in_flight = false;
  --run->live;
}

void start_measuring(Run* run, int64_t t) {
  run->measuring = true;
  run->measure_start_ns = t;
  run->server_cpu_start = proc_cpu_ns(run->opt.pid);
  run->self_cpu_start = self_cpu_ns();
}

void stop_measuring(Run* run, int64_t t) {
  if (run->finished) return;
  run->server_cpu_end = proc_cpu_ns(run->opt.pid);
  run->self_cpu_end = self_cpu_ns();
  run->measure_end_ns = t;
  run->finished = true;
}

/// Whether `c` may send another tools/call now.
bool may_issue(const Run& run) {
  if (run.finished) return false;
  if (run.opt.mode == Mode::kSessions) return run.sessions_started < run.opt.count;
  if (run.measuring && run.opt.requests > 0) return run.issued_measured < run.opt.requests;
  return true;
}

void flush(Run* run, Connection* c) {
  while (c->out_off < c->out.size()) {
    ssize_t k = send(c->fd, c->out.data() + c->out_off, c->out.size() - c->out_off, MSG_NOSIGNAL);
    if (k > 0) {
      c->out_off += static_cast<size_t>(k);
      continue;
    }
    if (k < 0 && errno == EINTR) continue;
    if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLOUT;
      ev.data.u32 = static_cast<uint32_t>(c->index);
      epoll_ctl(run->epfd, EPOLL_CTL_MOD, c->fd, &ev);
      return;
    }
    fail(run, *c, std::string("send: ") + strerror(errno));
    close_conn(run, c);
    return;
  }
}

/// Sends the next request of `c`, if any is due.
void issue(Run* run, Connection* c) {
  if (c->fd < 0 || c->in_flight) return;
  if (c->step == Step::kCall || c->step == Step::kInitialize) {
    if (!may_issue(*run)) return;
    if (run->opt.mode == Mode::kSessions && c->step == Step::kInitialize) ++run->sessions_started;
  }
  build_next(*run, c);
  if (c->step == Step::kCall && run->measuring) ++run->issued_measured;
  c->in_flight = true;
  c->sent_ns = now_ns();
  flush(run, c);
}

void on_response(Run* run, Connection* c, const Response& r, int64_t t) {
  c->in_flight = false;
  if (c->step == Step::kCall) {
    if (r.chunked) {
      ++run->framing_chunked;
    } else {
      ++run->framing_length;
    }
  }
  std::string problem = check(*run, *c, r);
  if (!problem.empty()) {
    fail(run, *c, problem);
    close_conn(run, c);
    return;
  }
  if (r.close) {
    fail(run, *c, "server closed the keep-alive connection (Connection: close)");
    close_conn(run, c);
    return;
  }
  switch (c->step) {
    case Step::kInitialize:
      c->session = r.session_id;
      c->step = Step::kInitialized;
      break;
    case Step::kInitialized:
      if (run->opt.mode == Mode::kSessions) {
        ++run->sessions_created;
        c->session.clear();
        c->step = Step::kInitialize;
        if (run->sessions_created >= run->opt.count) stop_measuring(run, t);
      } else {
        c->step = Step::kCall;
      }
      break;
    case Step::kCall:
      if (run->measuring && !run->finished) {
        ++run->completed;
        if (c->sent_ns >= run->measure_start_ns) run->latencies.push_back(t - c->sent_ns);
        if (run->opt.requests > 0 && run->completed >= run->opt.requests) stop_measuring(run, t);
      } else if (!run->measuring) {
        ++run->warmup_completed;
      }
      break;
    case Step::kDone:
      break;
  }
}

void on_readable(Run* run, Connection* c) {
  char chunk[65536];
  for (;;) {
    ssize_t k = recv(c->fd, chunk, sizeof chunk, 0);
    if (k > 0) {
      c->in.insert(c->in.end(), chunk, chunk + k);
      if (static_cast<size_t>(k) < sizeof chunk) break;
      continue;
    }
    if (k < 0 && errno == EINTR) continue;
    if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (!run->finished) {
      fail(run, *c, k == 0 ? "server closed the connection" : std::string("recv: ") + strerror(errno));
    }
    close_conn(run, c);
    return;
  }
  int64_t t = now_ns();
  size_t off = 0;
  for (;;) {
    Response r;
    std::string why;
    Parse p = parse_response(c->in.data() + off, c->in.size() - off, &r, &why);
    if (p == Parse::kNeedMore) break;
    if (p == Parse::kBad) {
      fail(run, *c, why);
      close_conn(run, c);
      return;
    }
    off += r.consumed;
    if (!c->in_flight) {
      fail(run, *c, "a response with no request in flight");
      close_conn(run, c);
      return;
    }
    on_response(run, c, r, t);
    if (c->fd < 0) return;
  }
  c->in.erase(c->in.begin(), c->in.begin() + static_cast<std::ptrdiff_t>(off));
  issue(run, c);
}

bool parse_args(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) {
        fprintf(stderr, "http_loadgen: %s needs a value\n", a.c_str());
        exit(2);
      }
      return argv[++i];
    };
    if (a == "--host") {
      o->host = value();
    } else if (a == "--port") {
      o->port = atoi(value());
    } else if (a == "--path") {
      o->path = value();
    } else if (a == "--mode") {
      std::string m = value();
      if (m == "stateless") {
        o->mode = Mode::kStateless;
      } else if (m == "legacy") {
        o->mode = Mode::kLegacy;
      } else if (m == "plain") {
        o->mode = Mode::kPlain;
      } else if (m == "sessions") {
        o->mode = Mode::kSessions;
      } else {
        fprintf(stderr, "http_loadgen: --mode is stateless, legacy, plain or sessions, got %s\n", m.c_str());
        return false;
      }
    } else if (a == "--connections") {
      o->connections = atoi(value());
    } else if (a == "--duration") {
      o->duration_s = strtod(value(), nullptr);
    } else if (a == "--requests") {
      o->requests = strtoull(value(), nullptr, 10);
    } else if (a == "--warmup") {
      o->warmup_s = strtod(value(), nullptr);
    } else if (a == "--count") {
      o->count = strtoull(value(), nullptr, 10);
    } else if (a == "--pid") {
      o->pid = atoi(value());
    } else if (a == "--protocol-version") {
      o->protocol_version = value();
    } else if (a == "--session") {
      o->session = value();
    } else if (a == "--first-id") {
      o->first_id = strtoull(value(), nullptr, 10);
    } else if (a == "--text-bytes") {
      o->text_bytes = atoi(value());
    } else if (a == "--expect") {
      o->expect = value();
    } else if (a == "--sse-ok") {
      o->sse_ok = true;
    } else if (a == "--header") {
      const std::string h = value();
      if (h.find(':') == std::string::npos || h.find_first_of("\r\n") != std::string::npos) {
        fprintf(stderr, "http_loadgen: --header takes \"Name: value\", got %s\n", h.c_str());
        return false;
      }
      o->headers.append(h).append("\r\n");
    } else {
      fprintf(stderr, "http_loadgen: unknown option %s\n", a.c_str());
      return false;
    }
  }
  if (o->port <= 0 || o->connections <= 0) {
    fprintf(stderr, "http_loadgen: --port and a positive --connections are required\n");
    return false;
  }
  if (o->mode == Mode::kSessions) {
    if (o->count == 0) {
      fprintf(stderr, "http_loadgen: sessions mode needs --count N\n");
      return false;
    }
  } else if ((o->duration_s > 0) == (o->requests > 0)) {
    fprintf(stderr, "http_loadgen: give one of --duration S and --requests N\n");
    return false;
  }
  if (o->protocol_version.empty()) o->protocol_version = o->mode == Mode::kStateless ? "2026-07-28" : "2025-11-25";
  return true;
}

int connect_to(const Options& o) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(o.port));
  if (inet_pton(AF_INET, o.host.c_str(), &addr.sin_addr) != 1 ||
      connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

double us(int64_t ns) { return static_cast<double>(ns) / 1000.0; }

void print_json(const Run& run, std::vector<int64_t> lat) {
  const Options& o = run.opt;
  const char* mode = o.mode == Mode::kStateless ? "stateless" : o.mode == Mode::kLegacy ? "legacy"
                     : o.mode == Mode::kPlain   ? "plain"
                                                : "sessions";
  double seconds = static_cast<double>(run.measure_end_ns - run.measure_start_ns) / 1e9;
  uint64_t n = o.mode == Mode::kSessions ? run.sessions_created : run.completed;
  bool ok = run.failures == 0 && run.finished && n > 0;
  printf("{\"ok\":%s,\"mode\":\"%s\",\"connections\":%d,\"protocolVersion\":\"%s\"", ok ? "true" : "false", mode,
         o.connections, o.protocol_version.c_str());
  printf(",\"requests\":%" PRIu64 ",\"warmupRequests\":%" PRIu64 ",\"failures\":%" PRIu64, n, run.warmup_completed,
         run.failures);
  printf(",\"seconds\":%.6f,\"rps\":%.1f", seconds, seconds > 0 ? static_cast<double>(n) / seconds : 0.0);
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double p) -> double {
    if (lat.empty()) return 0;
    size_t rank = static_cast<size_t>(std::max(0.0, std::min(static_cast<double>(lat.size() - 1),
                                                             std::ceil(p / 100.0 * lat.size()) - 1)));
    return us(lat[rank]);
  };
  double sum = 0;
  for (int64_t v : lat) sum += static_cast<double>(v);
  printf(",\"latencyUs\":{\"samples\":%zu,\"mean\":%.2f,\"p50\":%.2f,\"p90\":%.2f,\"p99\":%.2f,"
         "\"p999\":%.2f,\"max\":%.2f}",
         lat.size(), lat.empty() ? 0.0 : sum / static_cast<double>(lat.size()) / 1000.0, pct(50), pct(90), pct(99),
         pct(99.9), lat.empty() ? 0.0 : us(lat.back()));
  int64_t self = run.self_cpu_end - run.self_cpu_start;
  printf(",\"loadgenCpuNs\":%" PRId64 ",\"loadgenCpuUsPerRequest\":%.3f,\"loadgenCpuShare\":%.3f", self,
         n > 0 ? us(self) / static_cast<double>(n) : 0.0,
         seconds > 0 ? static_cast<double>(self) / 1e9 / seconds : 0.0);
  if (run.server_cpu_start >= 0 && run.server_cpu_end >= 0) {
    int64_t server = run.server_cpu_end - run.server_cpu_start;
    printf(",\"serverCpuNs\":%" PRId64 ",\"serverCpuUsPerRequest\":%.3f,\"serverCpuShare\":%.3f", server,
           n > 0 ? us(server) / static_cast<double>(n) : 0.0,
           seconds > 0 ? static_cast<double>(server) / 1e9 / seconds : 0.0);
  } else {
    printf(",\"serverCpuNs\":null,\"serverCpuUsPerRequest\":null,\"serverCpuShare\":null");
  }
  printf(",\"framing\":{\"contentLength\":%" PRIu64 ",\"chunked\":%" PRIu64 "}", run.framing_length,
         run.framing_chunked);
  printf(",\"failureNotes\":[");
  for (size_t i = 0; i < run.failure_notes.size(); ++i) {
    std::string esc;
    for (char ch : run.failure_notes[i]) {
      if (ch == '"' || ch == '\\') {
        esc += '\\';
        esc += ch;
      } else if (static_cast<unsigned char>(ch) < 0x20) {
        esc += ' ';
      } else {
        esc += ch;
      }
    }
    printf("%s\"%s\"", i == 0 ? "" : ",", esc.c_str());
  }
  printf("]}\n");
  fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  Run run;
  if (!parse_args(argc, argv, &run.opt)) return 2;
  const Options& o = run.opt;
  run.host_header = o.host + ":" + std::to_string(o.port);
  run.epfd = epoll_create1(EPOLL_CLOEXEC);
  run.conns.resize(static_cast<size_t>(o.connections));
  for (int i = 0; i < o.connections; ++i) {
    Connection& c = run.conns[static_cast<size_t>(i)];
    c.index = i;
    c.fd = connect_to(o);
    if (c.fd < 0) {
      fprintf(stderr, "http_loadgen: cannot connect to %s:%d: %s\n", o.host.c_str(), o.port, strerror(errno));
      return 2;
    }
    ++run.live;
    c.in.reserve(65536);
    if (o.mode == Mode::kLegacy && !o.session.empty()) {
      c.session = o.session;
      c.step = Step::kCall;
    } else if (o.mode == Mode::kLegacy || o.mode == Mode::kSessions) {
      c.step = Step::kInitialize;
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = static_cast<uint32_t>(i);
    epoll_ctl(run.epfd, EPOLL_CTL_ADD, c.fd, &ev);
  }
  const int64_t t_begin = now_ns();
  const int64_t warmup_end = t_begin + static_cast<int64_t>(o.warmup_s * 1e9);
  int64_t measure_deadline = 0;
  if (o.mode == Mode::kSessions || o.warmup_s <= 0) {
    start_measuring(&run, t_begin);
    if (o.duration_s > 0) measure_deadline = t_begin + static_cast<int64_t>(o.duration_s * 1e9);
  }
  for (Connection& c : run.conns) issue(&run, &c);

  std::vector<epoll_event> events(static_cast<size_t>(o.connections));
  while (!run.finished && run.live > 0) {
    int64_t t = now_ns();
    if (!run.measuring && t >= warmup_end) {
      start_measuring(&run, t);
      if (o.duration_s > 0) measure_deadline = t + static_cast<int64_t>(o.duration_s * 1e9);
    }
    if (run.measuring && measure_deadline > 0 && t >= measure_deadline) {
      stop_measuring(&run, t);
      break;
    }
    int64_t next = run.measuring ? measure_deadline : warmup_end;
    int timeout_ms = next > 0 ? static_cast<int>(std::max<int64_t>(0, (next - t) / 1000000) + 1) : 1000;
    int k = epoll_wait(run.epfd, events.data(), static_cast<int>(events.size()), timeout_ms);
    if (k < 0 && errno != EINTR) {
      perror("epoll_wait");
      return 2;
    }
    for (int e = 0; e < k; ++e) {
      Connection& c = run.conns[events[static_cast<size_t>(e)].data.u32];
      if (c.fd < 0) continue;
      if (events[static_cast<size_t>(e)].events & EPOLLOUT) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u32 = static_cast<uint32_t>(c.index);
        epoll_ctl(run.epfd, EPOLL_CTL_MOD, c.fd, &ev);
        flush(&run, &c);
      }
      if (c.fd >= 0 && (events[static_cast<size_t>(e)].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) on_readable(&run, &c);
    }
    if (o.mode == Mode::kSessions && run.sessions_created >= o.count) break;
  }
  if (!run.finished) stop_measuring(&run, now_ns());
  for (Connection& c : run.conns) close_conn(&run, &c);
  print_json(run, std::move(run.latencies));
  return run.failures == 0 && (run.completed > 0 || run.sessions_created > 0) ? 0 : 1;
}
