#include "wardgate/core/signing.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <vector>

namespace wardgate {

namespace signing_detail {

struct FileCloser {
    void operator()(FILE* f) const { std::fclose(f); }
};
struct KeyFree {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct ContextFree {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using File = std::unique_ptr<FILE, FileCloser>;
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;
using Context = std::unique_ptr<EVP_MD_CTX, ContextFree>;

File open(const std::filesystem::path& p, const char* mode) {
    File f(std::fopen(p.c_str(), mode));
    if (!f) throw SigningError(p.string() + ": cannot open the key file");
    return f;
}

Key ed25519(EVP_PKEY* k, const std::filesystem::path& p, const char* which) {
    Key key(k);
    if (!key) throw SigningError(p.string() + ": not a PEM " + which + " key");
    if (EVP_PKEY_id(key.get()) != EVP_PKEY_ED25519) throw SigningError(p.string() + ": not an Ed25519 key");
    return key;
}

std::string base64(const unsigned char* data, size_t n) {
    std::string out(4 * ((n + 2) / 3), '\0');
    int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
    out.resize(static_cast<size_t>(written));
    return out;
}

}  // namespace signing_detail

static std::string hex_of(const unsigned char* digest, unsigned int n) {
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < n; ++i) {
        out += hex[digest[i] >> 4];
        out += hex[digest[i] & 15];
    }
    return out;
}

std::string sha256_hex(std::string_view data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(data.data(), data.size(), digest, &n, EVP_sha256(), nullptr);
    return hex_of(digest, n);
}

std::optional<std::string> sha256_file_hex(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return std::nullopt;
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) return std::nullopt;
    std::vector<char> buffer(1 << 20);
    while (in) {
        in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
        if (in.gcount() > 0) EVP_DigestUpdate(ctx.get(), buffer.data(), static_cast<size_t>(in.gcount()));
    }
    if (in.bad()) return std::nullopt;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_DigestFinal_ex(ctx.get(), digest, &n) != 1) return std::nullopt;
    return hex_of(digest, n);
}

void generate_signing_key(const std::filesystem::path& private_pem, const std::filesystem::path& public_pem) {
    using namespace signing_detail;
    EVP_PKEY* raw = nullptr;
    std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr),
                                                                     EVP_PKEY_CTX_free);
    if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 || EVP_PKEY_keygen(ctx.get(), &raw) != 1)
        throw SigningError("cannot generate an Ed25519 key");
    Key key(raw);
    mode_t old = ::umask(077);
    auto priv = open(private_pem, "wx");  // never over an existing key
    ::umask(old);
    if (PEM_write_PrivateKey(priv.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
        throw SigningError(private_pem.string() + ": cannot write the private key");
    auto pub = open(public_pem, "w");
    if (PEM_write_PUBKEY(pub.get(), key.get()) != 1) throw SigningError(public_pem.string() + ": cannot write the public key");
}

std::string sign_message(const std::filesystem::path& private_pem, std::string_view message) {
    return Signer(private_pem).sign(message);
}

Signer::Signer(const std::filesystem::path& private_pem) : path_(private_pem) {
    using namespace signing_detail;
    auto f = open(private_pem, "r");
    key_ = ed25519(PEM_read_PrivateKey(f.get(), nullptr, nullptr, nullptr), private_pem, "private").release();
}

Signer::~Signer() { EVP_PKEY_free(static_cast<EVP_PKEY*>(key_)); }

std::string Signer::sign(std::string_view message) const {
    using namespace signing_detail;
    Context ctx(EVP_MD_CTX_new());
    auto* key = static_cast<EVP_PKEY*>(key_);
    const auto* data = reinterpret_cast<const unsigned char*>(message.data());
    size_t n = 0;
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &n, data, message.size()) != 1)
        throw SigningError(path_.string() + ": cannot sign with this key");
    std::vector<unsigned char> sig(n);
    if (EVP_DigestSign(ctx.get(), sig.data(), &n, data, message.size()) != 1)
        throw SigningError(path_.string() + ": cannot sign with this key");
    return base64(sig.data(), n);
}

SignatureCheck::SignatureCheck(const std::filesystem::path& public_pem) {
    using namespace signing_detail;
    auto f = open(public_pem, "r");
    key_ = ed25519(PEM_read_PUBKEY(f.get(), nullptr, nullptr, nullptr), public_pem, "public").release();
}

SignatureCheck::~SignatureCheck() { EVP_PKEY_free(static_cast<EVP_PKEY*>(key_)); }

bool SignatureCheck::verifies(std::string_view message, std::string_view signature_base64) const {
    using namespace signing_detail;
    if (signature_base64.empty() || signature_base64.size() % 4 != 0 || signature_base64.size() > 200) return false;
    std::vector<unsigned char> sig(signature_base64.size());
    int n = EVP_DecodeBlock(sig.data(), reinterpret_cast<const unsigned char*>(signature_base64.data()),
                            static_cast<int>(signature_base64.size()));
    if (n < 0) return false;
    size_t len = static_cast<size_t>(n);
    // EVP_DecodeBlock counts the padding as zero bytes.
    for (size_t i = signature_base64.size(); i > 0 && signature_base64[i - 1] == '='; --i) --len;
    Context ctx(EVP_MD_CTX_new());
    return ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, static_cast<EVP_PKEY*>(key_)) == 1 &&
           EVP_DigestVerify(ctx.get(), sig.data(), len, reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
}

}  // namespace wardgate
