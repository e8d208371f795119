{
  # The primary build of the addon: `npm run build:native` (node-gyp rebuild) and prebuildify both run
  # this file and write build/Release/mcp_native.node. CMakeLists.txt (cmake-js, ctest, sanitizers,
  # fuzzers) reads the same source list, native/sources.gypi:
  #   {"variables": {"core_sources": [...], "binding_sources": [...]}}   (paths relative to this file)
  # Package paths are resolved with require.resolve and made relative, because gyp's make generator
  # mishandles absolute source paths; in a consumer's node_modules they come out as ../@nozbe/...
  "includes": ["native/sources.gypi"],
  "variables": {
    "simdjson_dir": "<!(node -p \"require('path').relative('.', require('path').dirname(require.resolve('@nozbe/simdjson/src/simdjson.cpp'))) || '.'\")",
    "napi_include_dir": "<!(node -p \"require('node-addon-api').include_dir\")",
    "fastermcp_version": "<!(node -p \"require('./package.json').version\")"
  },
  "targets": [
    {
      "target_name": "mcp_native",
      "sources": [
        "<@(core_sources)",
        "<@(binding_sources)",
        "<(simdjson_dir)/simdjson.cpp"
      ],
      # OpenSSL headers come from node's own include dir (added by node-gyp; nodedir=/usr gives
      # Node 20's OpenSSL 3.0). The addon links no libcrypto: it binds to the running node's copy.
      "include_dirs": [
        "<(napi_include_dir)",
        "<(simdjson_dir)",
        "native"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NODE_ADDON_API_DISABLE_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        # A Worker terminated in the middle of a native call makes napi_throw fail; without this,
        # node-addon-api (no C++ exceptions) turns that into a fatal error of the whole process.
        "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS",
        "FASTERMCP_VERSION=\"<(fastermcp_version)\""
      ],
      # node's common.gypi already adds -fno-exceptions -fno-rtti and -O3 (Release); swap its C++17.
      "cflags_cc!": ["-std=gnu++17"],
      "cflags": ["-O3", "-fvisibility=hidden"],
      "cflags_cc": ["-std=c++20", "-O3", "-fvisibility=hidden", "-fvisibility-inlines-hidden", "-fno-exceptions"],
      "ldflags": ["-Wl,-z,now"],
      "xcode_settings": {
        "CLANG_CXX_LANGUAGE_STANDARD": "c++20",
        "GCC_ENABLE_CPP_EXCEPTIONS": "NO",
        "GCC_SYMBOLS_PRIVATE_EXTERN": "YES",
        "GCC_OPTIMIZATION_LEVEL": "3",
        "MACOSX_DEPLOYMENT_TARGET": "11.0",
        "OTHER_LDFLAGS": ["-undefined", "dynamic_lookup"]
      },
      "msvs_settings": {
        "VCCLCompilerTool": { "AdditionalOptions": ["/std:c++20"], "ExceptionHandling": 0 }
      }
    }
  ]
}
