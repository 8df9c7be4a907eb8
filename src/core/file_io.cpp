#include "wardgate/core/file_io.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace wardgate {

namespace {

std::string advice(int error) {
    switch (error) {
        case ENOENT: return " (check the path)";
        case EACCES:
        case EPERM: return " (check the file's owner and mode, or run as a user that may read it)";
        case EISDIR: return " (name a file, not a folder)";
        case ELOOP: return " (a loop of symbolic links)";
        case EIO: return " (the disk or file system reported an error: check it before trusting the file)";
        default: return "";
    }
}

}  // namespace

std::string io_failure_message(const std::filesystem::path& path, const char* operation, int error) {
    if (error == ENOENT) {
        std::error_code ec;
        if (std::filesystem::is_symlink(std::filesystem::symlink_status(path, ec))) {
            auto target = std::filesystem::read_symlink(path, ec);
            return std::string(operation) + ": it is a symbolic link to \"" + target.string() +
                   "\", which does not exist";
        }
    }
    return std::string(operation) + ": " + std::strerror(error) + advice(error);
}

void throw_io_failure(const std::filesystem::path& path, const std::string& display, const char* operation,
                      int error) {
    throw InputError(Diagnostic{display.empty() ? path.string() : display, 0, 0, "",
                                io_failure_message(path, operation, error)});
}

std::optional<std::string> read_input_file_if_present(const std::filesystem::path& path, const std::string& display) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int error = errno;
        std::error_code ec;
        if (error == ENOENT && !std::filesystem::is_symlink(std::filesystem::symlink_status(path, ec)))
            return std::nullopt;
        throw_io_failure(path, display, "cannot open", error);
    }
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        ::close(fd);
        throw_io_failure(path, display, "cannot read", EISDIR);
    }
    return read_to_end(fd, path, display);
}

std::string read_to_end(int fd, const std::filesystem::path& path, const std::string& display) {
    std::string out;
    struct stat st {};
    // A regular file is read straight into a string of its size (one copy, not two; the byte more
    // sees the end at once); it may still grow or shrink while being read. Of unknown size: 64 KiB
    // at a time, doubling.
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
        out.resize(static_cast<size_t>(st.st_size) + 1);
    else
        out.resize(1 << 16);
    size_t got = 0;
    for (;;) {
        if (got == out.size()) out.resize(2 * out.size());
        ssize_t n = ::read(fd, out.data() + got, out.size() - got);
        if (n == 0) break;
        if (n < 0) {
            if (errno == EINTR) continue;
            int error = errno;
            ::close(fd);
            throw_io_failure(path, display, "cannot read", error);
        }
        got += static_cast<size_t>(n);
    }
    ::close(fd);
    out.resize(got);
    return out;
}

std::string read_input_file(const std::filesystem::path& path, const std::string& display) {
    auto text = read_input_file_if_present(path, display);
    if (!text) throw_io_failure(path, display, "cannot open", ENOENT);
    return std::move(*text);
}

}  // namespace wardgate
