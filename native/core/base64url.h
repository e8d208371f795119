// Strict base64url decoding (RFC 4648 section 5, no padding) for JWT segments: decoding is the check.
#ifndef FASTERMCP_NATIVE_CORE_BASE64URL_H_
#define FASTERMCP_NATIVE_CORE_BASE64URL_H_

#include <string>
#include <string_view>

namespace mcp::jwt {

/// Decodes base64url without padding into `out` (appends); false on any other character, on a length of
/// 4n+1, or on non-zero unused bits (a non-canonical encoding). On x86-64 CPUs with AVX2, 32 characters are
/// decoded per step; the result and the verdict are the same on every path (tested against each other).
bool base64url_decode(std::string_view in, std::string* out);

/// The portable path alone (for the tests that compare the two paths).
bool base64url_decode_scalar(std::string_view in, std::string* out);

}  // namespace mcp::jwt

#endif  // FASTERMCP_NATIVE_CORE_BASE64URL_H_
