// devices.toml read again after an edit: the blocks whose text is unchanged give the device
// they gave last time, and only the others are parsed. A block is the text from one [[device]]
// header to the next; blocks are independent only when nothing else in the file can join two
// of them, so a file with any other table header, a multi-line string (which could hide one) or
// keys before the first device is always read whole.
#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "loaders.hpp"
#include "toml_fields.hpp"

namespace wardgate::site_detail {

namespace device_blocks {

// More changed blocks than this and parsing the file whole is as quick.
constexpr size_t kMostParsedAlone = 32;

struct Block {
    int line = 0;  // of its [[device]] header
    std::string_view text;
};

std::string_view trimmed(std::string_view s) {
    const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!s.empty() && space(s.front())) s.remove_prefix(1);
    while (!s.empty() && space(s.back())) s.remove_suffix(1);
    return s;
}

std::optional<std::vector<Block>> split(std::string_view text) {
    if (text.find("\"\"\"") != std::string_view::npos || text.find("'''") != std::string_view::npos) return std::nullopt;
    std::vector<Block> out;
    size_t pos = 0, start = std::string_view::npos;
    int line = 1, start_line = 0;
    while (pos < text.size()) {
        const size_t end = text.find('\n', pos);
        const size_t next = end == std::string_view::npos ? text.size() : end + 1;
        // Only a line's first character that is not blank matters, unless it opens a table:
        // three million lines need not all be trimmed at both ends.
        size_t first = pos;
        while (first < next && (text[first] == ' ' || text[first] == '\t' || text[first] == '\r')) ++first;
        const char lead = first < next ? text[first] : '\n';
        if (lead == '[') {
            const auto content = trimmed(text.substr(pos, next - pos));
            if (content != "[[device]]") return std::nullopt;
            if (start != std::string_view::npos) out.push_back({start_line, text.substr(start, pos - start)});
            start = pos;
            start_line = line;
        } else if (start == std::string_view::npos && lead != '\n' && lead != '#') {
            return std::nullopt;  // a key before the first device
        }
        pos = next;
        ++line;
    }
    if (start == std::string_view::npos) return std::nullopt;
    out.push_back({start_line, text.substr(start)});
    return out;
}

// Which cached block each block of the file is (npos: its text is new). Edits keep blocks in
// order, so the walk compares each block with the cached one at the same place and, when they
// differ, looks a few blocks ahead on either side for where the two files agree again (a
// device added, removed or changed). Blocks it cannot place are parsed, not trusted: a match
// is always two equal texts.
std::vector<size_t> match(const std::vector<Block>& blocks, const SiteLoadCache::Blocks& cached) {
    constexpr size_t kLookAhead = 8;
    constexpr size_t npos = std::string::npos;
    std::vector<size_t> out(blocks.size(), npos);
    size_t j = 0;
    for (size_t i = 0; i < blocks.size(); ++i) {
        auto same = [&](size_t new_at, size_t old_at) {
            return new_at < blocks.size() && old_at < cached.size() && blocks[new_at].text == cached[old_at]->text;
        };
        if (same(i, j)) {
            out[i] = j++;
            continue;
        }
        bool placed = false;
        for (size_t k = 1; k <= kLookAhead && !placed; ++k) {
            if (same(i, j + k)) {  // cached blocks j..j+k-1 are gone
                j += k;
                out[i] = j++;
                placed = true;
            } else if (same(i + k, j)) {  // blocks i..i+k-1 are new
                i += k - 1;
                placed = true;
            }
        }
        if (!placed && j < cached.size()) ++j;  // this block took the place of that one
    }
    return out;
}

}  // namespace device_blocks

bool load_device_blocks(Site& site, const std::string& file, std::string_view text, Diagnostics& diags, SiteLoadCache& cache) {
    using namespace device_blocks;
    auto known = cache.device_blocks.find(file);
    if (known == cache.device_blocks.end()) return false;
    auto blocks = split(text);
    if (!blocks) {
        cache.device_blocks.erase(known);
        return false;
    }
    auto& cached = known->second;
    const auto at = match(*blocks, cached);
    const size_t changed = static_cast<size_t>(std::count(at.begin(), at.end(), std::string::npos));
    if (changed > kMostParsedAlone) return false;

    // Into a copy: a syntax error anywhere and the file is read whole, which reports only that.
    std::vector<Device> devices;
    devices.reserve(blocks->size());
    Diagnostics found;
    std::vector<std::unique_ptr<SiteLoadCache::Block>> fresh(blocks->size());
    for (size_t i = 0; i < blocks->size(); ++i) {
        const Block& b = (*blocks)[i];
        if (at[i] != std::string::npos) {
            const auto& kept = *cached[at[i]];
            devices.push_back(kept.device);
            devices.back().origin = {file, b.line + kept.line_offset};
            continue;
        }
        // Parsed alone; its lines, and those of what it reports, then moved to where it stands.
        const int shift = b.line - 1;
        Diagnostics own;
        auto root = parse_toml_text(b.text, site.dir / file, file, own);
        if (!root) return false;
        Site one;
        for_each_table(*root, "device", file, own, [&](const toml::table& t) { add_device_table(one, t, file, own); });
        for (auto d : own.items()) {
            if (d.line > 0) d.line += shift;
            found.add(std::move(d));
        }
        for (auto& d : one.devices) {
            d.origin.line += shift;
            devices.push_back(std::move(d));
        }
        if (own.empty() && one.devices.size() == 1)
            fresh[i] = std::make_unique<SiteLoadCache::Block>(
                SiteLoadCache::Block{std::string(b.text), devices.back(), devices.back().origin.line - b.line});
    }
    if (site.devices.empty()) {
        site.devices = std::move(devices);
    } else {
        site.devices.reserve(site.devices.size() + devices.size());
        for (auto& d : devices) site.devices.push_back(std::move(d));
    }
    for (const auto& d : found.items()) diags.add(d);
    // The cache becomes this file's blocks, in its order: the kept ones moved over, the new
    // ones that gave one device without a complaint added (the others are parsed again next time).
    SiteLoadCache::Blocks next;
    next.reserve(blocks->size());
    for (size_t i = 0; i < blocks->size(); ++i) {
        if (at[i] != std::string::npos)
            next.push_back(std::move(cached[at[i]]));
        else if (fresh[i])
            next.push_back(std::move(fresh[i]));
    }
    cached = std::move(next);
    cache.reused += blocks->size() - changed;
    cache.parsed += changed;
    return true;
}

void remember_device_blocks(const Site& site, size_t first, const std::string& file, std::string_view text, SiteLoadCache& cache) {
    using namespace device_blocks;
    cache.device_blocks.erase(file);
    auto blocks = split(text);
    if (!blocks || blocks->size() != site.devices.size() - first) return;
    SiteLoadCache::Blocks kept;
    kept.reserve(blocks->size());
    for (size_t i = 0; i < blocks->size(); ++i) {
        const Device& d = site.devices[first + i];
        if (d.origin.line != (*blocks)[i].line) return;  // not the block it came from: keep nothing
        kept.push_back(std::make_unique<SiteLoadCache::Block>(SiteLoadCache::Block{std::string((*blocks)[i].text), d, 0}));
    }
    cache.parsed += blocks->size();
    cache.device_blocks[file] = std::move(kept);
}

}  // namespace wardgate::site_detail
