// devices.toml read again after an edit. The new text is compared with the one the cache holds:
// the [[device]] blocks lying wholly in the bytes both share at their start, or at their end,
// give the device they gave last time; only the blocks between are split out of the text and
// parsed (or, when their text equals a kept block's, taken from it). A block is the text from
// one [[device]] header to the next; blocks are independent only when nothing else in the file
// can join two of them, so a file with any other table header, a multi-line string (which
// could hide one) or keys before the first device is always read whole.
#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "loaders.hpp"
#include "toml_fields.hpp"

namespace wardgate::site_detail {

namespace device_blocks {

// More changed blocks than this and parsing the file whole is as quick.
constexpr size_t kMostParsedAlone = 32;

struct Block {
    size_t offset = 0;  // of its [[device]] header
    int line = 0;
    std::string_view text;
};

struct Split {
    std::vector<Block> blocks;
    int end_line = 0;  // of the region's end
};

std::string_view trimmed(std::string_view s) {
    const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!s.empty() && space(s.front())) s.remove_prefix(1);
    while (!s.empty() && space(s.back())) s.remove_suffix(1);
    return s;
}

// The blocks of text[begin, end), which starts at a line's start numbered `line`; the lines
// before its first header may only be blank or comments. Nullopt when it holds anything else.
std::optional<Split> split(std::string_view text, size_t begin, size_t end, int line) {
    const std::string_view region = text.substr(begin, end - begin);
    if (region.find("\"\"\"") != std::string_view::npos || region.find("'''") != std::string_view::npos) return std::nullopt;
    Split out;
    size_t pos = begin, start = std::string_view::npos;
    int start_line = 0;
    while (pos < end) {
        const size_t newline = text.find('\n', pos);
        const size_t next = newline == std::string_view::npos || newline >= end ? end : newline + 1;
        // Only a line's first character that is not blank matters, unless it opens a table.
        size_t first = pos;
        while (first < next && (text[first] == ' ' || text[first] == '\t' || text[first] == '\r')) ++first;
        const char lead = first < next ? text[first] : '\n';
        if (lead == '[') {
            if (trimmed(text.substr(pos, next - pos)) != "[[device]]") return std::nullopt;
            if (start != std::string_view::npos) out.blocks.push_back({start, start_line, text.substr(start, pos - start)});
            start = pos;
            start_line = line;
        } else if (start == std::string_view::npos && lead != '\n' && lead != '#') {
            return std::nullopt;  // a key before the first device
        }
        pos = next;
        ++line;
    }
    if (start != std::string_view::npos) out.blocks.push_back({start, start_line, text.substr(start, end - start)});
    out.end_line = line;
    return out;
}

// How many bytes a and b share at their start; compared a page at a time.
size_t common_prefix(std::string_view a, std::string_view b) {
    constexpr size_t kPage = 4096;
    const size_t n = std::min(a.size(), b.size());
    size_t i = 0;
    while (i + kPage <= n && std::memcmp(a.data() + i, b.data() + i, kPage) == 0) i += kPage;
    while (i < n && a[i] == b[i]) ++i;
    return i;
}

size_t common_suffix(std::string_view a, std::string_view b) {
    constexpr size_t kPage = 4096;
    const size_t n = std::min(a.size(), b.size());
    size_t i = 0;
    while (i + kPage <= n && std::memcmp(a.data() + a.size() - i - kPage, b.data() + b.size() - i - kPage, kPage) == 0)
        i += kPage;
    while (i < n && a[a.size() - 1 - i] == b[b.size() - 1 - i]) ++i;
    return i;
}

using Kept = std::vector<std::unique_ptr<SiteLoadCache::Block>>;

// Which kept block (from `first` on) each new block's text equals (npos: none). Edits keep
// blocks in order, so the walk compares each block with the kept one at the same place and,
// when they differ, looks a few blocks ahead on either side for where the two agree again.
std::vector<size_t> match(const std::vector<Block>& blocks, const Kept& kept, size_t first, size_t last,
                          std::string_view kept_text) {
    constexpr size_t kLookAhead = 8;
    constexpr size_t npos = std::string::npos;
    const auto kept_block = [&](size_t j) {
        const size_t end = j + 1 < kept.size() ? kept[j + 1]->offset : kept_text.size();
        return kept_text.substr(kept[j]->offset, end - kept[j]->offset);
    };
    std::vector<size_t> out(blocks.size(), npos);
    size_t j = first;
    for (size_t i = 0; i < blocks.size(); ++i) {
        auto same = [&](size_t new_at, size_t old_at) {
            return new_at < blocks.size() && old_at < last && blocks[new_at].text == kept_block(old_at);
        };
        if (same(i, j)) {
            out[i] = j++;
            continue;
        }
        bool placed = false;
        for (size_t k = 1; k <= kLookAhead && !placed; ++k) {
            if (same(i, j + k)) {  // kept blocks j..j+k-1 are gone
                j += k;
                out[i] = j++;
                placed = true;
            } else if (same(i + k, j)) {  // blocks i..i+k-1 are new
                i += k - 1;
                placed = true;
            }
        }
        if (!placed && j < last) ++j;  // this block took the place of that one
    }
    return out;
}

// The devices one block gives, parsed alone; their lines, and those of what it reports, moved
// to where the block stands.
enum class Parsed { syntax_error, with_errors, one_device };
Parsed parse_block(const Site& site, const std::string& file, std::string_view text, int line, std::vector<Device>& devices,
                 Diagnostics& found) {
    const int shift = line - 1;
    Diagnostics own;
    auto root = parse_toml_text(text, site.dir / file, file, own);
    if (!root) return Parsed::syntax_error;
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
    return own.empty() && one.devices.size() == 1 ? Parsed::one_device : Parsed::with_errors;
}

}  // namespace device_blocks

bool load_device_blocks(Site& site, const std::string& file, std::string& text, Diagnostics& diags, SiteLoadCache& cache) {
    using namespace device_blocks;
    auto known = cache.devices_files.find(file);
    if (known == cache.devices_files.end()) return false;
    auto& kept = known->second;
    Kept& old = kept.blocks;
    const std::string_view was = kept.text;

    // Kept blocks [0, first) end before the first changed byte and stay where they are; kept
    // blocks [last, n) begin after the last changed byte (the newline before each header is
    // unchanged too) and move with the change in length. The text between is split again.
    const size_t prefix = common_prefix(was, text);
    const size_t suffix = common_suffix(was.substr(prefix), std::string_view(text).substr(prefix));
    const bool same_text = prefix == was.size() && was.size() == text.size();
    size_t first = old.size(), last = old.size();
    if (!same_text) {
        const auto at_or_after = std::lower_bound(old.begin(), old.end(), prefix,
                                                  [](const auto& b, size_t at) { return b->offset < at; });
        first = at_or_after == old.begin() ? 0 : static_cast<size_t>(at_or_after - old.begin()) - 1;
        const auto after = std::upper_bound(old.begin(), old.end(), was.size() - suffix,
                                            [](size_t at, const auto& b) { return at < b->offset; });
        last = std::max(first, static_cast<size_t>(after - old.begin()));
    }
    const bool from_top = !same_text && prefix < old.front()->offset;  // the lines before the first device changed
    const size_t begin = from_top ? 0 : first < old.size() ? old[first]->offset : text.size();
    const int begin_line = from_top ? 1 : first < old.size() ? old[first]->line : 0;
    const auto moved = static_cast<ptrdiff_t>(text.size()) - static_cast<ptrdiff_t>(was.size());
    const auto shifted = [moved](size_t offset) { return static_cast<size_t>(static_cast<ptrdiff_t>(offset) + moved); };
    const size_t end = last < old.size() ? shifted(old[last]->offset) : text.size();
    Split between{{}, begin_line};
    if (begin < end) {
        auto found = split(text, begin, end, begin_line);
        if (!found) {
            cache.devices_files.erase(known);
            return false;
        }
        between = std::move(*found);
    }
    const int lines_moved = last < old.size() ? between.end_line - old[last]->line : 0;
    const auto matched = match(between.blocks, old, first, last, was);

    // The file's blocks in order: where each stands now, and the kept block it is (if any).
    struct Entry {
        size_t offset;
        int line;
        size_t kept;  // npos: a new text
    };
    constexpr size_t npos = std::string::npos;
    std::vector<Entry> entries;
    entries.reserve(first + between.blocks.size() + old.size() - last);
    for (size_t i = 0; i < first; ++i) entries.push_back({old[i]->offset, old[i]->line, i});
    for (size_t i = 0; i < between.blocks.size(); ++i)
        entries.push_back({between.blocks[i].offset, between.blocks[i].line, matched[i]});
    for (size_t i = last; i < old.size(); ++i) entries.push_back({shifted(old[i]->offset), old[i]->line + lines_moved, i});
    if (entries.empty()) return false;
    const auto parse_needed = [&](const Entry& e) { return e.kept == npos || !old[e.kept]->device; };
    const size_t parsed = static_cast<size_t>(std::count_if(entries.begin(), entries.end(), parse_needed));
    if (parsed > kMostParsedAlone) return false;

    // Into a copy: a syntax error anywhere and the file is read whole, which reports only that
    // (and the cache stays as it was).
    std::vector<Device> devices;
    devices.reserve(entries.size());
    Diagnostics found;
    std::vector<std::unique_ptr<SiteLoadCache::Block>> fresh(entries.size());
    for (size_t i = 0; i < entries.size(); ++i) {
        const Entry& e = entries[i];
        if (!parse_needed(e)) {
            const auto& block = *old[e.kept];
            devices.push_back(*block.device);
            devices.back().origin = {file, e.line + block.line_offset};
            continue;
        }
        const size_t block_end = i + 1 < entries.size() ? entries[i + 1].offset : text.size();
        fresh[i] = std::make_unique<SiteLoadCache::Block>(SiteLoadCache::Block{e.offset, e.line, std::nullopt, 0});
        const auto parsed_as = parse_block(site, file, std::string_view(text).substr(e.offset, block_end - e.offset), e.line,
                                           devices, found);
        if (parsed_as == Parsed::syntax_error) return false;
        if (parsed_as == Parsed::with_errors) continue;
        fresh[i]->device = devices.back();
        fresh[i]->line_offset = devices.back().origin.line - e.line;
    }
    if (site.devices.empty()) {
        site.devices = std::move(devices);
    } else {
        site.devices.reserve(site.devices.size() + devices.size());
        for (auto& d : devices) site.devices.push_back(std::move(d));
    }
    for (const auto& d : found.items()) diags.add(d);
    // The cache becomes this text and its blocks: the kept ones moved over to where they now
    // stand, the parsed ones added (without a device when they gave an error).
    std::vector<std::unique_ptr<SiteLoadCache::Block>> next(entries.size());
    for (size_t i = 0; i < entries.size(); ++i) {
        next[i] = fresh[i] ? std::move(fresh[i]) : std::move(old[entries[i].kept]);
        next[i]->offset = entries[i].offset;
        next[i]->line = entries[i].line;
    }
    old = std::move(next);
    kept.text = std::move(text);
    cache.reused += entries.size() - parsed;
    cache.parsed += parsed;
    return true;
}

void remember_device_blocks(const Site& site, size_t first, const std::string& file, std::string&& text, SiteLoadCache& cache) {
    using namespace device_blocks;
    cache.devices_files.erase(file);
    auto found = split(text, 0, text.size(), 1);
    if (!found || found->blocks.empty() || found->blocks.size() != site.devices.size() - first) return;
    SiteLoadCache::DevicesFile kept;
    kept.blocks.reserve(found->blocks.size());
    for (size_t i = 0; i < found->blocks.size(); ++i) {
        const Device& d = site.devices[first + i];
        const Block& b = found->blocks[i];
        if (d.origin.line != b.line) return;  // not the block it came from: keep nothing
        kept.blocks.push_back(std::make_unique<SiteLoadCache::Block>(SiteLoadCache::Block{b.offset, b.line, d, 0}));
    }
    cache.parsed += found->blocks.size();
    kept.text = std::move(text);
    cache.devices_files[file] = std::move(kept);
}

}  // namespace wardgate::site_detail
