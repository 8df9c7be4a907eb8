// The stub resolver: A and AAAA queries over c-ares, whose reply parsers keep each
// record's TTL (getaddrinfo drops them).
#include <ares.h>
#include <arpa/nameser.h>
#include <sys/select.h>

#include <algorithm>
#include <mutex>
#include <stdexcept>

#include "wardgate/resolve/dns.hpp"

namespace wardgate {

namespace {

constexpr int kMaxRecords = 64;

struct Pending {
    int outstanding = 2;
    int a_status = ARES_SUCCESS, aaaa_status = ARES_SUCCESS;
    DnsAnswer answer;
    bool have_ttl = false;

    void add(const IpAddress& a, int ttl) {
        answer.addresses.push_back(a);
        uint32_t t = static_cast<uint32_t>(std::max(ttl, 0));
        answer.ttl = have_ttl ? std::min(answer.ttl, t) : t;
        have_ttl = true;
    }
};

void on_a(void* arg, int status, int, unsigned char* buf, int len) {
    auto* p = static_cast<Pending*>(arg);
    --p->outstanding;
    if (status == ARES_SUCCESS) {
        ares_addrttl records[kMaxRecords];
        int n = kMaxRecords;
        status = ares_parse_a_reply(buf, len, nullptr, records, &n);
        if (status == ARES_SUCCESS)
            for (int i = 0; i < n; ++i) {
                IpAddress a;
                a.family = Family::v4;
                std::memcpy(a.bytes.data(), &records[i].ipaddr, 4);
                p->add(a, records[i].ttl);
            }
    }
    p->a_status = status;
}

void on_aaaa(void* arg, int status, int, unsigned char* buf, int len) {
    auto* p = static_cast<Pending*>(arg);
    --p->outstanding;
    if (status == ARES_SUCCESS) {
        ares_addr6ttl records[kMaxRecords];
        int n = kMaxRecords;
        status = ares_parse_aaaa_reply(buf, len, nullptr, records, &n);
        if (status == ARES_SUCCESS)
            for (int i = 0; i < n; ++i) {
                IpAddress a;
                a.family = Family::v6;
                std::memcpy(a.bytes.data(), &records[i].ip6addr, 16);
                p->add(a, records[i].ttl);
            }
    }
    p->aaaa_status = status;
}

bool no_data(int s) { return s == ARES_ENODATA; }

DnsStatus status_of(int s) {
    switch (s) {
        case ARES_SUCCESS: return DnsStatus::ok;
        case ARES_ENOTFOUND: return DnsStatus::nxdomain;
        case ARES_ENODATA: return DnsStatus::no_address;
        case ARES_ESERVFAIL: return DnsStatus::servfail;
        case ARES_EREFUSED: return DnsStatus::refused;
        case ARES_ETIMEOUT: return DnsStatus::timeout;
        default: return DnsStatus::error;
    }
}

}  // namespace

Resolver::Resolver(ResolverOptions options) : o_(std::move(options)) {
    static std::once_flag init;
    static int init_status = ARES_SUCCESS;
    std::call_once(init, [] { init_status = ares_library_init(ARES_LIB_INIT_ALL); });
    if (init_status != ARES_SUCCESS) throw std::runtime_error(std::string("c-ares: ") + ares_strerror(init_status));
    ares_options opts{};
    opts.timeout = static_cast<int>(o_.timeout.count());
    opts.tries = std::max(1, o_.tries);
    opts.flags = ARES_FLAG_NOSEARCH;
    ares_channel channel = nullptr;
    int s = ares_init_options(&channel, &opts, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS);
    if (s != ARES_SUCCESS) throw std::runtime_error(std::string("c-ares: ") + ares_strerror(s));
    channel_ = channel;
    if (!o_.nameserver.empty()) {
        s = ares_set_servers_ports_csv(channel, o_.nameserver.c_str());
        if (s != ARES_SUCCESS) {
            ares_destroy(channel);
            channel_ = nullptr;
            throw std::invalid_argument("nameserver \"" + o_.nameserver + "\": expected ADDRESS, ADDRESS:PORT or [V6]:PORT (" +
                                        ares_strerror(s) + ")");
        }
    }
}

Resolver::~Resolver() {
    if (channel_) ares_destroy(static_cast<ares_channel>(channel_));
}

Resolution Resolver::resolve(const std::string& name) {
    auto channel = static_cast<ares_channel>(channel_);
    Pending p;
    ares_query(channel, name.c_str(), ns_c_in, ns_t_a, on_a, &p);
    ares_query(channel, name.c_str(), ns_c_in, ns_t_aaaa, on_aaaa, &p);
    while (p.outstanding > 0) {
        fd_set readers, writers;
        FD_ZERO(&readers);
        FD_ZERO(&writers);
        int nfds = ares_fds(channel, &readers, &writers);
        if (nfds == 0) break;
        timeval tv, *tvp = ares_timeout(channel, nullptr, &tv);
        select(nfds, &readers, &writers, nullptr, tvp);
        ares_process(channel, &readers, &writers);
    }
    p.answer.resolved = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    Resolution r;
    std::sort(p.answer.addresses.begin(), p.answer.addresses.end());
    p.answer.addresses.erase(std::unique(p.answer.addresses.begin(), p.answer.addresses.end()), p.answer.addresses.end());
    bool a_ok = p.a_status == ARES_SUCCESS || no_data(p.a_status);
    bool aaaa_ok = p.aaaa_status == ARES_SUCCESS || no_data(p.aaaa_status);
    if (a_ok && aaaa_ok && !p.answer.addresses.empty()) {
        r.status = DnsStatus::ok;
        r.answer = std::move(p.answer);
        return r;
    }
    int failed = !a_ok ? p.a_status : !aaaa_ok ? p.aaaa_status : ARES_ENODATA;
    if (p.outstanding > 0) failed = ARES_ETIMEOUT;
    r.status = status_of(failed);
    r.message = std::string(to_string(r.status)) + " (" + ares_strerror(failed) + ")";
    if (r.status == DnsStatus::no_address) r.message = "no A or AAAA record";
    return r;
}

}  // namespace wardgate
