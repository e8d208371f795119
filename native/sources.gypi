{
  "variables": {
    "core_sources": [
      "native/core/arguments.cc",
      "native/core/base64url.cc",
      "native/core/engine.cc",
      "native/core/errors.cc",
      "native/core/framing.cc",
      "native/core/http1.cc",
      "native/core/id_text.cc",
      "native/core/jwt.cc",
      "native/core/pipes.cc",
      "native/core/ratelimit.cc",
      "native/core/reply_buffer.cc",
      "native/core/response.cc",
      "native/core/router.cc",
      "native/core/sandbox.cc",
      "native/core/scan.cc",
      "native/core/skeleton.cc"
    ],
    "binding_sources": [
      "native/binding/addon.cc",
      "native/binding/engine_binding.cc",
      "native/binding/http1_binding.cc",
      "native/binding/jwt_binding.cc",
      "native/binding/pipes_binding.cc",
      "native/binding/ratelimit_binding.cc",
      "native/binding/reply_binding.cc",
      "native/binding/router_binding.cc",
      "native/binding/sandbox_binding.cc"
    ]
  }
}
