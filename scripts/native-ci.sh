#!/usr/bin/env bash
# Native CI for the C++ core (run from anywhere; installs nothing):
#   1. build-asan/: the developer build (tests, replayed fuzz target, benchmark) under AddressSanitizer and
#      UndefinedBehaviorSanitizer, then ctest;
#   2. build-fuzz/: when clang++-14 is present, fuzz_jsonrpc with libFuzzer (+ ASan/UBSan), run for
#      FUZZ_SECONDS (default 60) with test/fuzz/jsonrpc.dict and a seed corpus made from test/vectors; then
#      fuzz_jwt for FUZZ_JWT_SECONDS (default 25) with test/fuzz/jwt.dict, seeded by test/fuzz/corpus-jwt/; then
#      fuzz_ratelimit for FUZZ_RATELIMIT_SECONDS (default 20) with test/fuzz/ratelimit.dict, seeded by
#      test/fuzz/corpus-ratelimit/; then fuzz_admission (the engine's fused admission) for
#      FUZZ_ADMISSION_SECONDS (default 15) with the fuzz_jsonrpc dict and seeds, and test/fuzz/corpus-admission/
#      (inputs that once failed it); then fuzz_http1 (the HTTP/1.1 head parser) for FUZZ_HTTP1_SECONDS (default
#      15) with test/fuzz/http1.dict, seeded by test/fuzz/corpus-http1/
#      (the test/vectors/http1-head.json inputs); then fuzz_sandbox (the sandbox launcher's /proc parsers) for
#      FUZZ_SANDBOX_SECONDS (default 10) with test/fuzz/sandbox.dict, seeded by test/fuzz/corpus-sandbox/; then
#      fuzz_pipes (growing a pipe's buffer: any bytes are an op sequence) for FUZZ_PIPES_SECONDS (default 5);
#      then fuzz_reply (the stdio reply buffer: any bytes are UTF-16 text) for FUZZ_REPLY_SECONDS (default 10);
#      then fuzz_arguments (arguments read for JS: any bytes are a request's arguments) for
#      FUZZ_ARGUMENTS_SECONDS (default 10) with the fuzz_jsonrpc dict; then fuzz_skeleton (the engine with
#      skeletons against the engine without, differential) for FUZZ_SKELETON_SECONDS (default 20) with the
#      fuzz_jsonrpc dict, seeded by test/fuzz/corpus-skeleton/.
#      The ASan/UBSan ctest run of step 1 includes http1_test and the
#      replayed fuzz_http1.
# Usage: scripts/native-ci.sh [all|asan|fuzz]   (default all). Exits non-zero on any failure.
# Environment: FUZZ_SECONDS, FUZZ_JWT_SECONDS, FUZZ_RATELIMIT_SECONDS, FUZZ_ADMISSION_SECONDS, FUZZ_HTTP1_SECONDS,
# FUZZ_SANDBOX_SECONDS, FUZZ_PIPES_SECONDS, FUZZ_REPLY_SECONDS, FUZZ_ARGUMENTS_SECONDS, FUZZ_SKELETON_SECONDS, JOBS (default: number of CPUs), CLANGXX (default clang++-14).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)
mode=${1:-all}
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
fuzz_seconds=${FUZZ_SECONDS:-60}
fuzz_jwt_seconds=${FUZZ_JWT_SECONDS:-25}
fuzz_ratelimit_seconds=${FUZZ_RATELIMIT_SECONDS:-20}
fuzz_admission_seconds=${FUZZ_ADMISSION_SECONDS:-15}
fuzz_http1_seconds=${FUZZ_HTTP1_SECONDS:-15}
fuzz_sandbox_seconds=${FUZZ_SANDBOX_SECONDS:-10}
fuzz_pipes_seconds=${FUZZ_PIPES_SECONDS:-5}
fuzz_reply_seconds=${FUZZ_REPLY_SECONDS:-10}
fuzz_arguments_seconds=${FUZZ_ARGUMENTS_SECONDS:-10}
fuzz_skeleton_seconds=${FUZZ_SKELETON_SECONDS:-20}
clangxx=${CLANGXX:-clang++-14}

# Sanitizer reports must fail the run; no leak checking of the test processes' intentional statics.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

run_asan() {
  echo "== native-ci: ASan/UBSan build (build-asan/)"
  cmake -S . -B build-asan -DFASTERMCP_DEVELOPER=ON -DFASTERMCP_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
  cmake --build build-asan -j "$jobs"
  echo "== native-ci: ctest under ASan/UBSan"
  ctest --test-dir build-asan --output-on-failure
}

# Seed corpus: every vector input (framing chunks joined, scan inputs, JSONTestSuite files), each behind
# the fuzz target's 4 control bytes in a few limit settings (see test/fuzz/fuzz_jsonrpc.cc).
make_corpus() {
  local corpus=$1
  mkdir -p "$corpus"
  node - "$root/test/vectors" "$corpus" <<'EOF'
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const [vectors, corpus] = process.argv.slice(2);
// byte 0: limits (0x80 default sizes, low bits small limits); byte 1: batch options; bytes 2-3: chunk seed
const prefixes = [[0xc0, 0x07, 0x00, 0x01], [0x05, 0x01, 0x12, 0x34], [0x3f, 0x0a, 0xbe, 0xef]];
let count = 0;
const write = (bytes) => {
  for (const prefix of prefixes) {
    const data = Buffer.concat([Buffer.from(prefix), bytes]);
    const name = crypto.createHash('sha1').update(data).digest('hex');
    fs.writeFileSync(path.join(corpus, name), data);
    count++;
  }
};
for (const dir of ['framing', 'scan']) {
  for (const file of fs.readdirSync(path.join(vectors, dir)).filter((f) => f.endsWith('.json'))) {
    const vector = JSON.parse(fs.readFileSync(path.join(vectors, dir, file), 'utf8'));
    let bytes;
    if (vector.chunks) bytes = Buffer.concat(vector.chunks.map((c) => Buffer.from(c, 'utf8')));
    else if (vector.chunksBase64) bytes = Buffer.concat(vector.chunksBase64.map((c) => Buffer.from(c, 'base64')));
    else if (vector.input !== undefined) bytes = Buffer.from(vector.input, 'utf8');
    else if (vector.inputBase64 !== undefined) bytes = Buffer.from(vector.inputBase64, 'base64');
    if (bytes) write(bytes);
  }
}
const suite = path.join(vectors, 'jsontestsuite');
for (const file of fs.readdirSync(suite).filter((f) => /^[yni]_/.test(f))) {
  write(fs.readFileSync(path.join(suite, file)));
}
console.log(`seed corpus: ${count} inputs in ${corpus}`);
EOF
}

run_fuzz() {
  if ! command -v "$clangxx" >/dev/null 2>&1; then
    echo "== native-ci: $clangxx not found, skipping the libFuzzer run (the replayed fuzz target ran under ctest)"
    return 0
  fi
  echo "== native-ci: libFuzzer build (build-fuzz/)"
  cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER="$clangxx" -DFASTERMCP_DEVELOPER=ON -DFASTERMCP_LIBFUZZER=ON \
    -DFASTERMCP_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
  cmake --build build-fuzz -j "$jobs" --target fuzz_jsonrpc fuzz_jwt fuzz_ratelimit fuzz_admission fuzz_http1 \
    fuzz_sandbox fuzz_pipes fuzz_reply fuzz_arguments fuzz_skeleton
  local corpus=build-fuzz/corpus
  local seeds=build-fuzz/seeds
  rm -rf "$seeds"
  make_corpus "$seeds"
  mkdir -p "$corpus" build-fuzz/artifacts
  echo "== native-ci: fuzzing fuzz_jsonrpc for ${fuzz_seconds}s"
  # New inputs go to build-fuzz/corpus (kept between runs); crashes to build-fuzz/artifacts/.
  ./build-fuzz/fuzz_jsonrpc "$corpus" "$seeds" \
    -dict=test/fuzz/jsonrpc.dict -max_total_time="$fuzz_seconds" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix=build-fuzz/artifacts/ -print_final_stats=1
  echo "== native-ci: fuzzing fuzz_jwt for ${fuzz_jwt_seconds}s"
  mkdir -p build-fuzz/corpus-jwt
  ./build-fuzz/fuzz_jwt build-fuzz/corpus-jwt test/fuzz/corpus-jwt \
    -dict=test/fuzz/jwt.dict -max_total_time="$fuzz_jwt_seconds" -max_len=10000 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix=build-fuzz/artifacts/ -print_final_stats=1
  echo "== native-ci: fuzzing fuzz_ratelimit for ${fuzz_ratelimit_seconds}s"
  mkdir -p build-fuzz/corpus-ratelimit
  ./build-fuzz/fuzz_ratelimit build-fuzz/corpus-ratelimit test/fuzz/corpus-ratelimit \
    -dict=test/fuzz/ratelimit.dict -max_total_time="$fuzz_ratelimit_seconds" -max_len=4096 -timeout=10 \
    -rss_limit_mb=2048 -artifact_prefix=build-fuzz/artifacts/ -print_final_stats=1
  echo "== native-ci: fuzzing fuzz_admission for ${fuzz_admission_seconds}s"
  mkdir -p build-fuzz/corpus-admission
  ./build-fuzz/fuzz_admission build-fuzz/corpus-admission "$seeds" test/fuzz/corpus-admission \
    -dict=test/fuzz/jsonrpc.dict -max_total_time="$fuzz_admission_seconds" -max_len=8192 -timeout=10 \
    -rss_limit_mb=2048 -artifact_prefix=build-fuzz/artifacts/ -print_final_stats=1
  echo "== native-ci: fuzzing fuzz_http1 for ${fuzz_http1_seconds}s"
  mkdir -p build-fuzz/corpus-http1
  ./build-fuzz/fuzz_http1 build-fuzz/corpus-http1 test/fuzz/corpus-http1 \
    -dict=test/fuzz/http1.dict -max_total_time="$fuzz_http1_seconds" -max_len=20000 -timeout=10 \
    -rss_limit_mb=2048 -artifact_prefix=build-fuzz/artifacts/ -print_final_stats=1
  echo "== native-ci: fuzzing fuzz_sandbox for ${fuzz_sandbox_seconds}s"
  mkdir -p build-fuzz/corpus-sandbox
  ./build-fuzz/fuzz_sandbox build-fuzz/corpus-sandbox test/fuzz/corpus-sandbox \
    -dict=test/fuzz/sandbox.dict -max_total_time="$fuzz_sandbox_seconds" -max_len=4096 -timeout=10 \
    -rss_limit_mb=2048 -artifact_prefix=build-fuzz/artifacts/ -print_final_stats=1
  echo "== native-ci: fuzzing fuzz_pipes for ${fuzz_pipes_seconds}s"
  mkdir -p build-fuzz/corpus-pipes
  ./build-fuzz/fuzz_pipes build-fuzz/corpus-pipes -max_total_time="$fuzz_pipes_seconds" -max_len=192 -timeout=10 \
    -rss_limit_mb=2048 -artifact_prefix=build-fuzz/artifacts/ -print_final_stats=1
  echo "== native-ci: fuzzing fuzz_reply for ${fuzz_reply_seconds}s"
  mkdir -p build-fuzz/corpus-reply
  ./build-fuzz/fuzz_reply build-fuzz/corpus-reply -max_total_time="$fuzz_reply_seconds" -max_len=4096 -timeout=10 \
    -rss_limit_mb=2048 -artifact_prefix=build-fuzz/artifacts/ -print_final_stats=1
  echo "== native-ci: fuzzing fuzz_arguments for ${fuzz_arguments_seconds}s"
  mkdir -p build-fuzz/corpus-arguments
  ./build-fuzz/fuzz_arguments build-fuzz/corpus-arguments -max_total_time="$fuzz_arguments_seconds" -max_len=2048 \
    -timeout=10 -dict=test/fuzz/jsonrpc.dict -rss_limit_mb=2048 -artifact_prefix=build-fuzz/artifacts/ \
    -print_final_stats=1
  echo "== native-ci: fuzzing fuzz_skeleton for ${fuzz_skeleton_seconds}s"
  mkdir -p build-fuzz/corpus-skeleton
  ./build-fuzz/fuzz_skeleton build-fuzz/corpus-skeleton test/fuzz/corpus-skeleton -max_total_time="$fuzz_skeleton_seconds" \
    -max_len=4096 -timeout=10 -dict=test/fuzz/jsonrpc.dict -rss_limit_mb=2048 -artifact_prefix=build-fuzz/artifacts/ \
    -print_final_stats=1
}

case "$mode" in
  all)
    run_asan
    run_fuzz
    ;;
  asan) run_asan ;;
  fuzz) run_fuzz ;;
  *)
    echo "usage: $0 [all|asan|fuzz]" >&2
    exit 2
    ;;
esac
echo "== native-ci: passed"
