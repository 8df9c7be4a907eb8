#include "wardgate/plan/publish.hpp"

#include <algorithm>
#include <set>
#include <string_view>

#include "wardgate/plan/plan.hpp"
#include "wardgate/plan/snapshot.hpp"
#include "wardgate/policy/document.hpp"
#include "wardgate/policy/slice.hpp"

namespace wardgate {

namespace publishing {

PublishedSlice slice_of(const std::string& gateway, const Policy& policy, ChunkWriter& chunks) {
    PublishedSlice s;
    s.gateway = gateway;
    s.document = policy_document(policy, &chunks).dump();
    s.hash = sha256_hex(s.document);
    return s;
}

}  // namespace publishing

PublishedVersion published_version(const Pipeline& p, const std::optional<PolicySnapshot>& before,
                                   const PublishOptions& options) {
    ChunkWriter chunks;
    PublishedVersion v = published_documents(p, options, chunks);
    v.chunks = chunks.named([](const std::string&) { return true; });
    add_published_plan(v, p, before);
    return v;
}

PublishedVersion published_documents(const Pipeline& p, const PublishOptions& options, ChunkWriter& chunks) {
    PublishedVersion v;
    v.site = p.policy.site;
    v.author = options.author;
    v.slices.push_back(publishing::slice_of("", p.policy, chunks));
    const auto slices = slices_for_gateways(p.policy, *p.site);
    for (size_t i = 0; i < slices.size(); ++i)
        v.slices.push_back(publishing::slice_of(p.site->gateways[i].name, slices[i], chunks));
    std::sort(v.slices.begin(), v.slices.end(), [](const auto& a, const auto& b) { return a.gateway < b.gateway; });
    std::string all;
    for (const auto& s : v.slices) all += s.gateway + '\0' + s.hash + '\n';
    v.content_hash = sha256_hex(all);
    return v;
}

void add_published_plan(PublishedVersion& v, const Pipeline& p, const std::optional<PolicySnapshot>& before,
                        PolicySnapshot* now) {
    Plan plan = make_plan(p.policy, before, p.edges, *p.book, now);
    v.plan_text = render_plan_text(plan, false);
    v.plan_json = render_plan_json(plan).dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<PolicySnapshot> published_snapshot(const PublishedVersion& v, const ChunkFetch& fetch) {
    auto whole = std::find_if(v.slices.begin(), v.slices.end(), [](const auto& s) { return s.gateway.empty(); });
    if (whole == v.slices.end()) return std::nullopt;
    try {
        auto document = nlohmann::json::parse(whole->document);
        ChunkReader chunks;
        for (auto& c : fetch(chunks_named(document))) chunks.add(c.hash, std::move(c.body));
        return published_snapshot(policy_from_document(document, &chunks), v.id, v.published_at);
    } catch (const std::exception&) {
        return std::nullopt;  // an unreadable earlier version: the plan compares with nothing
    }
}

PolicySnapshot published_snapshot(const Policy& policy, int64_t id, const std::string& published_at) {
    PolicySnapshot s = readable_snapshot(policy);
    name_published_snapshot(s, id, published_at);
    return s;
}

void name_published_snapshot(PolicySnapshot& s, int64_t id, const std::string& published_at) {
    s.saved_at = "version " + std::to_string(id) + " of " + published_at;
}

PublishResult publish_signed(PolicyVersions& db, const PublishedVersion& v, const Signer& publisher) {
    return db.publish(v, [&](const std::string& text) { return publisher.sign(text); });
}

Policy accept_slice(const PublishedVersion& v, const std::string& gateway, const SignatureCheck& publisher,
                    ChunkReader& chunks, const ChunkFetch& fetch) {
    auto it = std::find_if(v.slices.begin(), v.slices.end(), [&](const auto& s) { return s.gateway == gateway; });
    std::string what = gateway.empty() ? "the whole site's policy" : "gateway " + gateway + "'s slice";
    std::string where = "version " + std::to_string(v.id) + " of " + v.site;
    if (it == v.slices.end()) throw SliceRefused(where + " has no " + what);
    if (sha256_hex(it->document) != it->hash) throw SliceRefused(what + " of " + where + " does not match its digest: altered");
    if (it->signature.empty()) throw SliceRefused(what + " of " + where + " is not signed");
    if (!publisher.verifies(signed_text(v.site, v.id, *it), it->signature))
        throw SliceRefused(what + " of " + where + " is not signed by the publisher's key");
    nlohmann::json document;
    try {
        document = nlohmann::json::parse(it->document);
    } catch (const std::exception& e) {
        throw SliceRefused(what + " of " + where + " does not read: " + e.what());
    }
    std::vector<std::string> missing;
    for (auto& h : chunks_named(document))
        if (!chunks.has(h)) missing.push_back(std::move(h));
    if (!missing.empty())
        for (auto& c : fetch(missing)) {
            try {
                chunks.add(c.hash, std::move(c.body));
            } catch (const std::exception& e) {
                throw SliceRefused(what + " of " + where + ": " + e.what());
            }
        }
    try {
        Policy p = policy_from_document(document, &chunks);
        if (p.site != v.site) throw SliceRefused(what + " of " + where + " is a policy of site \"" + p.site + "\"");
        if ((p.gateway ? p.gateway->name : std::string()) != gateway)
            throw SliceRefused(what + " of " + where + " is another gateway's policy");
        return p;
    } catch (const SliceRefused&) {
        throw;
    } catch (const std::exception& e) {
        throw SliceRefused(what + " of " + where + " does not read: " + e.what());
    }
}

Policy accept_slice(const PublishedVersion& v, const std::string& gateway, const SignatureCheck& publisher) {
    ChunkReader chunks;
    return accept_slice(v, gateway, publisher, chunks, [&](const std::vector<std::string>& hashes) {
        const std::set<std::string_view> wanted(hashes.begin(), hashes.end());
        std::vector<HashedChunk> out;
        for (const auto& c : v.chunks)
            if (wanted.count(c.hash)) out.push_back(c);
        return out;
    });
}

}  // namespace wardgate
