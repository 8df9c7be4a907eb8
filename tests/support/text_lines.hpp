#pragma once
// Splitting text and files into lines (without their newline characters).
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace wardgate::testing {

inline std::vector<std::string> text_lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

// Empty when the file cannot be read.
inline std::vector<std::string> file_lines(const std::filesystem::path& file) {
    std::ifstream in(file);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

}  // namespace wardgate::testing
