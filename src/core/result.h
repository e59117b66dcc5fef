// Result<T>: a value or an Error. Steward's way of saying that input or the environment failed.
//
// What input or the environment can cause (a bad config key, a full queue, a missing file) is a
// returned Error with a test; a broken invariant is a STEWARD_CHECK that stops the process.
// Error messages never contain personal data: they name keys, files, line numbers and ids.
//
//   Result<Config> LoadConfig(const std::string& path);
//   STEWARD_ASSIGN_OR_RETURN(Config config, LoadConfig(path));
//   STEWARD_RETURN_IF_ERROR(store.Migrate());
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <variant>

namespace steward {

// Kinds of failure. The HTTP layer maps them to statuses in one place (http::StatusForError, in
// http/response.h); the command line to exit codes in one place (app::ExitCode).
enum class ErrorCode {
  kInvalidArgument,     // the caller's input is malformed or out of range
  kNotFound,            // the thing asked for does not exist
  kAlreadyExists,       // a create found the thing already there
  kPermissionDenied,    // known caller, not allowed
  kUnauthenticated,     // caller not known
  kFailedPrecondition,  // the system is not in a state to do this
  kResourceExhausted,   // a limit was reached (queue full, too large)
  kUnavailable,         // try again later
  kDataLoss,            // stored data is corrupt
  kIo,                  // the operating system refused
  kInternal,            // a bug or an unexpected failure below us
};

const char* ErrorCodeName(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;

  // "invalid_argument: message"
  std::string ToString() const;
};

inline Error MakeError(ErrorCode code, std::string message) { return Error{code, std::move(message)}; }

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : data_(std::move(error)) {}  // NOLINT

  bool ok() const { return data_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // Requires ok().
  T& value() & { return std::get<0>(data_); }
  const T& value() const& { return std::get<0>(data_); }
  T&& value() && { return std::get<0>(std::move(data_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  // Requires !ok().
  const Error& error() const { return std::get<1>(data_); }

 private:
  std::variant<T, Error> data_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

inline Status Ok() { return Status(); }

[[noreturn]] void CheckFailed(const char* file, int line, const char* expr, const char* message);

}  // namespace steward

// Stops the process when an invariant is broken. Not for input or environment failures.
#define STEWARD_CHECK(cond, message)                                           \
  do {                                                                         \
    if (!(cond)) ::steward::CheckFailed(__FILE__, __LINE__, #cond, (message)); \
  } while (0)

#define STEWARD_CONCAT_INNER(a, b) a##b
#define STEWARD_CONCAT(a, b) STEWARD_CONCAT_INNER(a, b)

// Returns the error of `expr` (a Status or Result<T>) from the enclosing function.
#define STEWARD_RETURN_IF_ERROR(expr)                          \
  do {                                                         \
    auto&& steward_status_ = (expr);                           \
    if (!steward_status_.ok()) return steward_status_.error(); \
  } while (0)

// `STEWARD_ASSIGN_OR_RETURN(auto x, F());` declares x from F()'s value or returns its error.
#define STEWARD_ASSIGN_OR_RETURN(lhs, expr) \
  STEWARD_ASSIGN_OR_RETURN_IMPL(STEWARD_CONCAT(steward_result_, __LINE__), lhs, expr)
// `lhs` is a declaration ("auto x"), so it cannot be parenthesised.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define STEWARD_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return tmp.error();                  \
  lhs = std::move(tmp).value()
// NOLINTEND(bugprone-macro-parentheses)
