#pragma once
// The policy as a person reads it, and the state file that remembers the last one saved or applied.
#include <filesystem>
#include <map>
#include <tuple>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "wardgate/policy/ir.hpp"

namespace wardgate {

struct ReadableRule {
    std::string id;                     // rule_id(): stable across runs
    std::string action;                 // allow | deny
    std::string src, dst;               // group labels
    std::vector<std::string> src_members, dst_members;
    std::string services;               // "tcp/104,11112 udp/123"
    std::vector<std::string> why;       // "declared: BD Alaris 8015 profile - Drug library (profiles/x.toml:7)"
    // The same as data, for --format json; not kept in the state file.
    std::vector<Service> service_list;
    std::vector<Provenance> reasons;
    std::string src_kind, dst_kind;     // the groups' kinds: role, device, endpoint, segment...
    bool trial = false;                 // an approval or deny in monitor (Rule::trial)

    std::string key() const { return action + "|" + src + "|" + dst + (trial ? "|trial" : ""); }
    bool operator==(const ReadableRule& o) const {
        return std::tie(action, src, dst, src_members, dst_members, services, why, trial) ==
               std::tie(o.action, o.src, o.dst, o.src_members, o.dst_members, o.services, o.why, o.trial);
    }
};

struct ReadablePinhole {
    std::string src, dst;      // names (device, endpoint or address)
    std::string src_ip, dst_ip;
    std::string service;       // "tcp/8080"
    std::string why;

    std::string key() const { return src_ip + ">" + dst_ip + "|" + service; }
    bool operator==(const ReadablePinhole&) const = default;
};

struct PolicySnapshot {
    std::string site;
    std::string saved_at;                 // ISO 8601 UTC
    std::vector<ReadableRule> rules;
    std::vector<ReadablePinhole> pinholes;
    std::string ruleset;                  // the nft script that was saved or applied
    // What the default deny does, per scope: "site" and "segment NAME" -> "enforce" | "monitor"
    // (a segment's entry is its effective mode). Empty in state files written before modes were kept.
    std::map<std::string, std::string> modes;
    // The addresses, rules and pinholes behind the readable rules, for the verdict diff.
    // Empty in state files written before it was kept.
    std::optional<Policy> ir;
};

PolicySnapshot snapshot_of(const Policy& policy);
// The same without the nft script (what a plan compares needs none).
PolicySnapshot readable_snapshot(const Policy& policy);

void to_json(nlohmann::json& j, const PolicySnapshot& s);
void from_json(const nlohmann::json& j, PolicySnapshot& s);

// SITE/.wardgate/state.json; a gateway's slice keeps its own, state-GATEWAY.json.
std::filesystem::path default_state_path(const std::filesystem::path& site_dir, const std::string& gateway = {});
// nullopt when no state was saved yet; throws InputError when the file is unreadable.
std::optional<PolicySnapshot> load_state(const std::filesystem::path& path);
// Atomic: write a temporary file, fsync it, rename it over the old one, fsync the directory.
void save_state(const std::filesystem::path& path, const PolicySnapshot& snapshot);
void write_file_atomically(const std::filesystem::path& path, const std::string& content);

}  // namespace wardgate
