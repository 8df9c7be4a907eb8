#pragma once
// A whole input file as one read-only byte range: memory-mapped when it is a regular
// file, read into memory otherwise (pipes, /dev/stdin). A gzip-compressed file is the text
// it holds, uncompressed into memory.
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

// Drops the pages of a mapped file before `upto` from this process's memory: they are read
// again from the page cache if touched. Does nothing for text that is not a mapping (a
// pipe read into memory). Readers call it as they go, so that their memory stays flat
// however large the file is.
void release_consumed(std::string_view text, const char* upto);

}  // namespace wardgate::flows_internal
