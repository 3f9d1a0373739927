#include "tests/support/digest.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

namespace corral::test {

std::string digest_id(std::string_view user, std::string_view password) {
  const std::string plain = std::string(user) + ":" + std::string(password);
  unsigned char sha[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(plain.data()), plain.size(), sha);
  unsigned char b64[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
  const int n = EVP_EncodeBlock(b64, sha, SHA_DIGEST_LENGTH);
  return std::string(user) + ":" + std::string(reinterpret_cast<const char*>(b64), static_cast<std::size_t>(n));
}

}  // namespace corral::test
