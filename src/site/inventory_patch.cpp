// Each edit becomes a byte span of the file replaced by new text: the value of `segment` and
// `addresses` in a [[device]] table (where toml++ says they are), or those two fields of an
// asset CSV row. The spans make the new file; the changed lines, with three lines of context,
// make the unified diff.
#include "wardgate/site/inventory_patch.hpp"

#include <algorithm>
#include <map>
#include <unordered_map>

#include <toml++/toml.h>

#include "wardgate/core/csv.hpp"
#include "wardgate/core/file_io.hpp"
#include "wardgate/core/text.hpp"
#include "wardgate/site/site_names.hpp"

namespace wardgate {

namespace {

struct SpanEdit {
    size_t begin = 0, end = 0;  // byte offsets into the file, end excluded
    std::string text;
};

// Where every line starts; lines keep their own line ends.
std::vector<size_t> line_starts(const std::string& text) {
    std::vector<size_t> starts{0};
    for (size_t i = 0; i < text.size(); ++i)
        if (text[i] == '\n' && i + 1 < text.size()) starts.push_back(i + 1);
    return starts;
}

std::vector<std::string> split_lines(std::string_view text) {
    std::vector<std::string> lines;
    size_t start = 0;
    while (start < text.size()) {
        size_t nl = text.find('\n', start);
        size_t end = nl == std::string_view::npos ? text.size() : nl + 1;
        lines.emplace_back(text.substr(start, end - start));
        start = end;
    }
    return lines;
}

// One line of a hunk; a last line without a line end says so, as diff(1) does.
void hunk_line(std::string& out, char mark, const std::string& line) {
    out += mark;
    out += line;
    if (line.empty() || line.back() != '\n') out += "\n\\ No newline at end of file\n";
}

std::string unified_diff(const std::string& file, const std::string& text, std::vector<SpanEdit> edits) {
    if (edits.empty()) return {};
    constexpr size_t kContext = 3;
    const auto starts = line_starts(text);
    const auto old_lines = split_lines(text);
    auto line_of = [&](size_t offset) {
        return static_cast<size_t>(std::upper_bound(starts.begin(), starts.end(), offset) - starts.begin()) - 1;
    };
    std::sort(edits.begin(), edits.end(), [](const SpanEdit& a, const SpanEdit& b) { return a.begin < b.begin; });
    // Regions: runs of whole lines that edits touch, each with its new lines.
    struct Region {
        size_t first = 0, last = 0;
        std::vector<SpanEdit> edits;
        std::vector<std::string> lines;
    };
    std::vector<Region> regions;
    for (auto& e : edits) {
        size_t first = line_of(e.begin), last = line_of(e.end > e.begin ? e.end - 1 : e.begin);
        if (!regions.empty() && first <= regions.back().last) {
            regions.back().last = std::max(regions.back().last, last);
        } else {
            regions.push_back({first, last, {}, {}});
        }
        regions.back().edits.push_back(std::move(e));
    }
    for (auto& r : regions) {
        size_t from = starts[r.first], to = r.last + 1 < starts.size() ? starts[r.last + 1] : text.size();
        std::string changed;
        size_t at = from;
        for (const auto& e : r.edits) {
            changed.append(text, at, e.begin - at);
            changed += e.text;
            at = e.end;
        }
        changed.append(text, at, to - at);
        r.lines = split_lines(changed);
    }
    std::string out = "--- a/" + file + "\n+++ b/" + file + "\n";
    long delta = 0;  // new lines minus old lines in the hunks written so far
    for (size_t i = 0; i < regions.size();) {
        size_t j = i;
        while (j + 1 < regions.size() && regions[j + 1].first <= regions[j].last + 2 * kContext + 1) ++j;
        size_t first = regions[i].first >= kContext ? regions[i].first - kContext : 0;
        size_t last = std::min(old_lines.size() - 1, regions[j].last + kContext);
        std::string body;
        size_t old_count = 0, new_count = 0, line = first;
        for (size_t k = i; k <= j; ++k) {
            for (; line < regions[k].first; ++line, ++old_count, ++new_count) hunk_line(body, ' ', old_lines[line]);
            for (; line <= regions[k].last; ++line, ++old_count) hunk_line(body, '-', old_lines[line]);
            for (const auto& l : regions[k].lines) {
                hunk_line(body, '+', l);
                ++new_count;
            }
        }
        for (; line <= last; ++line, ++old_count, ++new_count) hunk_line(body, ' ', old_lines[line]);
        out += "@@ -" + std::to_string(first + 1) + "," + std::to_string(old_count) + " +" +
               std::to_string(static_cast<long>(first) + 1 + delta) + "," + std::to_string(new_count) + " @@\n" + body;
        delta += static_cast<long>(new_count) - static_cast<long>(old_count);
        i = j + 1;
    }
    return out;
}

std::string address_list(const std::vector<IpAddress>& addresses, std::string_view separator) {
    std::string out;
    for (const auto& a : addresses) out += (out.empty() ? "" : std::string(separator)) + a.to_string();
    return out;
}

// toml++ counts columns in characters (code points), from 1.
size_t byte_offset(const std::string& text, const std::vector<size_t>& starts, const toml::source_position& p) {
    size_t at = starts[std::min<size_t>(p.line - 1, starts.size() - 1)];
    for (uint32_t column = 1; column < p.column && at < text.size() && text[at] != '\n'; ++column) {
        ++at;
        while (at < text.size() && (static_cast<unsigned char>(text[at]) & 0xC0) == 0x80) ++at;
    }
    return at;
}

struct FileEdits {
    std::vector<SpanEdit> spans;
    std::vector<std::string> by_hand;
};

void toml_edits(const std::string& file, const std::string& text, const std::vector<const DeviceEdit*>& edits,
                const SiteNames& site, FileEdits& out) {
    toml::table root;
    try {
        root = toml::parse(text, file);
    } catch (const toml::parse_error& e) {
        for (const auto* e2 : edits)
            out.by_hand.push_back(e2->device + " (" + file + "): the file no longer parses: " + std::string(e.description()));
        return;
    }
    const auto starts = line_starts(text);
    std::unordered_map<std::string_view, const toml::table*> tables;  // the last of a name, as the site reads it
    if (const auto* devices = root.get_as<toml::array>("device"))
        for (const auto& node : *devices)
            if (const auto* t = node.as_table())
                if (const auto* name = t->get_as<std::string>("name")) tables[name->get()] = t;
    for (const auto* edit : edits) {
        auto found = tables.find(edit->device);
        const toml::table* table = found == tables.end() ? nullptr : found->second;
        const Device* d = site.device(edit->device);
        const std::string place = file + ":" + std::to_string(d ? d->origin.line : 0);
        const toml::node* segment = table ? table->get("segment") : nullptr;
        const toml::node* addresses = table ? table->get("addresses") : nullptr;
        if (!segment || !addresses || !segment->is_string() || segment->source().begin.line == 0 ||
            addresses->source().begin.line == 0) {
            out.by_hand.push_back(edit->device + " (" + place + "): its [[device]] table, segment or addresses " +
                                  "were not found where the site was read from; set segment = \"" + edit->segment +
                                  "\" and addresses = [" + address_list(edit->addresses, ", ") + "] by hand");
            continue;
        }
        auto span_of = [&](const toml::node& n) {
            return std::pair{byte_offset(text, starts, n.source().begin), byte_offset(text, starts, n.source().end)};
        };
        auto [sb, se] = span_of(*segment);
        out.spans.push_back({sb, se, "\"" + edit->segment + "\""});
        std::string list;
        for (const auto& a : edit->addresses) list += (list.empty() ? "\"" : ", \"") + a.to_string() + "\"";
        auto [ab, ae] = span_of(*addresses);
        out.spans.push_back({ab, ae, "[" + list + "]"});
    }
}

void csv_edits(const std::string& file, const std::string& text, const std::vector<const DeviceEdit*>& edits,
               const SiteNames& site, FileEdits& out) {
    const auto starts = line_starts(text);
    const auto lines = split_lines(text);
    auto body = [](const std::string& line) {
        std::string_view v(line);
        if (!v.empty() && v.back() == '\n') v.remove_suffix(1);
        return v;
    };
    if (lines.empty()) return;
    std::string_view header_line = body(lines[0]);
    const size_t bom = header_line.size() - strip_utf8_bom(header_line).size();
    header_line.remove_prefix(bom);
    const char separator =
        header_line.find(',') == std::string_view::npos && header_line.find(';') != std::string_view::npos ? ';' : ',';
    CsvHeader header(split_csv_line(header_line, separator).value_or(std::vector<std::string>{}));
    auto segment_column = header.find("segment");
    auto address_column = header.find("addresses") ? header.find("addresses") : header.find("ip");
    auto name_column = header.find("name");
    for (const auto* edit : edits) {
        const Device* d = site.device(edit->device);
        const int line_no = d ? d->origin.line : 0;
        const std::string place = file + ":" + std::to_string(line_no);
        std::optional<std::vector<CsvSpan>> spans;
        std::optional<std::vector<std::string>> fields;
        if (line_no >= 2 && static_cast<size_t>(line_no) <= lines.size()) {
            spans = csv_field_spans(body(lines[line_no - 1]), separator);
            fields = split_csv_line(body(lines[line_no - 1]), separator);
        }
        if (!spans || !fields || !segment_column || !address_column || !name_column || spans->size() != header.size() ||
            trim((*fields)[*name_column]) != edit->device) {
            out.by_hand.push_back(edit->device + " (" + place + "): the row is not where the site was read from; set " +
                                  "its segment to " + edit->segment + " and its addresses to " +
                                  address_list(edit->addresses, " ") + " by hand");
            continue;
        }
        const std::string& old_addresses = (*fields)[*address_column];
        // The list keeps the separator the row used: ';' where the file is comma-separated and
        // the row had one, else a space.
        std::string list = address_list(edit->addresses, separator != ';' && old_addresses.find(';') != std::string::npos
                                                             ? ";"
                                                             : " ");
        auto field = [&](const std::string& value) {
            if (value.find(separator) == std::string::npos && value.find('"') == std::string::npos) return value;
            std::string quoted = "\"";
            for (char c : value) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
            return quoted + "\"";
        };
        const size_t row = starts[line_no - 1];
        out.spans.push_back({row + (*spans)[*segment_column].begin, row + (*spans)[*segment_column].end, field(edit->segment)});
        out.spans.push_back({row + (*spans)[*address_column].begin, row + (*spans)[*address_column].end, field(list)});
    }
}

}  // namespace

InventoryPatch inventory_patch(const Site& site, const std::vector<DeviceEdit>& edits) {
    // Files in the order their first device was read, edits in the order given.
    std::vector<std::string> files;
    std::map<std::string, std::vector<const DeviceEdit*>> by_file;
    InventoryPatch patch;
    const SiteNames names(site);
    for (const auto& e : edits) {
        const Device* d = names.device(e.device);
        if (!d) {
            patch.by_hand.push_back(e.device + ": no such device");
            continue;
        }
        if (!by_file.count(d->origin.file)) files.push_back(d->origin.file);
        by_file[d->origin.file].push_back(&e);
    }
    std::sort(files.begin(), files.end(), [&](const std::string& a, const std::string& b) {
        return names.device(by_file[a].front()->device) < names.device(by_file[b].front()->device);
    });
    for (const auto& file : files) {
        const std::string text = read_input_file(site.dir / file, file);
        FileEdits fe;
        if (lower(std::filesystem::path(file).extension().string()) == ".csv")
            csv_edits(file, text, by_file[file], names, fe);
        else
            toml_edits(file, text, by_file[file], names, fe);
        patch.diff += unified_diff(file, text, std::move(fe.spans));
        patch.by_hand.insert(patch.by_hand.end(), fe.by_hand.begin(), fe.by_hand.end());
    }
    return patch;
}

}  // namespace wardgate
