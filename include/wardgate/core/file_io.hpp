#pragma once
// One way to read a file someone else wrote, and one way to say why it could not be read:
// the file, the operation, the operating system's reason and what to do about it.
#include <filesystem>
#include <optional>
#include <string>

#include "wardgate/core/diagnostic.hpp"

namespace wardgate {

// "cannot open: Permission denied (check the file's owner and mode ...)". A path that is
// a symbolic link to nothing says so, with the link's target.
std::string io_failure_message(const std::filesystem::path& path, const char* operation, int error);

// Throws InputError{display, io_failure_message(...)}.
[[noreturn]] void throw_io_failure(const std::filesystem::path& path, const std::string& display,
                                   const char* operation, int error);

// Everything left to read from an open descriptor (a pipe too), which it closes. Throws
// InputError naming `display` (the path when empty) when a read fails.
std::string read_to_end(int fd, const std::filesystem::path& path, const std::string& display = {});

// The whole file. Throws InputError naming `display` (the path when empty) when it cannot be
// opened or read, or is a folder.
std::string read_input_file(const std::filesystem::path& path, const std::string& display = {});

// As read_input_file, but nullopt when nothing is at the path (not even a dangling link).
std::optional<std::string> read_input_file_if_present(const std::filesystem::path& path,
                                                      const std::string& display = {});

}  // namespace wardgate
