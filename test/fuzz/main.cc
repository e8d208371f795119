// Replay main for the fuzz targets when they are not linked with libFuzzer (the default build): runs
// LLVMFuzzerTestOneInput once per file named on the command line; a directory means every regular file in
// it (recursively). Crash files from libFuzzer reproduce with `fuzz_jsonrpc crash-<hash>`.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

bool run_file(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    std::fprintf(stderr, "cannot read %s\n", path.string().c_str());
    return false;
  }
  const std::vector<char> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  // An exact-size heap copy, so that reading past the input is visible to AddressSanitizer.
  std::vector<uint8_t> input(bytes.begin(), bytes.end());
  LLVMFuzzerTestOneInput(input.empty() ? nullptr : input.data(), input.size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <file or directory>...\n", argv[0]);
    return 2;
  }
  std::size_t runs = 0;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path path = argv[i];
    std::error_code error;
    if (std::filesystem::is_directory(path, error)) {
      std::vector<std::filesystem::path> files;
      for (std::filesystem::recursive_directory_iterator it(path, error), end; !error && it != end;
           it.increment(error)) {
        if (it->is_regular_file()) files.push_back(it->path());
      }
      if (error) {
        std::fprintf(stderr, "cannot list %s\n", path.string().c_str());
        return 1;
      }
      for (const auto& file : files) {
        if (!run_file(file)) return 1;
        ++runs;
      }
    } else {
      if (!run_file(path)) return 1;
      ++runs;
    }
  }
  std::printf("replayed %zu input(s)\n", runs);
  return runs > 0 ? 0 : 1;
}
