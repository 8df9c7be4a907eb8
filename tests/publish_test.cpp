// What a gateway checks before it enforces a published slice, without a database: the slice
// must be there, match its digest, carry the publisher's signature over this site, this
// version's number and this gateway, and read as this gateway's policy of this site.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

#include "support/pipeline_fixture.hpp"
#include "support/temp_dir.hpp"
#include "support/test_paths.hpp"
#include "wardgate/core/signing.hpp"
#include "wardgate/plan/publish.hpp"

using namespace wardgate;
using namespace wardgate::testing;

namespace {

PublishedSlice& slice_named(PublishedVersion& v, const std::string& gateway) {
    auto it = std::find_if(v.slices.begin(), v.slices.end(), [&](const auto& s) { return s.gateway == gateway; });
    REQUIRE(it != v.slices.end());
    return *it;
}

void sign_all(PublishedVersion& v, const std::filesystem::path& key) {
    for (auto& s : v.slices) s.signature = sign_message(key, signed_text(v.site, v.id, s));
}

}  // namespace

TEST_CASE("a gateway enforces only a slice the publisher signed for this site, version and gateway", "[publish]") {
    TempDir tmp("publish");
    const auto key = tmp.path / "p.key", pub = tmp.path / "p.pub", other = tmp.path / "o.key", other_pub = tmp.path / "o.pub";
    generate_signing_key(key, pub);
    generate_signing_key(other, other_pub);
    const Pipeline p = pipeline_for(kExampleSite);
    PublishedVersion v = published_version(p, std::nullopt, PublishOptions{"tester"});
    v.id = 7;
    // The whole policy and one slice per declared gateway, unsigned until stored.
    REQUIRE(v.slices.size() == p.site->gateways.size() + 1);
    CHECK(std::all_of(v.slices.begin(), v.slices.end(), [](const auto& s) { return s.signature.empty(); }));
    sign_all(v, key);
    const SignatureCheck publisher(pub);

    const Policy wards = accept_slice(v, "wards", publisher);
    REQUIRE(wards.gateway);
    CHECK(wards.gateway->name == "wards");
    CHECK(wards.rules.size() < p.policy.rules.size());
    CHECK_FALSE(accept_slice(v, "", publisher).gateway);

    SECTION("a gateway the version has no slice for") {
        CHECK_THROWS_WITH(accept_slice(v, "pharmacy", publisher), Catch::Contains("has no gateway pharmacy's slice"));
    }
    SECTION("the same slices stored under another version number") {
        v.id = 9;
        CHECK_THROWS_WITH(accept_slice(v, "wards", publisher), Catch::Contains("version 9") && Catch::Contains("not signed by the publisher's key"));
    }
    SECTION("signed with another key") {
        sign_all(v, other);
        CHECK_THROWS_WITH(accept_slice(v, "wards", publisher), Catch::Contains("not signed by the publisher's key"));
    }
    SECTION("unsigned") {
        slice_named(v, "wards").signature.clear();
        CHECK_THROWS_WITH(accept_slice(v, "wards", publisher), Catch::Contains("is not signed"));
    }
    SECTION("a document altered, its digest not") {
        auto& s = slice_named(v, "wards");
        s.document.replace(s.document.find("\"rules\""), 7, "\"rulez\"");
        CHECK_THROWS_WITH(accept_slice(v, "wards", publisher), Catch::Contains("does not match its digest: altered"));
    }
    SECTION("a document altered and its digest recomputed") {
        auto& s = slice_named(v, "wards");
        s.document.replace(s.document.find("\"rules\""), 7, "\"rulez\"");
        s.hash = sha256_hex(s.document);
        CHECK_THROWS_WITH(accept_slice(v, "wards", publisher), Catch::Contains("not signed by the publisher's key"));
    }
    SECTION("another gateway's slice, signature and all, under this gateway's name") {
        PublishedSlice core = slice_named(v, "core");
        core.gateway = "wards";
        slice_named(v, "wards") = core;
        CHECK_THROWS_WITH(accept_slice(v, "wards", publisher), Catch::Contains("not signed by the publisher's key"));
    }
    SECTION("another site's name") {
        v.site = "St. Elsewhere";
        CHECK_THROWS_WITH(accept_slice(v, "wards", publisher), Catch::Contains("not signed by the publisher's key"));
    }
    SECTION("signed by the publisher, but another gateway's policy") {
        auto& s = slice_named(v, "wards");
        s.document = slice_named(v, "core").document;
        s.hash = sha256_hex(s.document);
        s.signature = sign_message(key, signed_text(v.site, v.id, s));
        CHECK_THROWS_WITH(accept_slice(v, "wards", publisher), Catch::Contains("is another gateway's policy"));
    }
    SECTION("signed by the publisher, but not a policy document") {
        auto& s = slice_named(v, "wards");
        s.document = "{\"format\": \"wardgate policy\"";
        s.hash = sha256_hex(s.document);
        s.signature = sign_message(key, signed_text(v.site, v.id, s));
        CHECK_THROWS_WITH(accept_slice(v, "wards", publisher), Catch::Contains("does not read"));
    }
}
