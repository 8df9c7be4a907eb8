// devices.toml read again after an edit: the blocks whose text is unchanged give the device
// they gave last time, and only the others are parsed. A block is the text from one [[device]]
// header to the next; blocks are independent only when nothing else in the file can join two
// of them, so a file with any other table header, a multi-line string (which could hide one) or
// keys before the first device is always read whole.
#include <string>
#include <unordered_set>
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
        const auto content = trimmed(text.substr(pos, next - pos));
        if (!content.empty() && content.front() == '[') {
            if (content != "[[device]]") return std::nullopt;
            if (start != std::string_view::npos) out.push_back({start_line, text.substr(start, pos - start)});
            start = pos;
            start_line = line;
        } else if (start == std::string_view::npos && !content.empty() && content.front() != '#') {
            return std::nullopt;  // a key before the first device
        }
        pos = next;
        ++line;
    }
    if (start == std::string_view::npos) return std::nullopt;
    out.push_back({start_line, text.substr(start)});
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
    // Each block's cached device (end() when its text is new), looked up once.
    auto& cached = known->second;
    std::vector<SiteLoadCache::Blocks::iterator> hits;
    hits.reserve(blocks->size());
    size_t changed = 0;
    for (const auto& b : *blocks) {
        hits.push_back(cached.find(b.text));
        changed += hits.back() == cached.end();
    }
    if (changed > kMostParsedAlone) return false;

    // Into a copy: a syntax error anywhere and the file is read whole, which reports only that.
    std::vector<Device> devices;
    devices.reserve(blocks->size());
    Diagnostics found;
    std::vector<std::pair<std::string, SiteLoadCache::Block>> fresh;
    for (size_t i = 0; i < blocks->size(); ++i) {
        const Block& b = (*blocks)[i];
        if (hits[i] != cached.end()) {
            devices.push_back(hits[i]->second.device);
            devices.back().origin = {file, b.line + hits[i]->second.line_offset};
            continue;
        }
        // Parsed where it stands: blank lines before it keep the file's line numbers.
        std::string placed(static_cast<size_t>(b.line - 1), '\n');
        placed += b.text;
        auto root = parse_toml_text(placed, site.dir / file, file, found);
        if (!root) return false;
        Site one;
        const size_t errors = found.items().size();
        for_each_table(*root, "device", file, found, [&](const toml::table& t) { add_device_table(one, t, file, found); });
        for (auto& d : one.devices) devices.push_back(std::move(d));
        if (found.items().size() == errors && one.devices.size() == 1)
            fresh.emplace_back(std::string(b.text), SiteLoadCache::Block{devices.back(), devices.back().origin.line - b.line});
    }
    if (site.devices.empty()) {
        site.devices = std::move(devices);
    } else {
        site.devices.reserve(site.devices.size() + devices.size());
        for (auto& d : devices) site.devices.push_back(std::move(d));
    }
    for (const auto& d : found.items()) diags.add(d);
    // The cache keeps the blocks this file still has: those it found, and the new ones. When it
    // holds no more blocks than were found, every one was found (blocks of one text, which
    // validation refuses as duplicates, may leave one unused entry: it costs memory, not truth).
    if (cached.size() > blocks->size() - changed) {
        std::unordered_set<const SiteLoadCache::Block*> still;
        for (auto it : hits)
            if (it != cached.end()) still.insert(&it->second);
        std::erase_if(cached, [&](const auto& entry) { return !still.count(&entry.second); });
    }
    for (auto& [text, block] : fresh) cached.emplace(std::move(text), std::move(block));
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
    for (size_t i = 0; i < blocks->size(); ++i) {
        const Device& d = site.devices[first + i];
        if (d.origin.line != (*blocks)[i].line) return;  // not the block it came from: keep nothing
        kept.emplace(std::string((*blocks)[i].text), SiteLoadCache::Block{d, 0});
    }
    cache.parsed += blocks->size();
    cache.device_blocks[file] = std::move(kept);
}

}  // namespace wardgate::site_detail
