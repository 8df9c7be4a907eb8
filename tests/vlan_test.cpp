// VLAN links: the libnl requests, the idempotent plan on fabricated kernel state, and the
// real kernel in a namespace with a veth as trunk.
//
// This kernel has no 8021q module, so a VLAN link can never be created here: creating,
// re-addressing and re-owning real VLAN links is not checked against the kernel; the plan
// for those is checked on fabricated state, and the kernel's refusal is checked for its
// exact message.
#include <catch2/catch.hpp>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/vlan.h>

#include <algorithm>
#include <cerrno>
#include <set>

#include "support/netns.hpp"
#include "support/temp_site.hpp"
#include "wardgate/netlink/vlan.hpp"

using namespace wardgate;
using namespace wardgate::netlink;
using wardgate::testing::Netns;

namespace {

Segment make_segment(const std::string& name, std::optional<uint16_t> vlan, std::vector<std::string> subnets,
                std::vector<std::string> gateways) {
    Segment s;
    s.name = name;
    s.vlan = vlan;
    for (const auto& p : subnets) s.subnets.push_back(*Prefix::parse(p));
    for (const auto& g : gateways) s.gateways.push_back(*IpAddress::parse(g));
    return s;
}

Site two_vlan_site() {
    Site site;
    site.segments.push_back(make_segment("icu", 110, {"10.110.0.0/24", "fd00:110::/64"}, {"10.110.0.1", "fd00:110::1"}));
    site.segments.push_back(make_segment("servers", 50, {"10.50.0.0/24"}, {"10.50.0.1"}));
    site.segments.push_back(make_segment("flat", std::nullopt, {"10.9.0.0/24"}, {"10.9.0.1"}));
    return site;
}

constexpr int kTrunk = 2;

LiveLink trunk_link() { return {kTrunk, "trunk0", "veth", 0, 3, "", true, {}}; }

// A live link exactly as wardgate would have made it.
LiveLink made_by_wardgate(const VlanLink& l, int ifindex) {
    return {ifindex, l.name, "vlan", l.vlan_id, kTrunk, l.owner_alias(), true, l.addresses};
}

std::vector<VlanOp::Kind> kinds(const VlanPlan& p) {
    std::vector<VlanOp::Kind> out;
    for (const auto& op : p.ops) out.push_back(op.kind);
    return out;
}

// What the kernel would hold after the plan, to prove that planning again finds nothing.
std::vector<LiveLink> simulate(std::vector<LiveLink> live, const VlanPlan& plan) {
    int next = 100;
    auto find = [&](int ifindex) { return std::find_if(live.begin(), live.end(), [&](auto& l) { return l.ifindex == ifindex; }); };
    for (const auto& op : plan.ops) {
        switch (op.kind) {
            case VlanOp::Kind::create: live.push_back(made_by_wardgate(op.link, next++)); break;
            case VlanOp::Kind::recreate:
                live.erase(find(op.ifindex));
                live.push_back(made_by_wardgate(op.link, next++));
                break;
            case VlanOp::Kind::remove: live.erase(find(op.ifindex)); break;
            case VlanOp::Kind::add_address: find(op.ifindex)->addresses.push_back(op.address); break;
            case VlanOp::Kind::remove_address: std::erase(find(op.ifindex)->addresses, op.address); break;
            case VlanOp::Kind::set_alias: find(op.ifindex)->alias = op.link.owner_alias(); break;
            case VlanOp::Kind::set_up: find(op.ifindex)->up = true; break;
        }
    }
    for (auto& l : live) std::sort(l.addresses.begin(), l.addresses.end());
    return live;
}

// Attributes of the RTM_NEWLINK message libnl builds for the request.
struct LinkMessage {
    std::string ifname, kind;
    int link = 0;
    int vlan_id = -1;
};

LinkMessage encode(rtnl_link* link) {
    nl_msg* msg = nullptr;
    REQUIRE(rtnl_link_build_add_request(link, NLM_F_CREATE | NLM_F_EXCL, &msg) == 0);
    nlmsghdr* hdr = nlmsg_hdr(msg);
    LinkMessage m;
    REQUIRE(hdr->nlmsg_type == RTM_NEWLINK);
    if (nlattr* a = nlmsg_find_attr(hdr, sizeof(ifinfomsg), IFLA_IFNAME)) m.ifname = nla_get_string(a);
    if (nlattr* a = nlmsg_find_attr(hdr, sizeof(ifinfomsg), IFLA_LINK)) m.link = static_cast<int>(nla_get_u32(a));
    if (nlattr* info = nlmsg_find_attr(hdr, sizeof(ifinfomsg), IFLA_LINKINFO)) {
        if (nlattr* k = nla_find(static_cast<nlattr*>(nla_data(info)), nla_len(info), IFLA_INFO_KIND)) m.kind = nla_get_string(k);
        if (nlattr* d = nla_find(static_cast<nlattr*>(nla_data(info)), nla_len(info), IFLA_INFO_DATA))
            if (nlattr* id = nla_find(static_cast<nlattr*>(nla_data(d)), nla_len(d), IFLA_VLAN_ID)) m.vlan_id = nla_get_u16(id);
    }
    nlmsg_free(msg);
    return m;
}

}  // namespace

TEST_CASE("the desired VLAN links come from the segments with a VLAN id", "[vlan]") {
    auto links = desired_vlan_links(two_vlan_site(), "trunk0");
    REQUIRE(links.size() == 2);
    CHECK(links[0].name == "trunk0.110");
    CHECK(links[0].segment == "icu");
    CHECK(links[0].vlan_id == 110);
    CHECK(links[0].owner_alias() == "wardgate:icu");
    // The gateway address with the length of the subnet that holds it.
    CHECK(links[0].addresses == std::vector<std::string>{"10.110.0.1/24", "fd00:110::1/64"});
    CHECK(links[1].name == "trunk0.50");
    CHECK(links[1].addresses == std::vector<std::string>{"10.50.0.1/24"});

    CHECK_THROWS_WITH(desired_vlan_links(two_vlan_site(), "longtrunkname"),
                      Catch::Contains("link name longtrunkname.110 is longer than the kernel's 15 bytes"));
    Site dup = two_vlan_site();
    dup.segments[1].vlan = 110;
    CHECK_THROWS_WITH(desired_vlan_links(dup, "trunk0"), "segments icu and servers both use VLAN 110");
}

TEST_CASE("a --trunk that is no interface name is refused before anything is read or changed", "[vlan]") {
    wardgate::testing::TempSite site;
    for (const std::string cmd : {"vlan", "serve"}) {
        auto r = wardgate::testing::run_wardgate(cmd + " " + site.dir().string() + " --trunk 'eth0 up'");
        INFO(cmd << ": " << r.err);
        CHECK(r.exit_code == 1);
        CHECK_THAT(r.err, Catch::Contains("--trunk: \"eth0 up\" is no interface name (1-15 bytes"));
    }
}

TEST_CASE("the VLAN link request is a vlan link with id, parent and name", "[vlan]") {
    auto links = desired_vlan_links(two_vlan_site(), "trunk0");
    LinkPtr req = build_vlan_link_request(links[0], 7);
    // The libnl object...
    CHECK(std::string(rtnl_link_get_type(req.get())) == "vlan");
    CHECK(rtnl_link_is_vlan(req.get()));
    CHECK(rtnl_link_vlan_get_id(req.get()) == 110);
    CHECK(rtnl_link_get_link(req.get()) == 7);
    CHECK(std::string(rtnl_link_get_name(req.get())) == "trunk0.110");
    CHECK(std::string(rtnl_link_get_ifalias(req.get())) == "wardgate:icu");
    // ...and the RTM_NEWLINK message libnl makes of it.
    LinkMessage m = encode(req.get());
    CHECK(m.ifname == "trunk0.110");
    CHECK(m.kind == "vlan");
    CHECK(m.link == 7);
    CHECK(m.vlan_id == 110);

    AddrPtr a4 = build_address_request(42, "10.110.0.1/24");
    CHECK(rtnl_addr_get_ifindex(a4.get()) == 42);
    CHECK(rtnl_addr_get_family(a4.get()) == AF_INET);
    CHECK(rtnl_addr_get_prefixlen(a4.get()) == 24);
    char buf[64];
    CHECK(std::string(nl_addr2str(rtnl_addr_get_local(a4.get()), buf, sizeof buf)) == "10.110.0.1/24");
    AddrPtr a6 = build_address_request(42, "fd00:110::1/64");
    CHECK(rtnl_addr_get_family(a6.get()) == AF_INET6);
    CHECK(std::string(nl_addr2str(rtnl_addr_get_local(a6.get()), buf, sizeof buf)) == "fd00:110::1/64");
    CHECK_THROWS_AS(build_address_request(42, "10.110.0.1"), std::invalid_argument);
}

TEST_CASE("planning VLAN links on fabricated kernel state is idempotent", "[vlan]") {
    auto desired = desired_vlan_links(two_vlan_site(), "trunk0");
    std::vector<LiveLink> base{{1, "lo", "", 0, 0, "", true, {}}, trunk_link()};

    SECTION("nothing there yet: every link is created, then nothing is left to do") {
        auto plan = plan_vlan_links(desired, base, kTrunk);
        CHECK(kinds(plan) == std::vector{VlanOp::Kind::create, VlanOp::Kind::create});
        CHECK(plan.ops[0].link.name == "trunk0.110");
        auto again = plan_vlan_links(desired, simulate(base, plan), kTrunk);
        CHECK_FALSE(again.changes());
        CHECK(again.unchanged == std::vector<std::string>{"trunk0.110", "trunk0.50"});
    }
    SECTION("links that match are left alone") {
        auto live = base;
        live.push_back(made_by_wardgate(desired[0], 10));
        live.push_back(made_by_wardgate(desired[1], 11));
        auto plan = plan_vlan_links(desired, live, kTrunk);
        CHECK_FALSE(plan.changes());
        CHECK(plan.conflicts.empty());
    }
    SECTION("a wrong VLAN id, parent or type is fixed by recreating the link") {
        auto live = base;
        auto wrong_id = made_by_wardgate(desired[0], 10);
        wrong_id.vlan_id = 111;
        auto wrong_parent = made_by_wardgate(desired[1], 11);
        wrong_parent.parent_ifindex = 9;
        live.push_back(wrong_id);
        live.push_back(wrong_parent);
        auto plan = plan_vlan_links(desired, live, kTrunk);
        REQUIRE(kinds(plan) == std::vector{VlanOp::Kind::recreate, VlanOp::Kind::recreate});
        CHECK(plan.ops[0].reason == "it has VLAN id 111, the segment wants 110");
        CHECK(plan.ops[0].ifindex == 10);
        CHECK(plan.ops[1].reason == "it sits on ifindex 9, not on the trunk trunk0 (ifindex 2)");
        CHECK_FALSE(plan_vlan_links(desired, simulate(live, plan), kTrunk).changes());

        auto not_vlan = made_by_wardgate(desired[0], 12);
        not_vlan.kind = "veth";
        CHECK(plan_vlan_links({desired[0]}, {trunk_link(), not_vlan}, kTrunk).ops.at(0).reason == "it is a veth link, not a VLAN");
    }
    SECTION("addresses, owner mark and state are corrected in place") {
        auto live = base;
        auto l = made_by_wardgate(desired[0], 10);
        l.addresses = {"10.110.0.254/24", "fd00:110::1/64"};  // 10.110.0.1/24 missing, .254 extra
        l.up = false;
        l.alias = "wardgate:old-name";
        live.push_back(l);
        live.push_back(made_by_wardgate(desired[1], 11));
        auto plan = plan_vlan_links(desired, live, kTrunk);
        CHECK(kinds(plan) == std::vector{VlanOp::Kind::set_alias, VlanOp::Kind::add_address, VlanOp::Kind::remove_address,
                                         VlanOp::Kind::set_up});
        CHECK(plan.ops[1].address == "10.110.0.1/24");
        CHECK(plan.ops[2].address == "10.110.0.254/24");
        CHECK_FALSE(plan_vlan_links(desired, simulate(live, plan), kTrunk).changes());
    }
    SECTION("links wardgate does not own are never touched") {
        auto live = base;
        // Somebody else's link with the name wardgate wants, wrong in every way.
        live.push_back({10, "trunk0.110", "vlan", 999, 9, "uplink to radiology", false, {"192.0.2.1/24"}});
        // Somebody else's VLAN on the trunk that no segment has.
        live.push_back({11, "trunk0.77", "vlan", 77, kTrunk, "", true, {}});
        auto plan = plan_vlan_links(desired, live, kTrunk);
        REQUIRE(plan.conflicts.size() == 1);
        CHECK(plan.conflicts[0] ==
              "link trunk0.110 exists but is not wardgate's (ifalias \"uplink to radiology\", not \"wardgate:icu\"): left alone, "
              "segment icu has no VLAN link");
        for (const auto& op : plan.ops) {
            CHECK(op.ifindex != 10);
            CHECK(op.ifindex != 11);
        }
        CHECK(kinds(plan) == std::vector{VlanOp::Kind::create});  // only trunk0.50
    }
    SECTION("owned links no segment wants any more are removed, on this trunk only") {
        auto live = base;
        live.push_back(made_by_wardgate(desired[0], 10));
        live.push_back(made_by_wardgate(desired[1], 11));
        live.push_back({12, "trunk0.30", "vlan", 30, kTrunk, "wardgate:lab", true, {"10.30.0.1/24"}});
        live.push_back({13, "eth9.30", "vlan", 30, 8, "wardgate:lab", true, {}});  // another trunk: not ours to judge
        auto plan = plan_vlan_links(desired, live, kTrunk);
        REQUIRE(kinds(plan) == std::vector{VlanOp::Kind::remove});
        CHECK(plan.ops[0].ifindex == 12);
        CHECK(plan.ops[0].link.segment == "lab");
        CHECK_FALSE(plan_vlan_links(desired, simulate(live, plan), kTrunk).changes());
    }
}

TEST_CASE("VLAN links against this kernel, with a veth as trunk", "[vlan][kernel]") {
    Netns ns("vlan");
    ns.exec("ip link add trunk0 type veth peer name peer0");
    ns.exec("ip link set trunk0 up");
    auto desired = desired_vlan_links(two_vlan_site(), "trunk0");

    SECTION("reading the links: kind, alias, parent, addresses") {
        // A veth named like a wardgate link and marked as wardgate's: it is owned, but not a VLAN.
        ns.exec("ip link add trunk0.50 type veth peer name peer50");
        ns.exec("ip link set trunk0.50 alias wardgate:servers");
        ns.exec("ip addr add 10.50.0.1/24 dev trunk0.50");
        auto text = ns.run([&] {
            auto plan = plan_vlan_links_live({desired[1]}, "trunk0");
            return print_vlan_plan(plan);
        });
        CHECK(text == "recreate        trunk0.50 (segment servers, VLAN 50 on trunk0, 10.50.0.1/24): it is a veth link, not a VLAN\n");
        // The same veth without the owner mark is somebody else's.
        ns.exec("ip link set trunk0.50 alias ''");
        text = ns.run([&] { return print_vlan_plan(plan_vlan_links_live({desired[1]}, "trunk0")); });
        CHECK(text.rfind("conflict        link trunk0.50 exists but is not wardgate's", 0) == 0);
        CHECK_THROWS_WITH(ns.run([&] { return print_vlan_plan(plan_vlan_links_live(desired, "nosuch0")); }),
                          "trunk interface nosuch0 does not exist");
    }

    SECTION("an owned link no segment wants is removed from the kernel") {
        ns.exec("ip link add trunk0.99 type veth peer name peer99");
        ns.exec("ip link set trunk0.99 alias wardgate:retired");
        ns.exec("ip link add other0 type veth peer name peerx");  // not ours: stays
        auto text = ns.run([&] {
            auto plan = plan_vlan_links_live({}, "trunk0");
            apply_vlan_plan(plan, "trunk0");
            return print_vlan_plan(plan);
        });
        CHECK(text == "remove          trunk0.99: no segment has this VLAN any more\n");
        std::string out;
        CHECK(ns.exec_status("ip link show trunk0.99", &out) != 0);
        CHECK(ns.exec_status("ip link show other0", &out) == 0);
    }

    SECTION("creating a VLAN link: the kernel's answer") {
        std::string result = ns.run([&] {
            auto plan = plan_vlan_links_live(desired, "trunk0");
            try {
                apply_vlan_plan(plan, "trunk0");
                return std::string("created");
            } catch (const VlanError& e) {
                return std::to_string(e.error()) + " " + e.what();
            }
        });
        if (result == "created") {
            // A kernel with 8021q (not this machine's): the links are there and a second run changes nothing.
            auto again = ns.run([&] { return print_vlan_plan(plan_vlan_links_live(desired, "trunk0")); });
            CHECK(again == "unchanged       trunk0.110\nunchanged       trunk0.50\n");
        } else {
            CHECK(result == std::to_string(EOPNOTSUPP) +
                                " cannot create VLAN link trunk0.110 (segment icu, VLAN 110) on trunk0: kernel has no 802.1Q VLAN "
                                "support (module 8021q)");
            // Nothing half-made was left behind.
            std::string out;
            CHECK(ns.exec_status("ip link show trunk0.110", &out) != 0);
            // Not checked here: the kernel has no 8021q module.
            WARN("creating VLAN links, setting their owner mark, addresses and state, and a second run finding nothing "
                 "to do are not checked here: the kernel has no 8021q module (the plan for them is checked on fabricated state)");
        }
    }
}
