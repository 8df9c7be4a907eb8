#pragma once
// A whole input file as one read-only byte range: memory-mapped when it is a regular
// file, read into memory otherwise (pipes, /dev/stdin).
#include <filesystem>
#include <string>
#include <string_view>

namespace wardgate::flows_internal {

class MappedFile {
public:
    // Throws InputError naming the file when it cannot be opened or read.
    explicit MappedFile(const std::filesystem::path& path);
    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    std::string_view text() const { return {data_, size_}; }

private:
    const char* data_ = "";
    size_t size_ = 0;
    void* mapping_ = nullptr;
    std::string buffer_;
};

}  // namespace wardgate::flows_internal
