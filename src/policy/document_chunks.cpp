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
        uint64_t first_hash = 0;  // of its first element
        // Ended by its last element's hash or at kMaxChunk elements, not by the list's end: the
        // same elements from a chunk's start make this chunk again, whatever follows them.
        bool closed = false;
        bool used = false;
        size_t size() const { return names.empty() ? prefixes.size() : names.size(); }
    };
    std::unordered_map<uint64_t, std::unique_ptr<Entry>> kept;  // by the chunk's elements' hashes
    std::vector<std::unique_ptr<Entry>> unkept;  // this round's chunks whose key another chunk holds
    std::vector<const Entry*> named;             // this round's
    // Every chunk above by its first element's hash. A list cut again is mostly chunks cut
    // before: where the elements at a chunk's start are those of a remembered chunk, that chunk
    // is taken after comparing them, without hashing them again (the cut from a chunk's start
    // depends on nothing before it, so the chunk is the one the hashes would give).
    std::unordered_multimap<uint64_t, Entry*> by_first;
    size_t written = 0;

    template <typename T>
    json cut(const std::vector<T>& elements) {
        json out = json::array();
        for (size_t start = 0; start < elements.size();) {
            Entry* e = remembered(elements, start);
            if (!e) e = cut_one(elements, start);
            if (!e->used) {
                e->used = true;
                named.push_back(e);
            }
            out.push_back(e->chunk.hash);
            start += e->size();
        }
        return out;
    }

    template <typename T>
    static const std::vector<T>& elements_of(const Entry& e) {
        if constexpr (std::is_same_v<T, Prefix>) return e.prefixes;
        else return e.names;
    }

    template <typename T>
    Entry* remembered(const std::vector<T>& elements, size_t start) {
        const auto [first, last] = by_first.equal_range(document_chunks::element_hash(elements[start]));
        for (auto it = first; it != last; ++it) {
            const Entry& e = *it->second;
            const auto& held = elements_of<T>(e);
            const size_t end = start + held.size();
            if (held.empty() || end > elements.size() || (!e.closed && end != elements.size())) continue;
            if (std::equal(held.begin(), held.end(), elements.begin() + static_cast<ptrdiff_t>(start))) return it->second;
        }
        return nullptr;
    }

    // The chunk that starts at `start`, by the elements' hashes.
    template <typename T>
    Entry* cut_one(const std::vector<T>& elements, size_t start) {
        using namespace document_chunks;
        constexpr bool is_prefixes = std::is_same_v<T, Prefix>;
        uint64_t key = is_prefixes ? 0x7072656669786573ULL : 0x6d656d6265727300ULL;
        for (size_t i = start;; ++i) {
            const uint64_t h = element_hash(elements[i]);
            key = (key ^ h) * 0x100000001b3ULL;
            key ^= key >> 29;
            const bool closed = (h & kBoundaryMask) == kBoundaryMask || i + 1 - start == kMaxChunk;
            if (closed || i + 1 == elements.size()) return chunk(elements, start, i + 1, key, closed);
        }
    }

    template <typename T>
    Entry* chunk(const std::vector<T>& elements, size_t first, size_t last, uint64_t key, bool closed) {
        const T* begin = elements.data() + first;
        const T* end = elements.data() + last;
        auto same = [&](const Entry& e) {
            return e.closed == closed && std::equal(begin, end, elements_of<T>(e).begin(), elements_of<T>(e).end());
        };
        auto [it, fresh] = kept.try_emplace(key);
        if (!fresh && same(*it->second)) return it->second.get();
        auto made = std::make_unique<Entry>();
        if constexpr (std::is_same_v<T, Prefix>) made->prefixes.assign(begin, end);
        else made->names.assign(begin, end);
        made->chunk.body = document_chunks::body_of(begin, end);
        made->chunk.hash = sha256_hex(made->chunk.body);
        made->first_hash = document_chunks::element_hash(*begin);
        made->closed = closed;
        ++written;
        Entry* e = made.get();
        by_first.emplace(e->first_hash, e);
        if (fresh || !it->second->used) {  // the newer content takes the key
            if (!fresh) forget(it->second.get());
            it->second = std::move(made);
        } else {
            unkept.push_back(std::move(made));
        }
        return e;
    }

    void forget(const Entry* e) {
        const auto [first, last] = by_first.equal_range(e->first_hash);
        for (auto it = first; it != last; ++it)
            if (it->second == e) {
                by_first.erase(it);
                return;
            }
    }
};

ChunkWriter::ChunkWriter() : impl_(std::make_unique<Impl>()) {}
ChunkWriter::~ChunkWriter() = default;

json ChunkWriter::members(const std::vector<std::string>& members) { return impl_->cut(members); }
json ChunkWriter::prefixes(const std::vector<Prefix>& prefixes) { return impl_->cut(prefixes); }

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
    impl_->by_first.clear();
    for (auto it = impl_->kept.begin(); it != impl_->kept.end();) {
        if (!it->second->used) {
            it = impl_->kept.erase(it);
        } else {
            it->second->used = false;
            impl_->by_first.emplace(it->second->first_hash, it->second.get());
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
