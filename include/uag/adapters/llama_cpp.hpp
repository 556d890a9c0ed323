#pragma once
/// @file uag over llama.cpp: a GGUF model (`llama_cpp_model`, a uag::causal_lm with a tokenizer()) and a
/// tokenizer over the GGUF's own vocabulary (`llama_cpp_tokenizer`, a uag::tokenizer). Either works as
/// target or draft, in any mix with uag's reference transformer.
///
/// Not part of the umbrella header: include it where llama.h is found (CMake: UAG_WITH_LLAMA_CPP, which
/// links llama.cpp's `llama` target). Written against the llama.cpp release bundled with node-llama-cpp
/// 3.22.1 (see cmake/fetch_llama_cpp.sh).
///
///     auto target = uag::llama_cpp_model::from_file("target.gguf");
///     auto draft = uag::llama_cpp_model::from_file("draft-q4_k_m.gguf");
///     uag::bridged_draft<uag::llama_cpp_model, uag::llama_cpp_tokenizer> source(draft, target.tokenizer());
///     uag::AssistedGenerator<uag::llama_cpp_model, decltype(source)> gen(target, source, cfg);
///
/// Lossless greedy verification needs a row's logits to be the same whether it is decoded alone or in a
/// batch. llama.cpp's CPU backend is batch-invariant only without llamafile's sgemm (GGML_LLAMAFILE=OFF),
/// which handles multi-row products but not one-row ones; `llama_cpp_batch_invariant()` reports it.
#include <llama.h>
#include <gguf.h>
#include <ggml-backend.h>
#include <ggml-cpu.h>
#if __has_include(<ggml-rpc.h>)
#include <ggml-rpc.h>  // RPC_PROTO_* only: its functions are found through the backend registry
#endif
#if defined(__unix__) || defined(__APPLE__)
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#endif

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <csignal>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "uag/core/error.hpp"
#include "uag/core/logits.hpp"
#include "uag/core/types.hpp"
#include "uag/core/utf8.hpp"
#include "uag/generation/generation_config.hpp"
#include "uag/tokenizer/detail/unicode.hpp"

namespace uag {

/// @brief Settings for loading a GGUF model.
struct llama_cpp_options {
  int n_threads = 0;                     // threads for llama_decode; 0 = all hardware threads
  int n_gpu_layers = 0;                  // layers offloaded to a GPU/RPC device (-1 = all; 0 = CPU only)
  std::size_t n_ctx = 0;                 // context length in tokens; 0 = the model's, capped at 4096
  std::size_t n_ubatch = 512;            // physical batch: tokens per compute graph (prefill chunking)
  bool flash_attention = false;          // llama.cpp flash attention (off: the default CPU path)
  bool f16_kv_cache = true;              // KV cache in F16 (llama.cpp's default) or F32
  std::vector<std::string> rpc_servers;  // "host:port" of rpc-server processes holding offloaded layers
  int rpc_timeout_ms = 5000;             // bound on connecting to and greeting each rpc-server at load
  int rpc_io_timeout_ms = 0;             // bound on each RPC send/receive during decodes (0 = none: a server
                                         // that stops answering without closing blocks forever); must exceed
                                         // the slowest server-side compute of one llama_decode
  bool quiet = true;                     // drop llama.cpp's info/debug log lines (errors are kept)
  float batch_tolerance = -1.0f;         // bound on |batched row - single-token row| per logit, for lossless
                                         // greedy verification (causal_lm_with_batch_tolerance); -1 = 0 where
                                         // rows are bit-identical (CPU backend without llamafile), else
                                         // measured at load (twice the largest difference on a fixed text)
};

namespace detail {

// llama.cpp reports why a load failed only through its log; keep the last error lines so the exception
// can say it. The callback forwards everything else to stderr unless quiet.
struct llama_cpp_log {
  std::mutex mu;
  std::string last_error;
  bool quiet = true;

  static llama_cpp_log& instance() {
    static llama_cpp_log log;
    return log;
  }
  static void callback(ggml_log_level level, const char* text, void*) {
    auto& self = instance();
    if (level == GGML_LOG_LEVEL_ERROR || level == GGML_LOG_LEVEL_WARN) {
      std::lock_guard lock(self.mu);
      if (level == GGML_LOG_LEVEL_ERROR) {
        self.last_error += text;
        if (self.last_error.size() > 4096) self.last_error.erase(0, self.last_error.size() - 4096);
      }
    }
    if (!self.quiet || level == GGML_LOG_LEVEL_ERROR) std::fputs(text, stderr);
  }
  std::string take_error() {
    std::lock_guard lock(mu);
    std::string e;
    e.swap(last_error);
    while (!e.empty() && (e.back() == '\n' || e.back() == ' ')) e.pop_back();
    return e;
  }
};

inline void llama_cpp_init(bool quiet) {
  static std::once_flag once;
  std::call_once(once, [] {
    llama_log_set(&llama_cpp_log::callback, nullptr);
    llama_backend_init();
  });
  llama_cpp_log::instance().quiet = quiet;
}

struct llama_model_deleter {
  void operator()(llama_model* m) const noexcept { llama_model_free(m); }
};
struct llama_context_deleter {
  void operator()(llama_context* c) const noexcept { llama_free(c); }
};

// Checks the file before llama.cpp sees it, so that each failure gets its own id: missing file, not a
// GGUF (or truncated), an architecture llama.cpp does not know. returns: general.architecture.
inline std::string llama_cpp_check_gguf(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw io_error("llama_cpp.open", "GGUF file '" + path.string() + "' does not exist");
  gguf_init_params params{};
  params.no_alloc = true;
  params.ctx = nullptr;
  gguf_context* g = gguf_init_from_file(path.string().c_str(), params);
  if (!g) {
    const std::string why = llama_cpp_log::instance().take_error();
    throw format_error("llama_cpp.gguf", "'" + path.string() + "' is not a valid GGUF file" +
                                             (why.empty() ? std::string() : ": " + why));
  }
  std::string arch;
  const int64_t key = gguf_find_key(g, "general.architecture");
  if (key >= 0 && gguf_get_kv_type(g, key) == GGUF_TYPE_STRING) arch = gguf_get_val_str(g, key);
  gguf_free(g);
  if (arch.empty()) throw format_error("llama_cpp.gguf", "'" + path.string() + "' has no general.architecture");
  return arch;
}

// llama.cpp's RPC client (ggml-rpc.cpp) has no error path: a failed connect, a failed handshake or a
// connection that breaks during a command ends in GGML_ABORT, and its sends (without MSG_NOSIGNAL) can
// raise SIGPIPE first. What uag can check it checks before handing work to it, so that these become typed
// errors: the endpoint's syntax; a connect and HELLO handshake with a bounded timeout at load; before every
// llama_decode, whether a server has closed its connection. A server that dies *during* a llama_decode
// cannot be caught: the process aborts, after a line naming [uag.llama_cpp.rpc] on stderr.
struct rpc_endpoint {
  std::string host;
  int port = 0;
};

// "host:port", port in [1, 65535]; IPv4 names and addresses only (ggml-rpc resolves with gethostbyname).
inline std::optional<rpc_endpoint> llama_cpp_parse_rpc_endpoint(std::string_view s) {
  const std::size_t colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == s.size() || s.size() - colon - 1 > 5)
    return std::nullopt;
  int port = 0;
  for (const char c : s.substr(colon + 1)) {
    if (c < '0' || c > '9') return std::nullopt;
    port = port * 10 + (c - '0');
  }
  if (port < 1 || port > 65535) return std::nullopt;
  for (const char c : s.substr(0, colon))
    if (c == ' ' || c == '/' || c == '\t') return std::nullopt;
  return rpc_endpoint{std::string(s.substr(0, colon)), port};
}

#if defined(__unix__) || defined(__APPLE__)
// First IPv4 address of the endpoint (what ggml-rpc connects to), or why there is none.
inline std::optional<sockaddr_in> llama_cpp_resolve(const rpc_endpoint& ep, std::string& why) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const int rc = getaddrinfo(ep.host.c_str(), nullptr, &hints, &res);
  if (rc != 0 || !res) {
    why = std::string("cannot resolve host '") + ep.host + "': " + gai_strerror(rc);
    return std::nullopt;
  }
  sockaddr_in addr{};
  std::memcpy(&addr, res->ai_addr, sizeof addr);
  freeaddrinfo(res);
  addr.sin_port = htons(static_cast<uint16_t>(ep.port));
  return addr;
}

// Connects and sends ggml-rpc's HELLO (command 14: 24 bytes of transport capabilities, all zero = TCP),
// expecting its 28-byte answer (protocol major.minor.patch, padding, capabilities). The server then reads
// end of stream and waits for its next client. returns: "" when the server speaks this llama.cpp's
// protocol, else why not. cost: one connection, at most timeout_ms.
inline std::string llama_cpp_rpc_probe(const rpc_endpoint& ep, int timeout_ms) {
  std::string why;
  const auto addr = llama_cpp_resolve(ep, why);
  if (!addr) return why;
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::string("socket(): ") + std::strerror(errno);
  struct closer {
    int fd;
    ~closer() { ::close(fd); }
  } close_fd{fd};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  auto left_ms = [&] {
    return static_cast<int>(std::max<long long>(
        0, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count()));
  };
  const int flags = fcntl(fd, F_GETFL, 0);
  fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&*addr), sizeof *addr) != 0) {
    if (errno != EINPROGRESS) return std::string("connect: ") + std::strerror(errno);
    pollfd p{fd, POLLOUT, 0};
    if (poll(&p, 1, left_ms()) <= 0) return "no connection within " + std::to_string(timeout_ms) + " ms";
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return std::string("connect: ") + std::strerror(err);
  }
  // Non-blocking I/O bounded by the same deadline: a server busy with another client (rpc-server serves
  // one at a time) or something else listening on the port does not answer.
  auto io = [&](bool out, void* data, std::size_t size) -> std::string {
    auto* p = static_cast<char*>(data);
    while (size > 0) {
      pollfd pf{fd, static_cast<short>(out ? POLLOUT : POLLIN), 0};
      if (poll(&pf, 1, left_ms()) <= 0)
        return "no answer to the RPC handshake within " + std::to_string(timeout_ms) +
               " ms (busy with another client, or not an rpc-server)";
      const ssize_t n = out ? ::send(fd, p, size, MSG_NOSIGNAL) : ::recv(fd, p, size, 0);
      if (n == 0) return "connection closed during the RPC handshake (not an rpc-server?)";
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
        return std::string("RPC handshake: ") + std::strerror(errno);
      }
      p += n;
      size -= static_cast<std::size_t>(n);
    }
    return {};
  };
  unsigned char hello[1 + 8 + 24] = {14};
  const std::uint64_t req_size = 24;
  std::memcpy(hello + 1, &req_size, 8);
  if (auto e = io(true, hello, sizeof hello); !e.empty()) return e;
  std::uint64_t rsp_size = 0;
  if (auto e = io(false, &rsp_size, 8); !e.empty()) return e;
  if (rsp_size != 28) return "unexpected RPC handshake answer (" + std::to_string(rsp_size) + " bytes): not an rpc-server?";
  unsigned char rsp[28];
  if (auto e = io(false, rsp, sizeof rsp); !e.empty()) return e;
#if defined(RPC_PROTO_MAJOR_VERSION)
  if (rsp[0] != RPC_PROTO_MAJOR_VERSION || rsp[1] > RPC_PROTO_MINOR_VERSION)
    return "rpc-server speaks RPC protocol " + std::to_string(rsp[0]) + "." + std::to_string(rsp[1]) + "." +
           std::to_string(rsp[2]) + ", this llama.cpp " + std::to_string(RPC_PROTO_MAJOR_VERSION) + "." +
           std::to_string(RPC_PROTO_MINOR_VERSION) + " (build both from one llama.cpp release)";
#endif
  return {};
}

// The connected TCP sockets of this process whose peer is addr: ggml-rpc's connection to one server
// (one per endpoint, shared by every model using it). Linux only (/proc/self/fd); elsewhere none.
inline std::vector<int> llama_cpp_sockets_to(const sockaddr_in& addr) {
  std::vector<int> fds;
#if defined(__linux__)
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
    int fd = -1;
    try {
      fd = std::stoi(e.path().filename().string());
    } catch (...) {
      continue;
    }
    sockaddr_in peer{};
    socklen_t len = sizeof peer;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) != 0 || peer.sin_family != AF_INET) continue;
    if (peer.sin_port == addr.sin_port && peer.sin_addr.s_addr == addr.sin_addr.s_addr) fds.push_back(fd);
  }
#else
  (void)addr;
#endif
  return fds;
}

// True when the peer has closed or reset the connection. Between llama_decode calls an rpc-server sends
// nothing unasked, so this reads no data (and consumes none). cost: one poll(), no waiting.
inline bool llama_cpp_socket_closed(int fd) {
#if defined(POLLRDHUP)
  pollfd p{fd, static_cast<short>(POLLIN | POLLRDHUP), 0};
  if (poll(&p, 1, 0) <= 0) return false;
  return (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
#else
  char c;
  const ssize_t n = ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
#endif
}
#else
inline bool llama_cpp_socket_closed(int) { return false; }
#endif  // unix

// ggml-rpc's GGML_ABORT (a connection that breaks during a command) runs on its dispatcher thread and ends
// in abort(); an exception cannot cross it. While a decode over RPC is in flight, llama_cpp_model runs it
// on a thread of its own (llama_cpp_model::rpc_runner) and waits here: the abort callback records the
// break, wakes the waiting caller, who throws a typed error, and parks the aborting thread for good instead
// of returning to abort(). Outside a decode (load, freeing) the process still aborts, after a line with
// uag's id. The state is never destroyed: parked threads outlive static destruction.
struct llama_cpp_rpc_watch {
  std::mutex mu;
  std::condition_variable cv;
  std::uint64_t breaks = 0;   // connections that broke during a decode, ever
  std::string message;        // ggml's message for the last of them
  int decodes_in_flight = 0;  // decodes over RPC running on runner threads now

  static llama_cpp_rpc_watch& instance() {
    static auto* w = new llama_cpp_rpc_watch;
    return *w;
  }
};

inline ggml_abort_callback_t& llama_cpp_previous_abort_callback() {
  static ggml_abort_callback_t previous = nullptr;
  return previous;
}
inline void llama_cpp_abort_callback(const char* message) {
  if (std::strstr(message, "RPC") || std::strstr(message, "rpc")) {
    auto& w = llama_cpp_rpc_watch::instance();
    std::unique_lock lock(w.mu);
    if (w.decodes_in_flight > 0) {
      ++w.breaks;
      w.message = message;
      lock.unlock();
      w.cv.notify_all();
      for (;;) std::this_thread::sleep_for(std::chrono::hours(24));
    }
    lock.unlock();
    std::fputs("[uag.llama_cpp.rpc] the connection to an rpc-server broke outside a decode (loading or freeing a "
               "model); llama.cpp's RPC client cannot recover from that and aborts the process\n",
               stderr);
  }
  if (auto previous = llama_cpp_previous_abort_callback()) {
    previous(message);
  } else {
    std::fprintf(stderr, "%s\n", message);
  }
}

// Endpoints whose connection broke in this process. ggml-rpc keeps one connection per endpoint for as long
// as any buffer on it lives, and the buffers of a model that lost a server cannot be freed (see
// llama_cpp_model::~llama_cpp_model): a new model on such an endpoint would be handed the dead connection.
inline std::vector<std::string>& llama_cpp_lost_endpoints() {
  static std::vector<std::string> lost;
  return lost;
}
inline std::mutex& llama_cpp_lost_mutex() {
  static std::mutex mu;
  return mu;
}

// Checks every endpoint before ggml-rpc sees it. Throws input_error [uag.llama_cpp.rpc_endpoint],
// io_error [uag.llama_cpp.rpc] (unreachable, no handshake), unsupported_error [uag.llama_cpp.rpc].
inline void llama_cpp_check_rpc_servers(const llama_cpp_options& opt) {
  for (const std::string& endpoint : opt.rpc_servers) {
    const auto ep = llama_cpp_parse_rpc_endpoint(endpoint);
    if (!ep)
      throw input_error("llama_cpp.rpc_endpoint",
                        "'" + endpoint + "' is not an rpc-server endpoint HOST:PORT (IPv4 host or name, port 1-65535)");
    if (!ggml_backend_reg_by_name("RPC"))
      throw unsupported_error("llama_cpp.rpc", "llama.cpp was built without GGML_RPC; cannot use '" + endpoint + "'");
    {
      std::lock_guard lock(llama_cpp_lost_mutex());
      const auto& lost = llama_cpp_lost_endpoints();
      if (std::find(lost.begin(), lost.end(), endpoint) != lost.end())
        throw io_error("llama_cpp.rpc", "the connection to rpc-server '" + endpoint + "' broke earlier in this process "
                                        "and llama.cpp cannot open a new one: restart the process");
    }
#if defined(__unix__) || defined(__APPLE__)
    const std::string why = llama_cpp_rpc_probe(*ep, std::max(opt.rpc_timeout_ms, 1));
    if (!why.empty()) throw io_error("llama_cpp.rpc", "cannot use rpc-server at '" + endpoint + "': " + why);
#endif
  }
  static std::once_flag once;
  std::call_once(once, [] {
    llama_cpp_previous_abort_callback() = ggml_set_abort_callback(&llama_cpp_abort_callback);
#if defined(__unix__) || defined(__APPLE__)
    // ggml-rpc sends without MSG_NOSIGNAL: a server that dies would end the process by SIGPIPE, silently,
    // before any check or message. Ignore SIGPIPE unless the program installed its own handler.
    struct sigaction sa{};
    if (sigaction(SIGPIPE, nullptr, &sa) == 0 && sa.sa_handler == SIG_DFL) std::signal(SIGPIPE, SIG_IGN);
#endif
  });
}

// One device per rpc-server (its first device); the model's offloaded layers are split over them.
// Found through the backend registry, as llama.cpp's own tools do: ggml-rpc.h is installed whether or not
// the library was built with GGML_RPC, and a dynamically loaded backend has no link-time symbol at all.
// requires: llama_cpp_check_rpc_servers passed for endpoint.
inline ggml_backend_dev_t llama_cpp_rpc_device(const std::string& endpoint) {
  ggml_backend_reg_t rpc = ggml_backend_reg_by_name("RPC");
  using add_server_fn = ggml_backend_reg_t (*)(const char*);
  const auto add_server =
      rpc ? reinterpret_cast<add_server_fn>(ggml_backend_reg_get_proc_address(rpc, "ggml_backend_rpc_add_server"))
          : nullptr;
  if (!add_server)
    throw unsupported_error("llama_cpp.rpc", "llama.cpp was built without GGML_RPC; cannot use '" + endpoint + "'");
  ggml_backend_reg_t reg = add_server(endpoint.c_str());
  if (!reg || ggml_backend_reg_dev_count(reg) == 0)
    throw io_error("llama_cpp.rpc", "rpc-server at '" + endpoint + "' offers no device");
  return ggml_backend_reg_dev_get(reg, 0);
}

inline std::shared_ptr<llama_model> llama_cpp_load(const std::filesystem::path& path, const llama_cpp_options& opt,
                                                   bool vocab_only, std::vector<ggml_backend_dev_t>& devices) {
  llama_cpp_init(opt.quiet);
  const std::string arch = llama_cpp_check_gguf(path);
  llama_model_params mp = llama_model_default_params();
  mp.vocab_only = vocab_only;
  mp.n_gpu_layers = opt.n_gpu_layers;
  devices.clear();
  if (!opt.rpc_servers.empty()) {
    llama_cpp_check_rpc_servers(opt);
    for (const std::string& endpoint : opt.rpc_servers) {
      ggml_backend_dev_t dev = llama_cpp_rpc_device(endpoint);
      devices.push_back(dev);
    }
    devices.push_back(nullptr);
    mp.devices = devices.data();
    if (opt.n_gpu_layers == 0) mp.n_gpu_layers = -1;  // RPC servers are useless without layers on them
  }
  llama_model* m = llama_model_load_from_file(path.string().c_str(), mp);
  if (!m) {
    const std::string why = llama_cpp_log::instance().take_error();
    if (why.find("unknown model architecture") != std::string::npos)
      throw unsupported_error("llama_cpp.architecture",
                              "llama.cpp does not support architecture '" + arch + "' of '" + path.string() + "'");
    throw format_error("llama_cpp.load", "llama.cpp could not load '" + path.string() + "' (architecture '" + arch +
                                             "')" + (why.empty() ? std::string() : ": " + why));
  }
  return std::shared_ptr<llama_model>(m, llama_model_deleter{});
}

}  // namespace detail

/// @brief True when llama.cpp's CPU matrix products give a row the same bits whether it is computed alone or
/// in a batch (no llamafile sgemm). Without it, greedy assisted output can differ from target-only output
/// where the two best logits are within rounding of each other.
inline bool llama_cpp_batch_invariant() { return ggml_cpu_has_llamafile() == 0; }

/// @brief uag::tokenizer over a GGUF's vocabulary (llama_vocab): encode/decode through llama.cpp, token
/// bytes from llama_token_to_piece. Copies share the underlying model (vocab-only when loaded alone).
class llama_cpp_tokenizer {
 public:
  /// @brief Loads only the vocabulary of a GGUF file. Throws io_error [uag.llama_cpp.open], format_error
  /// [uag.llama_cpp.gguf]/[uag.llama_cpp.load], unsupported_error [uag.llama_cpp.architecture].
  static llama_cpp_tokenizer from_file(const std::filesystem::path& path, bool quiet = true) {
    llama_cpp_options opt;
    opt.quiet = quiet;
    std::vector<ggml_backend_dev_t> devices;
    return llama_cpp_tokenizer(detail::llama_cpp_load(path, opt, true, devices));
  }

  /// requires: model is a loaded llama_model (the tokenizer keeps it alive). cost: O(vocab) to build the
  /// token-bytes table and the fingerprint.
  explicit llama_cpp_tokenizer(std::shared_ptr<llama_model> model)
      : model_(std::move(model)), vocab_(llama_model_get_vocab(model_.get())) {
    const auto n = static_cast<std::size_t>(llama_vocab_n_tokens(vocab_));
    special_.assign(n, 0);
    offsets_.reserve(n + 1);
    offsets_.push_back(0);
    std::uint64_t h = 1469598103934665603ull;  // FNV-1a over everything that decides encode/decode
    auto mix = [&h](const void* p, std::size_t len) {
      const auto* b = static_cast<const unsigned char*>(p);
      for (std::size_t i = 0; i < len; ++i) h = (h ^ b[i]) * 1099511628211ull;
    };
    const int type = llama_vocab_type(vocab_);
    mix(&type, sizeof type);
    strip_leading_space_ = type == LLAMA_VOCAB_TYPE_SPM;
    char buf[256];
    for (std::size_t i = 0; i < n; ++i) {
      const auto id = static_cast<llama_token>(i);
      const auto attr = static_cast<int>(llama_vocab_get_attr(vocab_, id));
      const bool special = (attr & (LLAMA_TOKEN_ATTR_CONTROL | LLAMA_TOKEN_ATTR_UNKNOWN)) != 0;
      special_[i] = special ? 1 : 0;
      if (!special) {
        int len = llama_token_to_piece(vocab_, id, buf, sizeof buf, 0, false);
        if (len > 0) {
          bytes_.append(buf, static_cast<std::size_t>(len));
        } else if (len < 0) {
          std::string big(static_cast<std::size_t>(-len), '\0');
          len = llama_token_to_piece(vocab_, id, big.data(), -len, 0, false);
          bytes_.append(big.data(), static_cast<std::size_t>(std::max(len, 0)));
        }
      }
      offsets_.push_back(static_cast<std::uint32_t>(bytes_.size()));
      const char* text = llama_vocab_get_text(vocab_, id);
      mix(text, std::char_traits<char>::length(text) + 1);
      const float score = llama_vocab_get_score(vocab_, id);
      mix(&score, sizeof score);
      mix(&attr, sizeof attr);
    }
    if (llama_vocab_bos(vocab_) != LLAMA_TOKEN_NULL) bos_ = llama_vocab_bos(vocab_);
    if (llama_vocab_eos(vocab_) != LLAMA_TOKEN_NULL) eos_ = llama_vocab_eos(vocab_);
    const bool flags[2] = {llama_vocab_get_add_bos(vocab_), llama_vocab_get_add_eos(vocab_)};
    mix(flags, sizeof flags);
    fingerprint_ = h;
  }

  /// @brief Ids of text, as llama_tokenize gives them (special tokens written in the text are recognised,
  /// as HF does). Throws input_error [uag.tokenizer.utf8] on invalid UTF-8.
  token_vector encode(std::string_view text, bool add_special_tokens) const {
    token_vector out;
    encode_into(text, add_special_tokens, out);
    return out;
  }

  /// @brief As encode(), into out (its storage is reused: no allocation once it is large enough, which is
  /// what the bridge's per-step re-encoding needs). On a throw, out is empty.
  void encode_into(std::string_view text, bool add_special_tokens, token_vector& out) const {
    out.clear();
    if (!utf8::is_valid(text))
      throw input_error("tokenizer.utf8", "text to encode is not valid UTF-8 (byte " +
                                              std::to_string(utf8::valid_prefix_length(text)) + ")");
    if (text.size() > static_cast<std::size_t>(INT32_MAX / 2))
      throw input_error("llama_cpp.text_size", "text of " + std::to_string(text.size()) + " bytes is too long");
    out.resize(std::max(out.capacity(), text.size() + 4));
    int32_t n = llama_tokenize(vocab_, text.data(), static_cast<int32_t>(text.size()), out.data(),
                               static_cast<int32_t>(out.size()), add_special_tokens, true);
    if (n < 0 && n != INT32_MIN) {
      out.resize(static_cast<std::size_t>(-n));
      n = llama_tokenize(vocab_, text.data(), static_cast<int32_t>(text.size()), out.data(),
                         static_cast<int32_t>(out.size()), add_special_tokens, true);
    }
    if (n < 0) {
      out.clear();
      throw tokenizer_error("llama_cpp.tokenize", "llama_tokenize failed (" + std::to_string(n) + ")");
    }
    out.resize(static_cast<std::size_t>(n));
  }

  /// @brief Text of ids: the tokens' bytes concatenated (control tokens dropped when skip_special_tokens,
  /// their text otherwise), then, for SentencePiece vocabularies, one leading space removed, as HF's
  /// Llama/Mistral decoders do (llama_detokenize removes it only from the first token, which is often BOS,
  /// and applies its own space clean-up: both would differ from hf_tokenizer). Invalid UTF-8 becomes
  /// U+FFFD. Throws input_error [uag.tokenizer.id] for an id outside [0, vocab_size()).
  std::string decode(token_span ids, bool skip_special_tokens) const {
    check_ids(ids);
    std::string bytes;
    for (const token_id id : ids) {
      if (special_[static_cast<std::size_t>(id)]) {
        if (!skip_special_tokens) bytes += llama_vocab_get_text(vocab_, id);
      } else {
        bytes += token_bytes(id);
      }
    }
    if (strip_leading_space_ && !bytes.empty() && bytes.front() == ' ') bytes.erase(0, 1);
    if (utf8::is_valid(bytes)) return bytes;
    std::string out;
    out.reserve(bytes.size() + 8);
    detail::unicode::append_lossy(out, bytes);
    return out;
  }

  /// @brief Raw bytes of the token in running text ('▁' -> ' ', <0xNN> -> the byte, byte-level alphabet ->
  /// bytes); "" for control/unknown tokens and ids out of range. cost: O(1), a view into a table.
  std::string_view token_bytes(token_id id) const noexcept {
    if (id < 0 || static_cast<std::size_t>(id) + 1 >= offsets_.size()) return {};
    const auto i = static_cast<std::size_t>(id);
    return std::string_view(bytes_).substr(offsets_[i], offsets_[i + 1] - offsets_[i]);
  }

  std::size_t vocab_size() const noexcept { return special_.size(); }
  std::optional<token_id> bos_id() const noexcept { return bos_; }
  std::optional<token_id> eos_id() const noexcept { return eos_; }
  /// @brief True for control and unknown tokens.
  bool is_special(token_id id) const noexcept {
    return id >= 0 && static_cast<std::size_t>(id) < special_.size() && special_[static_cast<std::size_t>(id)];
  }
  /// @brief Hash of the vocabulary (texts, scores, attributes, type, BOS/EOS flags): two GGUFs of one model
  /// (an F16 target and its Q4 copy) share it, so a bridged draft takes the same-vocabulary fast path.
  std::uint64_t fingerprint() const noexcept { return fingerprint_; }
  /// @brief llama.cpp's add-BOS flag for this vocabulary.
  bool add_bos() const noexcept { return llama_vocab_get_add_bos(vocab_); }
  const llama_vocab* vocab() const noexcept { return vocab_; }

 private:
  void check_ids(token_span ids) const {
    for (const token_id id : ids)
      if (id < 0 || static_cast<std::size_t>(id) >= special_.size())
        throw input_error("tokenizer.id", "token id " + std::to_string(id) + " is out of range (vocab size " +
                                              std::to_string(special_.size()) + ")");
  }

  std::shared_ptr<llama_model> model_;
  const llama_vocab* vocab_ = nullptr;
  std::string bytes_;                    // id -> token_bytes
  std::vector<std::uint32_t> offsets_;   // (vocab + 1)
  std::vector<std::uint8_t> special_;    // (vocab)
  std::optional<token_id> bos_, eos_;
  std::uint64_t fingerprint_ = 0;
  bool strip_leading_space_ = false;     // SentencePiece: decode drops the space its encoder prefixed
};

/// @brief uag::causal_lm (with partial logits and tokenizer()) over a llama_model + llama_context, sequence 0.
///
/// forward() is one llama_decode with logits for every row (verification reads them all); the returned
/// view points into llama.cpp's output buffer, valid until the next forward() or truncate(). truncate()
/// drops positions through llama_memory_seq_rm. No allocation per step: the batch is allocated once for
/// the whole context.
class llama_cpp_model {
 public:
  /// @brief Loads a GGUF model and creates its context. Throws io_error [uag.llama_cpp.open],
  /// format_error [uag.llama_cpp.gguf] / [uag.llama_cpp.load], unsupported_error
  /// [uag.llama_cpp.architecture], model_error [uag.llama_cpp.context_init], io_error [uag.llama_cpp.rpc].
  static llama_cpp_model from_file(const std::filesystem::path& path, const llama_cpp_options& opt = {}) {
    std::vector<ggml_backend_dev_t> devices;
    auto model = detail::llama_cpp_load(path, opt, false, devices);
    return llama_cpp_model(std::move(model), opt);
  }

  /// requires: model is a loaded llama_model (not vocab-only).
  llama_cpp_model(std::shared_ptr<llama_model> model, const llama_cpp_options& opt)
      : model_(model), tok_(model) {
    llama_context_params cp = llama_context_default_params();
    const auto train_ctx = static_cast<std::size_t>(std::max(llama_model_n_ctx_train(model_.get()), 1));
    n_ctx_ = opt.n_ctx ? opt.n_ctx : std::min<std::size_t>(train_ctx, 4096);
    n_ctx_ = (n_ctx_ + 255) / 256 * 256;  // llama.cpp pads the context to 256; the batch must match it
    cp.n_ctx = static_cast<uint32_t>(n_ctx_);
    cp.n_batch = cp.n_ctx;  // any forward() fits one llama_decode (logical batch); ubatches chunk it
    cp.n_ubatch = static_cast<uint32_t>(std::min(opt.n_ubatch, n_ctx_));
    cp.n_seq_max = 1;
    const int threads = opt.n_threads > 0 ? opt.n_threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    cp.n_threads = threads;
    cp.n_threads_batch = threads;
    cp.flash_attn_type = opt.flash_attention ? LLAMA_FLASH_ATTN_TYPE_ENABLED : LLAMA_FLASH_ATTN_TYPE_DISABLED;
    cp.type_k = opt.f16_kv_cache ? GGML_TYPE_F16 : GGML_TYPE_F32;
    cp.type_v = cp.type_k;
    cp.no_perf = true;
    llama_context* c = llama_init_from_model(model_.get(), cp);
    if (!c) {
      const std::string why = detail::llama_cpp_log::instance().take_error();
      throw model_error("llama_cpp.context_init", "llama_init_from_model failed for a context of " +
                                                      std::to_string(n_ctx_) + " tokens" +
                                                      (why.empty() ? std::string() : ": " + why));
    }
    ctx_.reset(c);
    n_ctx_ = std::min<std::size_t>(llama_n_ctx(c), llama_n_batch(c));  // one forward() = one llama_decode
    vocab_size_ = static_cast<std::size_t>(llama_vocab_n_tokens(llama_model_get_vocab(model_.get())));
    batch_ = llama_batch_init(static_cast<int32_t>(n_ctx_), 0, 1);
    for (std::size_t i = 0; i < n_ctx_; ++i) {
      batch_.n_seq_id[i] = 1;
      batch_.seq_id[i][0] = 0;
    }
#if defined(__unix__) || defined(__APPLE__)
    // ggml-rpc keeps one connection per server while buffers on it live (the model's and this context's):
    // find them now, to check them before each decode.
    for (const std::string& endpoint : opt.rpc_servers) {
      std::string why;
      const auto ep = detail::llama_cpp_parse_rpc_endpoint(endpoint);
      const auto addr = ep ? detail::llama_cpp_resolve(*ep, why) : std::nullopt;
      if (addr)
        for (const int fd : detail::llama_cpp_sockets_to(*addr)) rpc_sockets_.push_back({endpoint, fd});
    }
    if (opt.rpc_io_timeout_ms > 0) {
      // ggml-rpc treats a timed-out send/recv like a broken connection: decode_over_rpc turns it into a
      // typed error. The sockets are shared by every model on the same servers: the last setting holds.
      timeval tv{};
      tv.tv_sec = opt.rpc_io_timeout_ms / 1000;
      tv.tv_usec = (opt.rpc_io_timeout_ms % 1000) * 1000;
      for (const rpc_socket& s : rpc_sockets_) {
        setsockopt(s.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(s.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      }
    }
#endif
    if (opt.n_gpu_layers != 0 || !llama_cpp_batch_invariant()) batch_tolerance_ = measure_batch_tolerance();
    if (opt.batch_tolerance >= 0.0f) batch_tolerance_ = opt.batch_tolerance;
  }

  llama_cpp_model(llama_cpp_model&& o) noexcept
      : model_(std::move(o.model_)), ctx_(std::move(o.ctx_)), tok_(std::move(o.tok_)), batch_(o.batch_),
        n_ctx_(o.n_ctx_), vocab_size_(o.vocab_size_), n_cached_(o.n_cached_), batch_tolerance_(o.batch_tolerance_),
        rpc_sockets_(std::move(o.rpc_sockets_)), rpc_lost_(o.rpc_lost_), runner_(std::move(o.runner_)) {
    o.batch_ = llama_batch{};
  }
  llama_cpp_model& operator=(llama_cpp_model&&) = delete;
  llama_cpp_model(const llama_cpp_model&) = delete;
  llama_cpp_model& operator=(const llama_cpp_model&) = delete;
  ~llama_cpp_model() {
    if (runner_) {
      auto& w = detail::llama_cpp_rpc_watch::instance();
      {
        std::lock_guard lock(w.mu);
        runner_->stop = true;
      }
      w.cv.notify_all();
      if (runner_->abandoned) {
        runner_->thread.detach();  // stuck in llama.cpp for good; it owns its state from now on
        (void)runner_.release();
      } else {
        runner_->thread.join();
      }
    }
    if (batch_.token) llama_batch_free(batch_);
    if (rpc_lost_) {
      // Freeing buffers held by a server that is gone sends a command on a dead connection, and ggml-rpc
      // aborts on that: leak the context and the model instead (kept alive by a copy nobody frees).
      (void)ctx_.release();
      (void)new std::shared_ptr<llama_model>(model_);
    }
  }

  /// @brief Width of a logits row (the GGUF vocabulary size).
  std::size_t vocab_size() const noexcept { return vocab_size_; }
  std::size_t n_cached() const noexcept { return n_cached_; }
  std::size_t max_context() const noexcept { return n_ctx_; }
  const llama_cpp_tokenizer& tokenizer() const noexcept { return tok_; }
  /// @brief How far a row of a batched forward() may be from the same row decoded alone, per logit: 0 on
  /// llama.cpp's CPU backend without llamafile (bit-identical), measured at load where layers are on a GPU
  /// (other kernels for other batch sizes), or llama_cpp_options::batch_tolerance. AssistedGenerator
  /// re-decides batched rows closer than twice this with a single-token pass.
  float batch_tolerance() const noexcept { return batch_tolerance_; }

  /// @brief Appends ids to sequence 0 and returns one logits row per id, from one llama_decode.
  /// Throws input_error [uag.llama_cpp.context] when the ids do not fit the context, input_error
  /// [uag.llama_cpp.token] for an id outside the vocabulary, model_error [uag.llama_cpp.decode] when
  /// llama_decode fails (the cache is then rolled back to n_cached()), io_error [uag.llama_cpp.rpc] when an
  /// rpc-server holding layers has closed its connection (the model is then unusable: load it again; it
  /// is leaked, not freed, since llama.cpp would abort freeing it). A server that dies during the
  /// llama_decode itself aborts the process inside llama.cpp (after a [uag.llama_cpp.rpc] line on stderr).
  logits_view forward(token_span ids) { return forward(ids, ids.size()); }

  /// @brief As forward(ids), with logits only for the last n_rows ids (prefill, draft catch-up).
  logits_view forward(token_span ids, std::size_t n_rows) {
    if (ids.empty()) return {nullptr, 0, vocab_size_};
    if (ids.size() > n_ctx_ - n_cached_)
      throw input_error("llama_cpp.context", std::to_string(ids.size()) + " tokens do not fit: " +
                                                 std::to_string(n_cached_) + " of " + std::to_string(n_ctx_) +
                                                 " context positions are in use");
    n_rows = std::min(n_rows, ids.size());
    const std::size_t first_row = ids.size() - n_rows;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (ids[i] < 0 || static_cast<std::size_t>(ids[i]) >= vocab_size_)
        throw input_error("llama_cpp.token", "token id " + std::to_string(ids[i]) + " is out of range (vocab size " +
                                                 std::to_string(vocab_size_) + ")");
      batch_.token[i] = ids[i];
      batch_.pos[i] = static_cast<llama_pos>(n_cached_ + i);
      batch_.logits[i] = i >= first_row ? 1 : 0;
    }
    batch_.n_tokens = static_cast<int32_t>(ids.size());
    check_rpc_servers();
    const float* data = nullptr;
    const int32_t rc = rpc_sockets_.empty() ? llama_decode(ctx_.get(), batch_) : decode_over_rpc(n_rows > 0, data);
    if (rc != 0) {
      // A failed decode may have stored some ubatches: drop them so the cache matches n_cached().
      llama_memory_seq_rm(llama_get_memory(ctx_.get()), 0, static_cast<llama_pos>(n_cached_), -1);
      const std::string why = detail::llama_cpp_log::instance().take_error();
      throw model_error("llama_cpp.decode", "llama_decode failed with code " + std::to_string(rc) + " on " +
                                                std::to_string(ids.size()) + " tokens" +
                                                (why.empty() ? std::string() : ": " + why));
    }
    n_cached_ += ids.size();
    if (n_rows == 0) {
      // Nothing is read, so nothing would wait for the decode: on a GPU it would still be running when
      // this returns and the next forward (the first token's) would pay for it. Wait here, so that a
      // prefill's time is the prefill's (H200: ~1 ms of every prompt's prefill was timed as decode).
      if (rpc_sockets_.empty()) llama_synchronize(ctx_.get());
      return {nullptr, 0, vocab_size_};
    }
    // Rows come back in batch order (llama_get_logits reorders outputs), contiguous.
    if (!data) data = llama_get_logits(ctx_.get());
    if (!data) throw model_error("llama_cpp.logits", "llama.cpp returned no logits");
    return {data, n_rows, vocab_size_};
  }

  /// @brief Rolls the cache back to its first n tokens. Throws model_error [uag.llama_cpp.truncate] if
  /// n > n_cached() or llama.cpp cannot remove the positions.
  void truncate(std::size_t n) {
    if (n > n_cached_)
      throw model_error("llama_cpp.truncate", "cannot truncate " + std::to_string(n_cached_) + " cached tokens to " +
                                                  std::to_string(n));
    if (n == n_cached_) return;
    if (!llama_memory_seq_rm(llama_get_memory(ctx_.get()), 0, static_cast<llama_pos>(n), -1))
      throw model_error("llama_cpp.truncate", "llama_memory_seq_rm refused to drop positions from " +
                                                  std::to_string(n));
    n_cached_ = n;
  }

  llama_context* context() noexcept { return ctx_.get(); }
  const llama_model* model() const noexcept { return model_.get(); }
  /// @brief Connections to rpc-servers that forward() checks before each decode (one per server on Linux;
  /// none elsewhere, where a dead server is only seen by llama.cpp, which aborts).
  std::size_t rpc_connections_checked() const noexcept { return rpc_sockets_.size(); }

 private:
  struct rpc_socket {
    std::string endpoint;
    int fd = -1;
  };

  // A thread that runs this model's decodes over RPC, so that the caller can stop waiting when ggml-rpc's
  // dispatcher reports a broken connection (detail::llama_cpp_rpc_watch). Guarded by the watch's mutex.
  struct rpc_runner {
    std::thread thread;
    bool has_job = false, done = false, stop = false, abandoned = false;
    bool want_logits = false;
    llama_batch batch{};
    int32_t rc = 0;
    const float* logits = nullptr;
  };

  // One llama_decode (and the synchronisation that ends it) on the runner thread. returns: its code;
  // logits set when want_logits. Throws io_error [uag.llama_cpp.rpc] when a connection broke meanwhile.
  // cost: two thread hand-offs (tens of microseconds) on top of the decode.
  int32_t decode_over_rpc(bool want_logits, const float*& logits) {
    auto& w = detail::llama_cpp_rpc_watch::instance();
    std::unique_lock lock(w.mu);
    if (!runner_) {
      runner_ = std::make_unique<rpc_runner>();
      runner_->thread = std::thread([r = runner_.get(), ctx = ctx_.get()] { run_decodes(*r, ctx); });
    }
    rpc_runner& r = *runner_;
    const std::uint64_t breaks = w.breaks;
    r.batch = batch_;
    r.want_logits = want_logits;
    r.done = false;
    r.has_job = true;
    ++w.decodes_in_flight;
    w.cv.notify_all();
    w.cv.wait(lock, [&] { return r.done || w.breaks != breaks; });
    if (r.done) {
      logits = r.logits;
      return r.rc;
    }
    // The runner is stuck inside llama.cpp for good: stop counting it, and give up the model.
    r.abandoned = true;
    --w.decodes_in_flight;
    const std::string ggml_message = w.message;
    lock.unlock();
    std::string lost;
    for (const rpc_socket& s : rpc_sockets_)
      if (detail::llama_cpp_socket_closed(s.fd)) lost += (lost.empty() ? "'" : ", '") + s.endpoint + "'";
    mark_lost();
    std::string all;
    for (const rpc_socket& s : rpc_sockets_) all += (all.empty() ? "'" : ", '") + s.endpoint + "'";
    throw io_error("llama_cpp.rpc",
                   (lost.empty() ? "a connection to rpc-server " + all + " broke or timed out (rpc_io_timeout_ms)"
                                 : "the connection to rpc-server " + lost + " broke") +
                       " during llama_decode (" + ggml_message + "): the model is unusable, load it again in a new process");
  }

  static void run_decodes(rpc_runner& r, llama_context* ctx) {
    auto& w = detail::llama_cpp_rpc_watch::instance();
    std::unique_lock lock(w.mu);
    for (;;) {
      w.cv.wait(lock, [&] { return r.has_job || r.stop; });
      if (r.stop) return;
      r.has_job = false;
      llama_batch batch = r.batch;
      const bool want_logits = r.want_logits;
      lock.unlock();
      const int32_t rc = llama_decode(ctx, batch);
      llama_synchronize(ctx);  // RPC commands still queued would otherwise run outside the watch
      const float* logits = rc == 0 && want_logits ? llama_get_logits(ctx) : nullptr;
      lock.lock();
      if (r.abandoned) return;  // the caller has given up on this model
      --w.decodes_in_flight;
      r.rc = rc;
      r.logits = logits;
      r.done = true;
      w.cv.notify_all();
    }
  }

  // The model is done for. Hang up on the servers still alive (rpc-server serves one client at a time:
  // they would otherwise wait on this process forever), and bar their endpoints in this process.
  void mark_lost() {
    rpc_lost_ = true;
    std::lock_guard lock(detail::llama_cpp_lost_mutex());
    for (const rpc_socket& other : rpc_sockets_) {
#if defined(__unix__) || defined(__APPLE__)
      ::shutdown(other.fd, SHUT_RDWR);
#endif
      detail::llama_cpp_lost_endpoints().push_back(other.endpoint);
    }
  }

  // cost: one poll() per server, no waiting.
  void check_rpc_servers() {
    if (rpc_lost_) throw io_error("llama_cpp.rpc", "an rpc-server of this model was lost earlier: load the model again");
#if defined(__unix__) || defined(__APPLE__)
    for (const rpc_socket& s : rpc_sockets_) {
      if (!detail::llama_cpp_socket_closed(s.fd)) continue;
      mark_lost();
      throw io_error("llama_cpp.rpc", "rpc-server at '" + s.endpoint + "' closed its connection (stopped or crashed) "
                                      "with " + std::to_string(n_cached_) + " tokens in the cache: load the model again");
    }
#endif
  }

  // Decodes a fixed text token by token, then its first n tokens as one batch for every n a verification
  // may use (2..warm_rows rows), and returns twice the largest difference of any logit; leaves the cache
  // empty. The factor covers texts other than this one. Every batch size, because other sizes run other
  // kernels (H200, bundled F16 target: 0.0097 at 5 rows, 0.0286 at some other size); and a GPU backend's
  // first pass over a new number of rows is slow: paid here, at load, not by the first prompt (H200: the
  // first prompt of an assisted run read 0.45x of target-only, 0.60-0.68x with this pass). A generation
  // whose max_draft_tokens is above the default verifies more rows than are measured here. Called where
  // layers are on a GPU (also when llama_cpp_options::batch_tolerance is set) or the CPU backend is not
  // batch-invariant.
  float measure_batch_tolerance() {
    const std::size_t warm_rows = generation_config{}.max_draft_tokens + 1;
    token_vector ids = tok_.encode("def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n"
                                   "    if n < 2:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)\n",
                                   true);
    ids.resize(std::min<std::size_t>({ids.size(), warm_rows, n_ctx_ / 2}));
    if (ids.size() < 2) return 0.0f;
    std::vector<float> single;
    single.reserve(ids.size() * vocab_size_);
    truncate(0);
    for (const token_id id : ids) {
      const logits_view v = forward(token_span(&id, 1));
      single.insert(single.end(), v.data, v.data + vocab_size_);
    }
    float worst = 0.0f;
    for (std::size_t n = 2; n <= ids.size(); ++n) {
      truncate(0);
      const logits_view v = forward(token_span(ids).first(n));
      for (std::size_t i = 0; i < n * vocab_size_; ++i) worst = std::max(worst, std::abs(v.data[i] - single[i]));
    }
    truncate(0);
    return 2.0f * worst;
  }

  std::shared_ptr<llama_model> model_;
  std::unique_ptr<llama_context, detail::llama_context_deleter> ctx_;
  llama_cpp_tokenizer tok_;
  llama_batch batch_{};  // (n_ctx) tokens, positions, logits flags; sequence 0 for every slot
  std::size_t n_ctx_ = 0;
  std::size_t vocab_size_ = 0;
  std::size_t n_cached_ = 0;
  float batch_tolerance_ = 0.0f;         // see batch_tolerance()
  std::vector<rpc_socket> rpc_sockets_;  // ggml-rpc's connections to this model's servers
  bool rpc_lost_ = false;                // a server is gone: no more decodes, leak instead of freeing
  std::unique_ptr<rpc_runner> runner_;   // decodes over RPC (started by the first one)
};

}  // namespace uag
