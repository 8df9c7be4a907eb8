#include "wardgate/site/site.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace wardgate {

std::optional<Date> parse_date(std::string_view text) {
    int y = 0;
    unsigned m = 0, d = 0;
    if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
    auto num = [&](size_t pos, size_t len, auto& out) {
        auto [end, ec] = std::from_chars(text.data() + pos, text.data() + pos + len, out);
        return ec == std::errc{} && end == text.data() + pos + len;
    };
    if (!num(0, 4, y) || !num(5, 2, m) || !num(8, 2, d)) return std::nullopt;
    Date date{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}};
    if (!date.ok()) return std::nullopt;
    return date;
}

std::string to_string(const Date& d) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", int(d.year()), unsigned(d.month()), unsigned(d.day()));
    return buf;
}

template <typename E, size_t N>
static std::optional<E> lookup(const std::pair<std::string_view, E> (&table)[N], std::string_view text) {
    for (const auto& [name, value] : table)
        if (name == text) return value;
    return std::nullopt;
}

template <typename E, size_t N>
static std::string_view name_of(const std::pair<std::string_view, E> (&table)[N], E value) {
    for (const auto& [name, v] : table)
        if (v == value) return name;
    return "?";
}

static constexpr std::pair<std::string_view, SegmentKind> kSegmentKinds[] = {
    {"devices", SegmentKind::devices},           {"servers", SegmentKind::servers},
    {"workstations", SegmentKind::workstations}, {"management", SegmentKind::management},
    {"external", SegmentKind::external}};
static constexpr std::pair<std::string_view, Lifecycle> kLifecycles[] = {
    {"support", Lifecycle::support},
    {"limited-support", Lifecycle::limited_support},
    {"end-of-support", Lifecycle::end_of_support}};
static constexpr std::pair<std::string_view, FdaClass> kFdaClasses[] = {
    {"none", FdaClass::none}, {"I", FdaClass::I}, {"II", FdaClass::II}, {"III", FdaClass::III}};
static constexpr std::pair<std::string_view, Level> kLevels[] = {
    {"none", Level::none}, {"low", Level::low}, {"medium", Level::medium}, {"high", Level::high}};
static constexpr std::pair<std::string_view, Direction> kDirections[] = {
    {"device-initiated", Direction::device_initiated}, {"peer-initiated", Direction::peer_initiated}};

std::optional<SegmentKind> parse_segment_kind(std::string_view t) { return lookup(kSegmentKinds, t); }
std::string_view to_string(SegmentKind k) { return name_of(kSegmentKinds, k); }
std::optional<Lifecycle> parse_lifecycle(std::string_view t) { return lookup(kLifecycles, t); }
std::string_view to_string(Lifecycle l) { return name_of(kLifecycles, l); }
std::optional<FdaClass> parse_fda_class(std::string_view t) { return lookup(kFdaClasses, t); }
std::string_view to_string(FdaClass c) { return name_of(kFdaClasses, c); }
std::optional<Level> parse_level(std::string_view t) { return lookup(kLevels, t); }
std::string_view to_string(Level l) { return name_of(kLevels, l); }
std::optional<Direction> parse_direction(std::string_view t) { return lookup(kDirections, t); }
std::string_view to_string(Direction d) { return name_of(kDirections, d); }

std::optional<PeerRef> PeerRef::parse(std::string_view text) {
    static constexpr std::pair<std::string_view, Kind> kinds[] = {
        {"role:", Kind::role}, {"segment:", Kind::segment}, {"endpoint:", Kind::endpoint},
        {"device:", Kind::device}, {"cidr:", Kind::cidr}, {"tag:", Kind::tag}};
    if (text == "any") return PeerRef{};
    for (const auto& [tag, kind] : kinds) {
        if (!text.starts_with(tag)) continue;
        auto rest = text.substr(tag.size());
        if (rest.empty()) return std::nullopt;
        PeerRef ref{kind, std::string(rest), {}};
        if (kind == Kind::cidr) {
            auto p = Prefix::parse(rest);
            if (!p) return std::nullopt;
            ref.cidr = *p;
            ref.name.clear();
        }
        return ref;
    }
    if (auto p = Prefix::parse(text)) return PeerRef{Kind::cidr, {}, *p};
    return std::nullopt;
}

std::string PeerRef::to_string() const {
    switch (kind) {
        case Kind::any: return "any";
        case Kind::role: return "role:" + name;
        case Kind::segment: return "segment:" + name;
        case Kind::endpoint: return "endpoint:" + name;
        case Kind::device: return "device:" + name;
        case Kind::cidr: return "cidr:" + cidr.to_string();
        case Kind::tag: return "tag:" + name;
    }
    return "?";
}

template <typename T>
static const T* find_named(const std::vector<T>& items, std::string_view name) {
    auto it = std::find_if(items.begin(), items.end(), [&](const T& x) { return x.name == name; });
    return it == items.end() ? nullptr : &*it;
}

const Segment* Site::find_segment(std::string_view name) const { return find_named(segments, name); }
const Device* Site::find_device(std::string_view name) const { return find_named(devices, name); }
const Endpoint* Site::find_endpoint(std::string_view name) const { return find_named(endpoints, name); }
const GatewayDecl* Site::find_gateway(std::string_view name) const { return find_named(gateways, name); }

const Profile* Site::find_profile(std::string_view vendor, std::string_view model) const {
    for (const auto& p : profiles)
        if (p.vendor == vendor && p.model == model) return &p;
    return nullptr;
}

std::optional<MonitorCause> Site::monitor_cause(const Device& d) const {
    auto at = [](const Origin& o) { return " (" + o.file + ":" + std::to_string(o.line) + ")"; };
    if (mode == EnforcementMode::monitor) return MonitorCause{"site", "the site is in monitor mode"};
    if (const Segment* s = find_segment(d.segment); s && s->monitor)
        return MonitorCause{"segment " + s->name, "segment " + s->name + " is in monitor mode" + at(s->origin)};
    for (const auto& r : monitored_roles)
        if (r.role == d.role)
            return MonitorCause{"role " + r.role, "role " + r.role + " is in monitor" + at(r.origin) +
                                                      (r.reason.empty() ? "" : ": " + r.reason)};
    if (d.monitor) return MonitorCause{"device " + d.name, "monitor = true" + at(d.origin)};
    return std::nullopt;
}

const Stance& Site::stance(Lifecycle l) const {
    static const Stance strict{};
    auto it = stances.find(l);
    return it == stances.end() ? strict : it->second;
}

}  // namespace wardgate
