#include "commit_record.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <system_error>

namespace wardgate::netlink::detail {

namespace {

constexpr char kMagic[8] = {'W', 'G', 'N', 'L', 'R', 'E', 'C', '1'};

uint64_t checksum(const std::string& data) {
    uint64_t h = 1469598103934665603ULL;  // FNV-1a
    for (unsigned char c : data) h = (h ^ c) * 1099511628211ULL;
    return h;
}

class Writer {
public:
    template <typename T>
    void num(T v) {
        out.append(reinterpret_cast<const char*>(&v), sizeof v);
    }
    void bytes(const void* p, size_t n) {
        num<uint64_t>(n);
        out.append(static_cast<const char*>(p), n);
    }
    void str(const std::string& s) { bytes(s.data(), s.size()); }
    template <typename T>
    void vec(const std::vector<T>& v) {
        bytes(v.data(), v.size() * sizeof(T));
    }
    std::string out;
};

class Reader {
public:
    explicit Reader(std::string_view d) : data(d) {}
    template <typename T>
    T num() {
        T v;
        take(&v, sizeof v);
        return v;
    }
    std::string str() {
        std::string s(size(1), '\0');
        take(s.data(), s.size());
        return s;
    }
    template <typename T>
    std::vector<T> vec() {
        std::vector<T> v(size(sizeof(T)) / sizeof(T));
        take(v.data(), v.size() * sizeof(T));
        return v;
    }
    bool done() const { return pos == data.size(); }
    // A count of items that take at least 8 bytes each.
    size_t count() {
        uint64_t n = num<uint64_t>();
        if (n > (data.size() - pos) / 8) throw std::runtime_error("inconsistent commit record");
        return n;
    }

private:
    size_t size(size_t unit) {
        uint64_t n = num<uint64_t>();
        if (n > data.size() - pos || n % unit) throw std::runtime_error("truncated commit record");
        return n;
    }
    void take(void* p, size_t n) {
        if (n > data.size() - pos) throw std::runtime_error("truncated commit record");
        if (n == 0) return;  // p is null for an empty vector, and memcpy(nullptr, ..., 0) is undefined
        std::memcpy(p, data.data() + pos, n);
        pos += n;
    }
    std::string_view data;
    size_t pos = 0;
};

void write_set(Writer& w, const SetModel& s) {
    const SetDef& d = s.def;
    w.str(d.name);
    for (uint32_t v : {d.flags, d.key_type, d.key_len, d.data_type, d.data_len, d.size}) w.num(v);
    w.vec(d.field_lens);
    w.str(d.udata);
    w.vec(s.types);
    const ElementList& e = s.elems;
    w.num(e.key_len);
    w.num<uint8_t>(e.ranged);
    w.num<uint8_t>(e.map);
    w.vec(e.keys);
    w.vec(e.flags);
    w.vec(e.verdicts);
    w.num<uint64_t>(e.chains.size());
    for (const auto& c : e.chains) w.str(c);
}

SetModel read_set(Reader& r) {
    SetModel s;
    SetDef& d = s.def;
    d.name = r.str();
    for (uint32_t* v : {&d.flags, &d.key_type, &d.key_len, &d.data_type, &d.data_len, &d.size}) *v = r.num<uint32_t>();
    d.field_lens = r.vec<uint8_t>();
    d.udata = r.str();
    s.types = r.vec<nft::KeyType>();
    ElementList& e = s.elems;
    e.key_len = r.num<uint32_t>();
    e.ranged = r.num<uint8_t>();
    e.map = r.num<uint8_t>();
    e.keys = r.vec<uint8_t>();
    e.flags = r.vec<uint8_t>();
    e.verdicts = r.vec<int32_t>();
    e.chains.resize(r.count());
    for (auto& c : e.chains) c = r.str();
    if (e.key_len == 0 || e.keys.size() != e.flags.size() * e.stride() ||
        (e.map && (e.verdicts.size() != e.flags.size() || e.chains.size() != e.flags.size())))
        throw std::runtime_error("inconsistent commit record");
    return s;
}

}  // namespace

void save_commit_record(const std::filesystem::path& file, uint64_t netns, uint32_t genid, const TableModel& model) {
    Writer w;
    w.num(netns);
    w.num(genid);
    w.str(model.name);
    w.num<uint64_t>(model.sets.size());
    for (const auto& s : model.sets) write_set(w, s);
    w.num<uint64_t>(model.chains.size());
    for (const auto& c : model.chains) {
        w.str(c.name);
        w.num<uint8_t>(c.base);
        w.str(c.type);
        w.num(c.hook);
        w.num(c.priority);
        w.num(c.policy);
        w.num<uint64_t>(c.rules.size());
        for (size_t i = 0; i < c.rules.size(); ++i) {
            w.str(c.rules[i]);
            w.str(i < c.rule_comments.size() ? c.rule_comments[i] : std::string());
        }
    }
    std::string content(kMagic, sizeof kMagic);
    content += w.out;
    uint64_t sum = checksum(w.out);
    content.append(reinterpret_cast<const char*>(&sum), sizeof sum);

    std::filesystem::create_directories(file.parent_path());
    ::chmod(file.parent_path().c_str(), 0700);
    auto tmp = file;
    tmp += ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "writing " + tmp.string());
    size_t off = 0;
    while (off < content.size()) {
        ssize_t n = ::write(fd, content.data() + off, content.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            int err = errno;
            ::close(fd);
            ::unlink(tmp.c_str());
            throw std::system_error(err, std::generic_category(), "writing " + tmp.string());
        }
        off += static_cast<size_t>(n);
    }
    ::close(fd);
    std::filesystem::rename(tmp, file);
}

std::shared_ptr<const TableModel> load_commit_record(const std::filesystem::path& file, uint64_t netns,
                                                     const std::string& table, uint32_t genid) {
    if (!netns || !genid) return nullptr;
    std::ifstream in(file, std::ios::binary);
    if (!in) return nullptr;
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (content.size() < sizeof kMagic + sizeof(uint64_t) || std::memcmp(content.data(), kMagic, sizeof kMagic) != 0)
        return nullptr;
    std::string_view body(content.data() + sizeof kMagic, content.size() - sizeof kMagic - sizeof(uint64_t));
    uint64_t sum;
    std::memcpy(&sum, content.data() + content.size() - sizeof sum, sizeof sum);
    if (sum != checksum(std::string(body))) return nullptr;
    try {
        Reader r(body);
        if (r.num<uint64_t>() != netns || r.num<uint32_t>() != genid) return nullptr;
        auto model = std::make_shared<TableModel>();
        model->name = r.str();
        if (model->name != table) return nullptr;
        model->exists = true;
        model->sets.resize(r.count());
        for (auto& s : model->sets) s = read_set(r);
        model->chains.resize(r.count());
        for (auto& c : model->chains) {
            c.name = r.str();
            c.base = r.num<uint8_t>();
            c.type = r.str();
            c.hook = r.num<uint32_t>();
            c.priority = r.num<int32_t>();
            c.policy = r.num<uint32_t>();
            size_t n = r.count();
            for (size_t i = 0; i < n; ++i) {
                c.rules.push_back(r.str());
                c.rule_comments.push_back(r.str());
            }
        }
        if (!r.done()) return nullptr;
        return model;
    } catch (const std::exception&) {
        return nullptr;
    }
}

}  // namespace wardgate::netlink::detail
