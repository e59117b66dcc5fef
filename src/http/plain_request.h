// ParsePlainRequest: the common request, read where it lies in the connection's buffer.
//
// Most requests arrive whole, in one read, with nothing unusual about them: a request line of
// HTTP/1.1 or 1.0, header fields of printable ASCII, and a body framed by one Content-Length (or
// none). Such a request is parsed here in one pass, straight into the Request a handler sees,
// without Beast's parser building its own field list and each field being copied a second time.
// Anything else (a request not yet whole, chunked or otherwise encoded bodies, folded or non-ASCII
// fields, a repeated Content-Length or Connection, a malformed line) is left to Beast's parser,
// which then reads it as before: this parser never refuses a request, it only declines one.
//
// Where it accepts a request, it reads it as Beast does (the same method, target, body length,
// version and keep-alive, and the same fields: for each name, the same values in the same order;
// Beast moves a repeated field beside the first of its name, here fields stay in the order sent);
// the http tests and plain_request_fuzz hold it to that on valid, odd and mutated requests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/request.h"

namespace steward::http {

// How a request parsed by ParsePlainRequest is framed, and what it asks of the connection.
struct PlainFraming {
  size_t head_bytes = 0;        // the request line and fields, through the blank line
  uint64_t content_length = 0;  // the body's, which follows the head in the same data
  bool keep_alive = true;
  bool http10 = false;
};

// Parses the request at the front of `data` into `req` (method, target, path, query, headers;
// not the body) and `framing`, when the head is at most `max_head_bytes` and the whole request,
// body included, is in `data`. False when it declines: `req` may then be partly filled, and the
// request is Beast's to read.
bool ParsePlainRequest(std::string_view data, size_t max_head_bytes, Request& req, PlainFraming& framing);

}  // namespace steward::http
