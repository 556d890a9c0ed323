// The llama.cpp adapter with its target split over rpc-server processes (llama.cpp's RPC backend) on
// 127.0.0.1: output equal to a single local process, typed errors for endpoints that are malformed,
// unreachable or silent, and a server that dies mid-generation ends the generation in bounded time.
//
// Each test starts its own rpc-servers (tests/test_llama_cpp_rpc.cpp's rpc_server: fork + exec, killed
// by its destructor, and by the kernel if this process dies first). The mid-decode death runs in a child
// process (this binary re-executed, see child_main) because llama.cpp aborts the process there.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "uag/adapters/llama_cpp.hpp"
#include "uag/bridge/bridged_draft.hpp"
#include "uag/generation/assisted_generator.hpp"

namespace {

namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

const fs::path gguf_dir = UAG_GGUF_DIR;
const fs::path rpc_server_path = UAG_RPC_SERVER;  // "" when llama.cpp was built without rpc-server

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

fs::path scratch_dir() {
  const fs::path d = fs::path(UAG_BINARY_DIR) / "tests" / ("llama_cpp_rpc_" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d;
}

// A port nothing listens on right now (the kernel's pick for an ephemeral bind, released again).
int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd);
    return 0;
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

// One rpc-server on 127.0.0.1:<free port>, one CPU thread. Lifetime: this object's (SIGKILL + waitpid in
// the destructor, also when a test fails), and never longer than the thread that started it
// (PR_SET_PDEATHSIG), so a crashed or killed test leaves no server behind.
class rpc_server {
 public:
  explicit rpc_server(const fs::path& log) {
    for (int attempt = 0; attempt < 5 && pid_ <= 0; ++attempt) {
      port_ = free_port();
      const std::string port = std::to_string(port_);
      const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      const pid_t parent = ::getpid();
      const pid_t pid = ::fork();
      if (pid == 0) {  // only async-signal-safe calls until exec
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) ::_exit(127);
        if (out >= 0) ::dup2(out, 1), ::dup2(out, 2);
        ::execl(rpc_server_path.c_str(), "rpc-server", "-H", "127.0.0.1", "-p", port.c_str(), "-t", "1",
                static_cast<char*>(nullptr));
        ::_exit(127);
      }
      if (out >= 0) ::close(out);
      pid_ = pid;
      if (!wait_ready(std::chrono::seconds(20))) stop();  // port taken meanwhile, or no start: try another
    }
  }
  ~rpc_server() { stop(); }
  rpc_server(const rpc_server&) = delete;
  rpc_server& operator=(const rpc_server&) = delete;

  bool running() const { return pid_ > 0; }
  std::string endpoint() const { return "127.0.0.1:" + std::to_string(port_); }
  void pause() {
    if (pid_ > 0) ::kill(pid_, SIGSTOP);
  }
  // SIGKILL, then wait until the kernel has closed its sockets (the process is reaped).
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  // Ready = answers ggml-rpc's HELLO (the adapter's own load-time probe), not merely listening.
  bool wait_ready(std::chrono::seconds limit) {
    const auto t0 = clock_type::now();
    const auto ep = *uag::detail::llama_cpp_parse_rpc_endpoint(endpoint());
    while (clock_type::now() - t0 < limit) {
      if (uag::detail::llama_cpp_rpc_probe(ep, 1000).empty()) return true;
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  pid_t pid_ = -1;
  int port_ = 0;
};

uag::llama_cpp_options local_options() {
  uag::llama_cpp_options o;
  o.n_threads = 1;
  o.f16_kv_cache = true;
  o.n_ctx = 512;
  return o;
}

uag::llama_cpp_options rpc_options(const std::vector<std::string>& servers) {
  uag::llama_cpp_options o = local_options();
  o.rpc_servers = servers;
  o.n_gpu_layers = -1;  // every layer on the servers (--gpu-layers all)
  return o;
}

const std::vector<std::string> prompts = {
    "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n",
    "import os\nimport sys\n\n\ndef main(argv):\n",
    "class Stack:\n    def __init__(self):\n",
};

uag::generation_config greedy_config(std::size_t gamma, std::size_t new_tokens = 32) {
  uag::generation_config cfg;
  cfg.max_new_tokens = new_tokens;
  cfg.draft_policy = gamma ? uag::draft_length_policy::constant : uag::draft_length_policy::adaptive;
  cfg.num_draft_tokens = gamma ? gamma : 5;
  return cfg;
}

std::vector<uag::token_vector> target_only(uag::llama_cpp_model& target) {
  std::vector<uag::token_vector> out;
  uag::baseline_generator<uag::llama_cpp_model> gen(target, greedy_config(0));
  for (const auto& p : prompts) {
    gen.generate(p);
    out.emplace_back(gen.output_ids().begin(), gen.output_ids().end());
  }
  return out;
}

template <class F>
uag::error expect_uag_error(F&& f) {
  try {
    f();
  } catch (const uag::error& e) {
    return e;
  }
  ADD_FAILURE() << "no uag::error thrown";
  return uag::error("none", "none");
}

#define UAG_NEED_RPC_SERVER() \
  if (rpc_server_path.empty() || !fs::exists(rpc_server_path)) GTEST_SKIP() << "llama.cpp built without rpc-server"

// ---------------------------------------------------------------------------------------------------------
// Equality: the target split over two servers decodes exactly what it decodes in one local process.

TEST(llama_cpp_rpc_test, target_split_over_two_servers_equals_local_target_only) {
  UAG_NEED_RPC_SERVER();
  const fs::path dir = scratch_dir();
  rpc_server a(dir / "server_a.log"), b(dir / "server_b.log");
  ASSERT_TRUE(a.running() && b.running()) << read_text(dir / "server_a.log") << read_text(dir / "server_b.log");

  auto local = uag::llama_cpp_model::from_file(gguf_dir / "target-f32.gguf", local_options());
  const auto expected = target_only(local);
  auto split = uag::llama_cpp_model::from_file(gguf_dir / "target-f32.gguf", rpc_options({a.endpoint(), b.endpoint()}));
  EXPECT_EQ(split.rpc_connections_checked(), 2u) << "one checked connection per server";
  // Layers off the local CPU: the adapter measured its batch tolerance at load (over RPC), and found the
  // servers' CPU kernels batch-invariant: greedy verification needs no single-token rechecks.
  EXPECT_EQ(split.batch_tolerance(), 0.0f);

  // The same logits, bit for bit: the servers run the same CPU kernels on the same rows.
  const auto ids = local.tokenizer().encode(prompts[0], true);
  local.truncate(0);
  const auto lv = local.forward(ids);
  std::vector<float> local_rows(lv.data, lv.data + lv.rows * lv.cols);
  const auto rv = split.forward(ids);
  ASSERT_EQ(rv.rows, ids.size());
  float worst = 0;
  for (std::size_t i = 0; i < local_rows.size(); ++i) worst = std::max(worst, std::abs(rv.data[i] - local_rows[i]));
  std::cout << "[ rpc ] max |logit(2 servers) - logit(local)| over " << ids.size() << " rows: " << worst << "\n";
  EXPECT_EQ(worst, 0.0f);

  EXPECT_EQ(target_only(split), expected) << "target-only over RPC differs from local target-only";
  auto draft = uag::llama_cpp_model::from_file(gguf_dir / "draft-f32.gguf", local_options());
  uag::bridged_draft<uag::llama_cpp_model, uag::llama_cpp_tokenizer> source(draft, split.tokenizer());
  for (const std::size_t gamma : {0u, 1u, 4u}) {
    uag::AssistedGenerator<uag::llama_cpp_model, decltype(source)> gen(split, source, greedy_config(gamma));
    std::size_t accepted = 0, passes = 0, tokens = 0;
    for (std::size_t i = 0; i < prompts.size(); ++i) {
      gen.generate(prompts[i]);
      EXPECT_EQ(uag::token_vector(gen.output_ids().begin(), gen.output_ids().end()), expected[i])
          << "assisted over RPC, gamma " << gamma << ", prompt " << i;
      accepted += gen.stats().accepted, passes += gen.stats().target_passes, tokens += gen.stats().new_tokens;
    }
    if (gamma == 4) {
      EXPECT_GT(accepted, 0u) << "the draft never helped (broken bridge?)";
    }
    std::cout << "[ rpc ] gamma " << gamma << ": " << tokens << " tokens in " << passes << " target passes\n";
  }
}

// ---------------------------------------------------------------------------------------------------------
// A server that stops between two decodes: the next forward() throws, no abort, nothing hangs.

TEST(llama_cpp_rpc_test, server_gone_between_passes_is_a_typed_error) {
  UAG_NEED_RPC_SERVER();
  const fs::path dir = scratch_dir();
  rpc_server a(dir / "server_a.log"), b(dir / "server_b.log");
  ASSERT_TRUE(a.running() && b.running());
  {
    auto split = uag::llama_cpp_model::from_file(gguf_dir / "target-f32.gguf", rpc_options({a.endpoint(), b.endpoint()}));
    uag::baseline_generator<uag::llama_cpp_model> gen(split, greedy_config(0, 8));
    gen.generate(prompts[0]);
    EXPECT_EQ(gen.output_ids().size(), 8u);
    b.stop();
    const auto t0 = clock_type::now();
    const uag::error e = expect_uag_error([&] { gen.generate(prompts[1]); });
    EXPECT_EQ(e.id(), "uag.llama_cpp.rpc") << e.what();
    EXPECT_NE(std::string(e.what()).find(b.endpoint()), std::string::npos) << e.what();
    EXPECT_LT(seconds_since(t0), 2.0);
    // The model stays unusable (a typed error again, not an abort), and destroying it does not abort.
    EXPECT_EQ(expect_uag_error([&] { split.forward(uag::token_vector{1}); }).id(), "uag.llama_cpp.rpc");
  }
  // The surviving server was hung up on: it answers a new client (rpc-server serves one at a time).
  EXPECT_EQ(uag::detail::llama_cpp_rpc_probe(*uag::detail::llama_cpp_parse_rpc_endpoint(a.endpoint()), 2000), "");
  // This process cannot use that endpoint again (llama.cpp would hand a new model the closed connection):
  // a typed error, not an abort.
  const uag::error e = expect_uag_error(
      [&] { uag::llama_cpp_model::from_file(gguf_dir / "target-f32.gguf", rpc_options({a.endpoint()})); });
  EXPECT_EQ(e.id(), "uag.llama_cpp.rpc") << e.what();
  EXPECT_NE(std::string(e.what()).find("restart the process"), std::string::npos) << e.what();
}

// A server that stops answering without closing (SIGSTOP: a hung host, a cut link): with rpc_io_timeout_ms
// the decode waiting on it ends in the typed error; without it, it would wait forever.
TEST(llama_cpp_rpc_test, silent_server_mid_generation_times_out_with_a_typed_error) {
  UAG_NEED_RPC_SERVER();
  const fs::path dir = scratch_dir();
  rpc_server a(dir / "server_a.log"), b(dir / "server_b.log");
  ASSERT_TRUE(a.running() && b.running());
  auto opt = rpc_options({a.endpoint(), b.endpoint()});
  opt.rpc_io_timeout_ms = 1000;
  auto split = uag::llama_cpp_model::from_file(gguf_dir / "target-f32.gguf", opt);
  uag::baseline_generator<uag::llama_cpp_model> gen(split, greedy_config(0, 8));
  gen.generate(prompts[0]);
  b.pause();
  const auto t0 = clock_type::now();
  const uag::error e = expect_uag_error([&] { gen.generate(prompts[1]); });
  const double waited = seconds_since(t0);
  EXPECT_EQ(e.id(), "uag.llama_cpp.rpc") << e.what();
  EXPECT_NE(std::string(e.what()).find("timed out"), std::string::npos) << e.what();
  EXPECT_GE(waited, 0.9);
  EXPECT_LT(waited, 10.0);
  std::cout << "[ rpc ] stopped server: typed error after " << waited << " s (rpc_io_timeout_ms 1000)\n";
}

// ---------------------------------------------------------------------------------------------------------
// A server killed at an arbitrary moment of a generation, usually inside a llama_decode (where ggml-rpc
// aborts the process unless uag intercepts it): the child process gets the typed error and exits normally
// (code 3) within the bound. Not an abort, not a hang, not a silent SIGPIPE. Run in a child process
// because the generation's model is leaked and llama.cpp keeps threads parked.

constexpr const char* child_env = "UAG_RPC_TEST_CHILD";  // "<endpoint>,<endpoint>,<ready file>"

// The child's whole life (see child_environment below): load the split target, say ready, generate until
// something stops it.
int run_child(const std::string& spec) {
  std::vector<std::string> parts;
  std::string item;
  for (std::istringstream ss(spec); std::getline(ss, item, ',');) parts.push_back(item);
  if (parts.size() != 3) return 10;
  try {
    auto split = uag::llama_cpp_model::from_file(gguf_dir / "target-f32.gguf", rpc_options({parts[0], parts[1]}));
    auto draft = uag::llama_cpp_model::from_file(gguf_dir / "draft-f32.gguf", local_options());
    uag::bridged_draft<uag::llama_cpp_model, uag::llama_cpp_tokenizer> source(draft, split.tokenizer());
    uag::AssistedGenerator<uag::llama_cpp_model, decltype(source)> gen(split, source, greedy_config(4, 64));
    std::ofstream(parts[2]) << "ready\n";
    const auto t0 = clock_type::now();
    for (std::size_t i = 0; seconds_since(t0) < 60; ++i) gen.generate(prompts[i % prompts.size()]);
    std::fputs("generation went on for 60 s after the server was killed\n", stderr);
    return 4;
  } catch (const uag::error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    std::exit(3);  // a normal exit: static destruction with llama.cpp's parked RPC threads must not hang
  }
}

// In the re-executed child, the child's work replaces the tests. Run from gtest's environment set-up, not
// from a static initializer: llama.cpp's own static tables must be initialised first.
struct child_environment : ::testing::Environment {
  void SetUp() override {
    if (const char* spec = std::getenv(child_env)) ::_exit(run_child(spec));
  }
};
[[maybe_unused]] ::testing::Environment* const child_env_registered =
    ::testing::AddGlobalTestEnvironment(new child_environment);

TEST(llama_cpp_rpc_test, server_killed_mid_generation_ends_in_bounded_time_with_the_id) {
  UAG_NEED_RPC_SERVER();
  const fs::path dir = scratch_dir();
  std::map<std::string, int> outcomes;
  for (int round = 0; round < 3; ++round) {
    rpc_server a(dir / "server_a.log"), b(dir / "server_b.log");
    ASSERT_TRUE(a.running() && b.running());
    const fs::path ready = dir / ("child_ready_" + std::to_string(round));
    const fs::path err = dir / ("child_stderr_" + std::to_string(round));
    fs::remove(ready);
    const std::string spec = a.endpoint() + "," + b.endpoint() + "," + ready.string();
    // Re-execute this binary (a forked copy of a process that ran OpenMP is not safe to use); everything
    // the child needs is built before fork(): after it, only async-signal-safe calls.
    std::vector<std::string> env_strings;
    for (char** e = environ; *e; ++e) env_strings.emplace_back(*e);
    env_strings.push_back(std::string(child_env) + "=" + spec);
    std::vector<char*> envp;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    const int fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    const pid_t child = ::fork();
    if (child == 0) {
      if (fd >= 0) ::dup2(fd, 1), ::dup2(fd, 2);
      ::execle("/proc/self/exe", "test_llama_cpp_rpc", static_cast<char*>(nullptr), envp.data());
      ::_exit(127);
    }
    if (fd >= 0) ::close(fd);
    ASSERT_GT(child, 0);
    struct reaper {  // the child never outlives the test
      pid_t pid;
      ~reaper() {
        if (pid > 0) ::kill(pid, SIGKILL), ::waitpid(pid, nullptr, 0);
      }
    } reap{child};
    auto t0 = clock_type::now();
    while (!fs::exists(ready) && seconds_since(t0) < 60) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_TRUE(fs::exists(ready)) << "child did not load: " << read_text(err);
    if (round == 0) {
      // Certainly inside a decode: with the server stopped, the child's next decode waits on it.
      b.pause();
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(150 + 170 * round));  // anywhere in a generation
    }
    b.stop();
    t0 = clock_type::now();
    int status = 0;
    while (::waitpid(child, &status, WNOHANG) == 0 && seconds_since(t0) < 30)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    const double waited = seconds_since(t0);
    ASSERT_LT(waited, 30.0) << "hang: the child still runs 30 s after its server died";
    reap.pid = -1;
    const std::string text = read_text(err);
    const bool typed = WIFEXITED(status) && WEXITSTATUS(status) == 3;
    const bool aborted = WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
    EXPECT_TRUE(typed) << "status " << status << " (signal " << (WIFSIGNALED(status) ? WTERMSIG(status) : 0)
                                  << "): " << text;
    EXPECT_NE(text.find("[uag.llama_cpp.rpc]"), std::string::npos) << text;
    EXPECT_NE(text.find(b.endpoint()), std::string::npos) << text;
    const bool in_decode = text.find("broke during llama_decode") != std::string::npos;
    if (round == 0) {
      EXPECT_TRUE(in_decode) << text;
    }
    const std::string outcome = !typed ? (aborted ? "abort" : "other")
                                       : in_decode ? "typed error during llama_decode" : "typed error between decodes";
    ++outcomes[outcome];
    std::cout << "[ rpc ] kill " << round << (round == 0 ? " (server stopped first)" : "") << ": " << outcome << ", "
              << waited << " s after the kill\n";
  }
  for (const auto& [outcome, n] : outcomes) std::cout << "[ rpc ] " << n << " x " << outcome << "\n";
}

// ---------------------------------------------------------------------------------------------------------
// Endpoints that cannot work: typed errors at load, naming the endpoint, within the timeout.

TEST(llama_cpp_rpc_test, malformed_unreachable_and_silent_endpoints_are_typed_errors) {
  UAG_NEED_RPC_SERVER();
  const fs::path target = gguf_dir / "target-f32.gguf";
  for (const char* bad : {"127.0.0.1", "127.0.0.1:", ":50052", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:50x52",
                          "127.0.0.1:-1", "[::1]:50052"}) {
    const uag::error e = expect_uag_error([&] { uag::llama_cpp_model::from_file(target, rpc_options({bad})); });
    EXPECT_EQ(e.id(), "uag.llama_cpp.rpc_endpoint") << bad << ": " << e.what();
    EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
  }
  // Nothing listens: refused at once.
  const std::string closed = "127.0.0.1:" + std::to_string(free_port());
  auto t0 = clock_type::now();
  uag::error e = expect_uag_error([&] { uag::llama_cpp_model::from_file(target, rpc_options({closed})); });
  EXPECT_EQ(e.id(), "uag.llama_cpp.rpc") << e.what();
  EXPECT_NE(std::string(e.what()).find(closed), std::string::npos) << e.what();
  EXPECT_LT(seconds_since(t0), 2.0);
  // Something listens but never answers the handshake (a busy server, or not an rpc-server): the timeout.
  const int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(listener, 4), 0);
  ASSERT_EQ(getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string silent = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  auto opt = rpc_options({silent});
  opt.rpc_timeout_ms = 300;
  t0 = clock_type::now();
  e = expect_uag_error([&] { uag::llama_cpp_model::from_file(target, opt); });
  const double waited = seconds_since(t0);
  ::close(listener);
  EXPECT_EQ(e.id(), "uag.llama_cpp.rpc") << e.what();
  EXPECT_NE(std::string(e.what()).find(silent), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find("300 ms"), std::string::npos) << e.what();
  EXPECT_GE(waited, 0.25);
  EXPECT_LT(waited, 2.0);
}

// The command line: a malformed --rpc is a usage error (exit 2) before anything loads; an unreachable
// server is the adapter's typed error (exit 1).
TEST(llama_cpp_rpc_test, cli_rejects_malformed_rpc_and_names_unreachable_servers) {
  UAG_NEED_RPC_SERVER();
  const fs::path uag_bin = fs::path(UAG_BINARY_DIR) / "bin" / "uag";
  if (!fs::exists(uag_bin)) GTEST_SKIP() << "uag not built";
  const fs::path dir = scratch_dir();
  auto run = [&](const std::string& args, std::string& text) {
    const fs::path out = dir / "cli_out.txt";
    const std::string cmd = uag_bin.string() + " generate --target " + (gguf_dir / "target-f32.gguf").string() +
                            " --no-draft --prompt hi --max-new-tokens 2 " + args + " >" + out.string() + " 2>&1";
    const int status = std::system(cmd.c_str());
    text = read_text(out);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  };
  std::string text;
  for (const char* bad : {"localhost", "localhost:port", "h:70000", ",", ":1"}) {
    EXPECT_EQ(run(std::string("--rpc '") + bad + "'", text), 2) << bad << ": " << text;
    EXPECT_NE(text.find("--rpc"), std::string::npos) << text;
  }
  const std::string closed = "127.0.0.1:" + std::to_string(free_port());
  EXPECT_EQ(run("--rpc " + closed + " --gpu-layers all", text), 1) << text;
  EXPECT_NE(text.find("[uag.llama_cpp.rpc]"), std::string::npos) << text;
  EXPECT_NE(text.find(closed), std::string::npos) << text;
}

}  // namespace
