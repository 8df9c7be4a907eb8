#include "mapped_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <vector>

#include "gzip_input.hpp"
#include "wardgate/core/file_io.hpp"

namespace wardgate::flows_internal {

namespace {

struct Mapping {
    const char* begin;
    size_t size;
    size_t released;  // bytes from begin already dropped
};

std::mutex g_mappings_lock;
std::vector<Mapping> g_mappings;

}  // namespace

void release_consumed(std::string_view text, const char* upto) {
    static const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
    std::lock_guard lock(g_mappings_lock);
    for (auto& m : g_mappings) {
        if (text.data() < m.begin || text.data() >= m.begin + m.size || upto < m.begin || upto > m.begin + m.size) continue;
        const size_t end = static_cast<size_t>(upto - m.begin) / page * page;
        if (end > m.released)
            ::madvise(const_cast<char*>(m.begin) + m.released, end - m.released, MADV_DONTNEED);
        m.released = std::max(m.released, end);
        return;
    }
}

[[noreturn]] static void fail_open(const std::filesystem::path& path, const char* what, int err) {
    throw_io_failure(path, path.string(), what, err);
}

MappedFile::MappedFile(const std::filesystem::path& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail_open(path, "cannot open", errno);
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        int err = errno;
        ::close(fd);
        fail_open(path, "cannot stat", err);
    }
    if (S_ISDIR(st.st_mode)) {
        ::close(fd);
        fail_open(path, "cannot read", EISDIR);
    }
    if (S_ISREG(st.st_mode) && st.st_size > 0) {
        void* m = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
        if (m != MAP_FAILED && is_gzip({static_cast<const char*>(m), static_cast<size_t>(st.st_size)})) {
            ::close(fd);
            try {
                buffer_ = gunzip(path.string(), {static_cast<const char*>(m), static_cast<size_t>(st.st_size)});
            } catch (...) {
                ::munmap(m, static_cast<size_t>(st.st_size));
                throw;
            }
            ::munmap(m, static_cast<size_t>(st.st_size));
            data_ = buffer_.data();
            size_ = buffer_.size();
            return;
        }
        if (m != MAP_FAILED) {
            ::madvise(m, static_cast<size_t>(st.st_size), MADV_SEQUENTIAL);
            mapping_ = m;
            data_ = static_cast<const char*>(m);
            size_ = static_cast<size_t>(st.st_size);
            {
                std::lock_guard lock(g_mappings_lock);
                g_mappings.push_back({data_, size_, 0});
            }
            ::close(fd);
            return;
        }
    }
    // Not mappable (pipe, empty or special file): read it all.
    buffer_ = read_to_end(fd, path);
    if (is_gzip(buffer_)) buffer_ = gunzip(path.string(), buffer_);
    data_ = buffer_.data();
    size_ = buffer_.size();
}

MappedFile::~MappedFile() {
    if (!mapping_) return;
    {
        std::lock_guard lock(g_mappings_lock);
        std::erase_if(g_mappings, [&](const Mapping& m) { return m.begin == data_; });
    }
    ::munmap(mapping_, size_);
}

}  // namespace wardgate::flows_internal
