// Small file-system helpers for durability.
#pragma once

#include <string>

#include "core/result.h"

namespace steward {

// Makes a new name in `dir` durable: a file created or renamed there survives a power cut once its
// directory is synced too (fsync of the file alone does not cover its entry). Errors: kIo.
Status SyncDirectory(const std::string& dir);

// The directory part of `path` ("." when there is none).
std::string DirectoryOf(const std::string& path);

}  // namespace steward
