#pragma once
// Ed25519 signatures (OpenSSL's libcrypto) over what a publisher hands to gateways, and the
// SHA-256 digests they are taken over. Keys are PEM files: PKCS#8 private, SubjectPublicKeyInfo public.
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace wardgate {

class SigningError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

std::string sha256_hex(std::string_view data);
// The digest of a file's contents, read in pieces; nullopt when it cannot be read.
std::optional<std::string> sha256_file_hex(const std::filesystem::path& file);

// Writes a new key pair (the private key mode 0600). Throws SigningError.
void generate_signing_key(const std::filesystem::path& private_pem, const std::filesystem::path& public_pem);
// Base64 signature of message. Throws SigningError when the key cannot be read or is no Ed25519 key.
std::string sign_message(const std::filesystem::path& private_pem, std::string_view message);

// A private key read once, to sign many messages: a bad key fails before anything is signed.
class Signer {
public:
    explicit Signer(const std::filesystem::path& private_pem);  // throws SigningError
    ~Signer();
    Signer(const Signer&) = delete;
    Signer& operator=(const Signer&) = delete;
    std::string sign(std::string_view message) const;  // base64; throws SigningError

private:
    std::filesystem::path path_;
    void* key_;  // EVP_PKEY
};

// A public key read once, to verify many signatures.
class SignatureCheck {
public:
    explicit SignatureCheck(const std::filesystem::path& public_pem);  // throws SigningError
    ~SignatureCheck();
    SignatureCheck(const SignatureCheck&) = delete;
    SignatureCheck& operator=(const SignatureCheck&) = delete;
    // False for a bad, empty or malformed signature.
    bool verifies(std::string_view message, std::string_view signature_base64) const;

private:
    void* key_;  // EVP_PKEY
};

}  // namespace wardgate
