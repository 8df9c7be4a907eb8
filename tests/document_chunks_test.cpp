// A policy document in chunks reads back as the same policy as the whole document; a member
// added changes the chunk it falls in, not those after it; the publisher writes again only the
// chunks an edit changed; a chunk altered anywhere on the way is refused before it is read.
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <set>

#include "support/random_site.hpp"
#include "support/temp_site.hpp"
#include "support/test_paths.hpp"
#include "wardgate/core/signing.hpp"
#include "wardgate/plan/pipeline.hpp"
#include "wardgate/policy/document.hpp"
#include "wardgate/render/nft.hpp"

using namespace wardgate;
using namespace wardgate::testing;

namespace {

// A reader holding every chunk `writer` named this round.
void give(ChunkReader& reader, const ChunkWriter& writer) {
    for (auto& c : writer.named([](const std::string&) { return true; })) reader.add(c.hash, std::move(c.body));
}

std::vector<std::string> names(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::vector<std::string> out;
    for (size_t i = 0; i < n; ++i) out.push_back("pump-" + std::to_string(rng()));
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

std::vector<std::string> hashes(const nlohmann::json& list) { return list.get<std::vector<std::string>>(); }

size_t differing(const std::vector<std::string>& a, const std::vector<std::string>& b) {
    std::set<std::string> sa(a.begin(), a.end()), sb(b.begin(), b.end());
    std::vector<std::string> out;
    std::set_symmetric_difference(sa.begin(), sa.end(), sb.begin(), sb.end(), std::back_inserter(out));
    return out.size();
}

}  // namespace

TEST_CASE("a policy in chunks reads back as the whole document does", "[document][chunks]") {
    for (uint32_t seed = 700; seed < 712; ++seed) {
        INFO("site seed " << seed);
        std::mt19937 rng(seed);
        RandomSite generated = random_site(rng);
        TempSite site(generated.files, false);
        PipelineOptions o;
        o.today = *parse_date(kRandomSiteToday);
        o.dns.offline = true;
        o.dns.write_cache = false;
        const Policy p = run_pipeline(site.dir(), o).policy;
        ChunkWriter writer;
        const auto chunked = policy_document(p, &writer);
        CHECK(chunked.dump().find("\"members\"") == std::string::npos);
        ChunkReader reader;
        give(reader, writer);
        const Policy back = policy_from_document(nlohmann::json::parse(chunked.dump()), &reader);
        CHECK(policy_document(back) == policy_document(p));
        CHECK(render_nft(back) == render_nft(p));
        // Without its chunks it does not read, and says which field lacks them.
        CHECK_THROWS_WITH(policy_from_document(chunked), Catch::Contains("members_chunks: a document in chunks, read without them"));
        ChunkReader partial;
        auto all = writer.named([](const std::string&) { return true; });
        if (all.size() > 1) {
            for (size_t i = 1; i < all.size(); ++i) partial.add(all[i].hash, all[i].body);
            CHECK_THROWS_WITH(policy_from_document(chunked, &partial), Catch::Contains("is missing"));
        }
    }
}

TEST_CASE("a member added changes only the chunk it falls in, and only that chunk is written again", "[document][chunks]") {
    auto members = names(20000, 7);
    ChunkWriter writer;
    const auto before = hashes(writer.members(members));
    writer.end_round();
    REQUIRE(before.size() > 10);  // about one chunk in 512 members
    const size_t written = writer.written();

    auto more = members;
    more.insert(more.begin() + static_cast<long>(more.size() / 3), "pump-added");
    const auto after = hashes(writer.members(more));
    CHECK(after.size() >= before.size());
    // The chunk it fell in is replaced (by at most two, if its hash ends a chunk): one or two
    // new hashes, one old one gone.
    CHECK(differing(before, after) <= 3);
    CHECK(writer.written() - written <= 2);
    writer.end_round();

    // The same again costs nothing: every chunk is the one remembered.
    const size_t again = writer.written();
    CHECK(hashes(writer.members(more)) == after);
    CHECK(writer.written() == again);

    // Prefixes likewise; and their chunks hold exactly the prefixes, in order.
    std::vector<Prefix> prefixes;
    for (uint32_t i = 0; i < 30000; ++i) prefixes.push_back(Prefix::host(IpAddress::v4(0x0A000000u + i * 7)));
    ChunkWriter pw;
    const auto list = hashes(pw.prefixes(prefixes));
    ChunkReader reader;
    give(reader, pw);
    std::vector<Prefix> back;
    for (const auto& h : list) {
        const auto& part = reader.prefixes(h, "prefixes_chunks");
        back.insert(back.end(), part.begin(), part.end());
    }
    CHECK(back == prefixes);
}

TEST_CASE("a chunk that is not the text its hash names is refused", "[document][chunks]") {
    ChunkWriter writer;
    const auto list = hashes(writer.members(names(3000, 9)));
    auto chunks = writer.named([](const std::string&) { return true; });
    REQUIRE(!chunks.empty());
    ChunkReader reader;
    auto altered = chunks.front();
    altered.body.replace(altered.body.find("pump-"), 5, "evil-");
    CHECK_THROWS_WITH(reader.add(altered.hash, altered.body), Catch::Contains("does not match its digest: altered"));
    CHECK_FALSE(reader.has(altered.hash));
    // A text that hashes right but is not a list of names does not read either.
    const std::string odd = R"({"members": 1})";
    reader.add(sha256_hex(odd), odd);
    CHECK_THROWS_WITH(reader.members(sha256_hex(odd), "groups[0].members_chunks[0]"),
                      Catch::Contains("groups[0].members_chunks[0]: chunk does not read"));
}

TEST_CASE("a list cut again after edits gives the chunks a fresh cut gives", "[document][chunks]") {
    // The writer takes a remembered chunk where its elements recur instead of hashing them:
    // whatever the edits, the hashes must be those a writer that remembers nothing gives.
    std::mt19937 rng(31);
    auto members = names(6000, 11);
    // A run of one name over and over: no element ends a chunk by its hash unless that name's
    // does, so chunks end at the most a chunk holds or at the list's end.
    const std::vector<std::string> same_name(9000, "pump-same");
    std::vector<Prefix> prefixes;
    for (uint32_t i = 0; i < 8000; ++i) prefixes.push_back(Prefix::host(IpAddress::v4(0x0A000000u + (rng() & 0xFFFFFu))));
    ChunkWriter warm;
    bool round_ended = true;  // or the warm writer still holds the last round's names too
    for (int round = 0; round < 60; ++round) {
        INFO("round " << round);
        const auto pick = [&](size_t n) { return static_cast<long>(n == 0 ? 0 : rng() % n); };
        switch (rng() % 6) {
            case 0: members.insert(members.begin() + pick(members.size() + 1), "pump-new-" + std::to_string(round)); break;
            case 1: if (!members.empty()) members.erase(members.begin() + pick(members.size())); break;
            case 2: if (!members.empty()) members[static_cast<size_t>(pick(members.size()))] += "x"; break;
            case 3: members.push_back("zz-last-" + std::to_string(round)); break;  // the last chunk grows
            case 4: if (members.size() > 600) members.erase(members.end() - 600, members.end()); break;
            default: prefixes.insert(prefixes.begin() + pick(prefixes.size() + 1), Prefix::host(IpAddress::v4(rng())));
        }
        auto shorter = same_name;
        shorter.resize(same_name.size() - static_cast<size_t>(round) * 97);
        ChunkWriter fresh;
        CHECK(hashes(warm.members(members)) == hashes(fresh.members(members)));
        CHECK(hashes(warm.prefixes(prefixes)) == hashes(fresh.prefixes(prefixes)));
        CHECK(hashes(warm.members(shorter)) == hashes(fresh.members(shorter)));
        // A list that is a run of another's chunks followed by more elements.
        std::vector<std::string> joined(members.begin(), members.begin() + static_cast<long>(members.size() / 2));
        joined.insert(joined.end(), shorter.begin(), shorter.end());
        CHECK(hashes(warm.members(joined)) == hashes(fresh.members(joined)));
        const auto named = [](const ChunkWriter& w) {
            std::vector<std::string> out;
            for (auto& c : w.named([](const std::string&) { return true; })) out.push_back(c.hash + c.body);
            return out;
        };
        const auto all = named(warm), wanted = named(fresh);
        if (round_ended) CHECK(all == wanted);
        else CHECK(std::includes(all.begin(), all.end(), wanted.begin(), wanted.end()));
        round_ended = rng() % 3 != 0;
        if (round_ended) warm.end_round();
    }
}
