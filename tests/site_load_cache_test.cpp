// The service reloads a site after every edit and keeps the devices of unchanged [[device]]
// blocks: whatever the edit, a load with that cache must give exactly what a whole read gives
// (every field, every origin line, every error), and reuse what it can.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <random>

#include "support/temp_site.hpp"
#include "support/test_paths.hpp"
#include "wardgate/core/diagnostic.hpp"
#include "wardgate/site/load.hpp"

using namespace wardgate;
using namespace wardgate::testing;

namespace {

std::string device_text(const Device& d) {
    std::string addresses, tags;
    for (const auto& a : d.addresses) addresses += a.to_string() + " ";
    for (const auto& t : d.tags) tags += t + " ";
    return fmt::format("{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}:{}", d.name, addresses, d.mac, d.role, d.vendor,
                       d.model, d.department, d.segment, tags, static_cast<int>(d.fda_class), static_cast<int>(d.phi),
                       static_cast<int>(d.downtime_impact), static_cast<int>(d.lifecycle), d.eol ? to_string(*d.eol) : "",
                       d.eos ? to_string(*d.eos) : "", d.monitor, d.origin.file, d.origin.line);
}

// The devices, or the errors, a load gives.
std::vector<std::string> loaded(const std::filesystem::path& dir, SiteLoadCache* cache) {
    std::vector<std::string> out;
    try {
        for (const auto& d : load_site(dir, cache).devices) out.push_back(device_text(d));
    } catch (const InputError& e) {
        for (const auto& d : e.diagnostics()) out.push_back("error: " + d.to_string());
    }
    return out;
}

// The file cut at its [[device]] headers (the first piece holds the comments before them).
std::vector<std::string> blocks_of(const std::string& text) {
    std::vector<std::string> out{""};
    size_t pos = 0;
    while (pos < text.size()) {
        size_t next = text.find('\n', pos);
        next = next == std::string::npos ? text.size() : next + 1;
        std::string line = text.substr(pos, next - pos);
        if (line.rfind("[[device]]", 0) == 0) out.emplace_back();
        out.back() += line;
        pos = next;
    }
    return out;
}

std::string joined(const std::vector<std::string>& blocks) {
    std::string out;
    for (const auto& b : blocks) out += b;
    return out;
}

std::string replaced_line(std::string block, const std::string& key, const std::string& line) {
    auto at = block.find("\n" + key + " = ");
    if (at == std::string::npos) return block + line + "\n";
    auto end = block.find('\n', at + 1);
    return block.replace(at + 1, end - at - 1, line);
}

}  // namespace

TEST_CASE("a reload with the device block cache gives exactly what a whole read gives, edit after edit", "[site][cache]") {
    TempSite site({}, false);
    std::filesystem::copy(kExampleSite, site.dir(), std::filesystem::copy_options::recursive |
                                                         std::filesystem::copy_options::overwrite_existing);
    const auto original = read_text(site.dir() / "devices.toml");
    SiteLoadCache cache;
    REQUIRE(loaded(site.dir(), &cache) == loaded(site.dir(), nullptr));
    const size_t devices = blocks_of(original).size() - 1;
    CHECK(cache.parsed == devices);  // the first load reads the whole file and keeps every block

    std::mt19937 rng(20261205);
    auto blocks = blocks_of(original);
    int reused_loads = 0;
    for (int step = 0; step < 150; ++step) {
        const size_t n = blocks.size() - 1;  // blocks[0]: the comments before the first device
        auto pick = [&] { return 1 + rng() % n; };
        std::string what;
        switch (rng() % 13) {
            case 0: {  // a device added somewhere: a copy of another with its own name and address
                auto b = blocks[pick()];
                b = replaced_line(b, "name", fmt::format("name = \"extra-{}\"", step));
                b = replaced_line(b, "addresses", fmt::format("addresses = [\"10.250.{}.{}\"]", step / 200, step % 200 + 1));
                b = replaced_line(b, "mac", "");
                blocks.insert(blocks.begin() + static_cast<long>(pick()), b);
                what = "added";
                break;
            }
            case 1:
                if (n > 5) blocks.erase(blocks.begin() + static_cast<long>(pick()));
                what = "removed";
                break;
            case 2: {
                auto& b = blocks[pick()];
                b = replaced_line(b, "department", fmt::format("department = \"Ward {}\"", step));
                what = "a field changed";
                break;
            }
            case 3: {  // a mistake in one block: both reads must refuse it alike
                auto& b = blocks[pick()];
                b = replaced_line(b, "phi", "phi = \"extreme\"");
                what = "a bad value";
                break;
            }
            case 4: blocks[pick()] += "# moved to the new wing\n\n"; what = "a comment (the lines below move)"; break;
            case 5: std::swap(blocks[pick()], blocks[pick()]); what = "two devices swapped"; break;
            case 6: {  // a syntax error, then mended at the next edit of that kind
                auto& b = blocks[pick()];
                b += "vendor = \n";
                what = "a syntax error";
                break;
            }
            case 7: blocks[0] += "\n"; what = "a blank line at the top"; break;
            case 8: {  // two edits far apart: the first device and the last
                blocks[1] = replaced_line(blocks[1], "department", fmt::format("department = \"Top {}\"", step));
                blocks[n] = replaced_line(blocks[n], "department", fmt::format("department = \"Bottom {}\"", step));
                what = "the first and the last device changed";
                break;
            }
            case 9: {  // the newline before a header gone: two blocks run together
                auto& b = blocks[pick()];
                if (!b.empty() && b.back() == '\n') b.pop_back();
                what = "a header joined to the line above";
                break;
            }
            case 10: {  // a header that is no longer [[device]]
                auto& b = blocks[pick()];
                b.replace(0, 10, rng() % 2 ? "[[devices]]" : "[[device]] # checked");
                what = "a header changed";
                break;
            }
            case 11: what = "nothing changed"; break;
            default: {  // a duplicate of another device, names and all
                blocks.insert(blocks.begin() + static_cast<long>(pick()), blocks[pick()]);
                what = "a duplicate";
            }
        }
        // Mistakes do not pile up: a step in three starts again from the last good file.
        std::string text = joined(blocks);
        site.write("devices.toml", text);
        INFO("step " << step << ": " << what);
        auto with = loaded(site.dir(), &cache), without = loaded(site.dir(), nullptr);
        REQUIRE(with == without);
        if (cache.reused > 0) ++reused_loads;
        if (!without.empty() && without.front().starts_with("error: ") && rng() % 3 != 0) blocks = blocks_of(original);
    }
    CHECK(reused_loads > 50);

    // One device added to the unchanged file: one block parsed, every other reused.
    site.write("devices.toml", original);
    REQUIRE(loaded(site.dir(), &cache) == loaded(site.dir(), nullptr));
    auto b = blocks_of(original);
    b.push_back(replaced_line(replaced_line(replaced_line(b[1], "name", "name = \"pump-new\""), "addresses",
                                            "addresses = [\"10.110.0.99\"]"),
                              "mac", ""));
    site.write("devices.toml", joined(b));
    REQUIRE(loaded(site.dir(), &cache) == loaded(site.dir(), nullptr));
    CHECK(cache.parsed == 1);
    CHECK(cache.reused == devices);

    // The first device and the last changed at once: two blocks parsed, however far apart.
    auto far = blocks_of(original);
    far[1] = replaced_line(far[1], "department", "department = \"Wing A\"");
    far.back() = replaced_line(far.back(), "department", "department = \"Wing B\"");
    site.write("devices.toml", joined(far));
    REQUIRE(loaded(site.dir(), &cache) == loaded(site.dir(), nullptr));
    CHECK(cache.parsed == 2);
    CHECK(cache.reused == devices - 2);

    // Anything but [[device]] tables: read whole, and still the same.
    site.write("devices.toml", original + "\n[extra]\nnote = \"x\"\n");
    CHECK(loaded(site.dir(), &cache) == loaded(site.dir(), nullptr));
    CHECK(cache.reused == 0);
    site.write("devices.toml", original + "\n[[device]]\nname = \"\"\"pump-x\"\"\"\n");
    CHECK(loaded(site.dir(), &cache) == loaded(site.dir(), nullptr));
    CHECK(cache.reused == 0);
}
