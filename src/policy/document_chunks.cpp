#include "wardgate/policy/document_chunks.hpp"

#include <fmt/format.h>

#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <unordered_map>

#include "wardgate/core/signing.hpp"

namespace wardgate {

using nlohmann::json;

namespace document_chunks {

// A chunk ends after an element whose hash has these bits all set (one in 512 on average), or
// at kMaxChunk elements whatever the hashes say.
constexpr uint64_t kBoundaryMask = 511;
constexpr size_t kMaxChunk = 4096;

// Eight bytes at a time (a name is hashed every time a document is cut, a hundred thousand of
// them for a large group), read as little-endian whatever the machine, so a name falls at the
// same place in its chunks everywhere.
uint64_t word_at(const char* p, size_t n) {
    uint64_t w = 0;
    for (size_t i = 0; i < n; ++i) w |= uint64_t(static_cast<unsigned char>(p[i])) << (8 * i);
    return w;
}
uint64_t element_hash(const std::string& name) {
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ name.size();
    size_t i = 0;
    for (; i + 8 <= name.size(); i += 8) {
        h = (h ^ word_at(name.data() + i, 8)) * 0xBF58476D1CE4E5B9ULL;
        h ^= h >> 31;
    }
    h = (h ^ word_at(name.data() + i, name.size() - i)) * 0x94D049BB133111EBULL;
    return h ^ (h >> 29);
}
uint64_t element_hash(const Prefix& p) {
    uint64_t h = (p.address.high_word() ^ 0x9E3779B97F4A7C15ULL) * 0xC2B2AE3D27D4EB4FULL;
    h = (h ^ p.address.low_word() ^ (uint64_t(p.length) << 1 | (p.family() == Family::v6))) * 0x9E3779B97F4A7C15ULL;
    return h ^ (h >> 31);
}

std::string body_of(const std::string* first, const std::string* last) { return json(std::vector<std::string>(first, last)).dump(); }
std::string body_of(const Prefix* first, const Prefix* last) {
    std::string out = "[";
    for (const Prefix* p = first; p != last; ++p) {
        if (p != first) out += ',';
        out += '"';
        p->append_to(out);  // digits, dots, colons and a slash: nothing to escape
        out += '"';
    }
    return out + "]";
}

}  // namespace document_chunks

struct ChunkWriter::Impl {
    struct Entry {
        std::vector<std::string> names;
        std::vector<Prefix> prefixes;
        HashedChunk chunk;
        bool used = false;
    };
    std::unordered_map<uint64_t, std::unique_ptr<Entry>> kept;  // by the chunk's elements' hashes
    std::vector<std::unique_ptr<Entry>> unkept;  // this round's chunks whose key another chunk holds
    std::vector<const Entry*> named;             // this round's
    size_t written = 0;

    template <typename T>
    json cut(const std::vector<T>& elements, bool is_prefixes) {
        using namespace document_chunks;
        json out = json::array();
        size_t start = 0;
        uint64_t key = is_prefixes ? 0x7072656669786573ULL : 0x6d656d6265727300ULL;
        for (size_t i = 0; i < elements.size(); ++i) {
            const uint64_t h = element_hash(elements[i]);
            key = (key ^ h) * 0x100000001b3ULL;
            key ^= key >> 29;
            if ((h & kBoundaryMask) != kBoundaryMask && i + 1 - start < kMaxChunk && i + 1 != elements.size()) continue;
            out.push_back(chunk(elements, start, i + 1, key)->chunk.hash);
            start = i + 1;
            key = is_prefixes ? 0x7072656669786573ULL : 0x6d656d6265727300ULL;
        }
        return out;
    }

    template <typename T>
    Entry* chunk(const std::vector<T>& elements, size_t first, size_t last, uint64_t key) {
        const T* begin = elements.data() + first;
        const T* end = elements.data() + last;
        auto same = [&](const Entry& e) {
            if constexpr (std::is_same_v<T, Prefix>) return std::equal(begin, end, e.prefixes.begin(), e.prefixes.end());
            else return std::equal(begin, end, e.names.begin(), e.names.end());
        };
        auto [it, fresh] = kept.try_emplace(key);
        Entry* e = nullptr;
        if (!fresh && same(*it->second)) {
            e = it->second.get();
        } else {
            auto made = std::make_unique<Entry>();
            if constexpr (std::is_same_v<T, Prefix>) made->prefixes.assign(begin, end);
            else made->names.assign(begin, end);
            made->chunk.body = document_chunks::body_of(begin, end);
            made->chunk.hash = sha256_hex(made->chunk.body);
            ++written;
            e = made.get();
            if (fresh || !it->second->used) it->second = std::move(made);  // the newer content takes the key
            else unkept.push_back(std::move(made));
        }
        if (!e->used) {
            e->used = true;
            named.push_back(e);
        }
        return e;
    }
};

ChunkWriter::ChunkWriter() : impl_(std::make_unique<Impl>()) {}
ChunkWriter::~ChunkWriter() = default;

json ChunkWriter::members(const std::vector<std::string>& members) { return impl_->cut(members, false); }
json ChunkWriter::prefixes(const std::vector<Prefix>& prefixes) { return impl_->cut(prefixes, true); }

std::vector<const HashedChunk*> ChunkWriter::named_chunks() const {
    std::map<std::string_view, const HashedChunk*> by_hash;  // two chunks of different keys may hold the same text
    for (const auto* e : impl_->named) by_hash.emplace(e->chunk.hash, &e->chunk);
    std::vector<const HashedChunk*> out;
    out.reserve(by_hash.size());
    for (const auto& [hash, chunk] : by_hash) out.push_back(chunk);
    return out;
}

std::vector<std::string> ChunkWriter::named_hashes() const {
    std::vector<std::string> out;
    for (const auto* c : named_chunks()) out.push_back(c->hash);
    return out;
}

void ChunkWriter::end_round() {
    for (auto it = impl_->kept.begin(); it != impl_->kept.end();) {
        if (!it->second->used) {
            it = impl_->kept.erase(it);
        } else {
            it->second->used = false;
            ++it;
        }
    }
    impl_->unkept.clear();
    impl_->named.clear();
}

size_t ChunkWriter::written() const { return impl_->written; }

struct ChunkReader::Impl {
    struct Entry {
        std::string body;
        std::optional<std::vector<std::string>> names;
        std::optional<std::vector<Prefix>> prefixes;
        bool used = true;
    };
    std::unordered_map<std::string, Entry> chunks;

    Entry& find(const std::string& hash, std::string_view field) {
        auto it = chunks.find(hash);
        if (it == chunks.end()) throw std::invalid_argument(fmt::format("{}: chunk {} is missing", field, hash));
        it->second.used = true;
        return it->second;
    }
    static json parse(const Entry& e, std::string_view field) {
        try {
            json j = json::parse(e.body);
            if (!j.is_array()) throw std::invalid_argument("not an array");
            return j;
        } catch (const std::exception& ex) {
            throw std::invalid_argument(fmt::format("{}: chunk does not read: {}", field, ex.what()));
        }
    }
};

ChunkReader::ChunkReader() : impl_(std::make_unique<Impl>()) {}
ChunkReader::~ChunkReader() = default;

void ChunkReader::add(const std::string& hash, std::string body) {
    if (impl_->chunks.count(hash)) return;
    if (sha256_hex(body) != hash) throw std::invalid_argument("chunk " + hash + " does not match its digest: altered");
    impl_->chunks.emplace(hash, Impl::Entry{std::move(body), {}, {}, true});
}

bool ChunkReader::has(const std::string& hash) const { return impl_->chunks.count(hash) > 0; }

const std::string* ChunkReader::body(const std::string& hash) const {
    auto it = impl_->chunks.find(hash);
    return it == impl_->chunks.end() ? nullptr : &it->second.body;
}

const std::vector<std::string>& ChunkReader::members(const std::string& hash, std::string_view field) {
    auto& e = impl_->find(hash, field);
    if (!e.names) {
        json j = Impl::parse(e, field);
        std::vector<std::string> out;
        out.reserve(j.size());
        for (size_t i = 0; i < j.size(); ++i) {
            if (!j[i].is_string()) throw std::invalid_argument(fmt::format("{}: chunk element {} is not a string", field, i));
            out.push_back(j[i].get<std::string>());
        }
        e.names = std::move(out);
    }
    return *e.names;
}

const std::vector<Prefix>& ChunkReader::prefixes(const std::string& hash, std::string_view field) {
    auto& e = impl_->find(hash, field);
    if (!e.prefixes) {
        json j = Impl::parse(e, field);
        std::vector<Prefix> out;
        out.reserve(j.size());
        for (size_t i = 0; i < j.size(); ++i) {
            auto p = j[i].is_string() ? Prefix::parse(j[i].get<std::string>()) : std::nullopt;
            if (!p) throw std::invalid_argument(fmt::format("{}: chunk element {} is not a prefix", field, i));
            out.push_back(*p);
        }
        e.prefixes = std::move(out);
    }
    return *e.prefixes;
}

void ChunkReader::end_round() {
    for (auto it = impl_->chunks.begin(); it != impl_->chunks.end();) {
        if (!it->second.used) {
            it = impl_->chunks.erase(it);
        } else {
            it->second.used = false;
            ++it;
        }
    }
}

size_t ChunkReader::size() const { return impl_->chunks.size(); }

std::vector<std::string> chunks_named(const json& document) {
    std::vector<std::string> out;
    std::set<std::string> seen;
    if (!document.is_object()) return out;
    auto groups = document.find("groups");
    if (groups == document.end() || !groups->is_array()) return out;
    for (const auto& g : *groups) {
        if (!g.is_object()) continue;
        for (const char* key : {"members_chunks", "prefixes_chunks"}) {
            auto list = g.find(key);
            if (list == g.end() || !list->is_array()) continue;
            for (const auto& h : *list)
                if (h.is_string() && seen.insert(h.get<std::string>()).second) out.push_back(h.get<std::string>());
        }
    }
    return out;
}

}  // namespace wardgate
