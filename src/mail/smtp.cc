#include <curl/curl.h>

#include <cstring>
#include <fstream>
#include <mutex>

#include "mail/dkim.h"
#include "mail/mail.h"

namespace steward::mail {
namespace {

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Reader {
  std::string_view data;
  size_t at = 0;
};

size_t Read(char* buffer, size_t size, size_t count, void* user) {
  auto* r = static_cast<Reader*>(user);
  size_t n = std::min(size * count, r->data.size() - r->at);
  std::memcpy(buffer, r->data.data() + r->at, n);
  r->at += n;
  return n;
}

}  // namespace

struct SmtpClient::Impl {
  Settings settings;
  std::string password;
  std::unique_ptr<DkimSigner> signer;
  CURL* curl = nullptr;
};

Result<std::unique_ptr<SmtpClient>> SmtpClient::Open(const Settings& settings) {
  std::string password;
  if (!settings.password_file.empty()) {
    // Privacy: the relay's password is read from its file, kept in memory only, never logged.
    std::ifstream in(settings.password_file, std::ios::binary);
    if (!in) return MakeError(ErrorCode::kInvalidArgument, "cannot read mail.password_file " + settings.password_file);
    password.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    while (!password.empty() && (password.back() == '\n' || password.back() == '\r')) password.pop_back();
  }
  std::unique_ptr<DkimSigner> signer;
  if (!settings.dkim_key_file.empty()) {
    STEWARD_ASSIGN_OR_RETURN(signer,
                             DkimSigner::Load(settings.dkim_key_file, settings.Domain(), settings.dkim_selector));
  }
  auto client = std::unique_ptr<SmtpClient>(new SmtpClient(settings, std::move(password)));
  client->impl_->signer = std::move(signer);
  return client;
}

SmtpClient::SmtpClient(Settings settings, std::string password) : impl_(std::make_unique<Impl>()) {
  GlobalInit();
  impl_->settings = std::move(settings);
  impl_->password = std::move(password);
  impl_->curl = curl_easy_init();
}

SmtpClient::~SmtpClient() {
  if (impl_->curl != nullptr) curl_easy_cleanup(impl_->curl);
}

Outcome SmtpClient::Send(std::string_view envelope_from, std::string_view to, std::string_view message) {
  CURL* curl = impl_->curl;
  if (curl == nullptr) return {Outcome::Kind::kTemporary, "no curl handle"};
  const Settings& s = impl_->settings;
  std::string signed_message;
  if (impl_->signer) {
    auto signed_or = impl_->signer->Sign(message, SystemClock::Instance().Now());
    if (!signed_or.ok()) return {Outcome::Kind::kTemporary, "DKIM signing failed"};
    signed_message = std::move(*signed_or);
    message = signed_message;
  }
  Reader reader{message, 0};
  std::string from = "<" + std::string(envelope_from) + ">";
  std::string rcpt = "<" + std::string(to) + ">";
  curl_slist* recipients = curl_slist_append(nullptr, rcpt.c_str());
  // The handle keeps its connection between messages; the options are set again each time.
  curl_easy_setopt(curl, CURLOPT_URL, s.relay.c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, recipients);
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, Read);
  curl_easy_setopt(curl, CURLOPT_READDATA, &reader);
  curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.size()));
  curl_easy_setopt(curl, CURLOPT_USE_SSL,
                   s.starttls ? static_cast<long>(CURLUSESSL_ALL) : static_cast<long>(CURLUSESSL_NONE));
  if (!s.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, s.ca_file.c_str());
  if (!s.username.empty()) {
    curl_easy_setopt(curl, CURLOPT_USERNAME, s.username.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, impl_->password.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  CURLcode rc = curl_easy_perform(curl);
  long code = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, nullptr);
  curl_slist_free_all(recipients);
  if (rc == CURLE_OK) return {Outcome::Kind::kSent, ""};
  // The reason is the code alone: a server's words may quote the address.
  if (code >= 500 && code < 600) return {Outcome::Kind::kPermanent, "smtp " + std::to_string(code)};
  if (code >= 400 && code < 500) return {Outcome::Kind::kTemporary, "smtp " + std::to_string(code)};
  switch (rc) {
    case CURLE_USE_SSL_FAILED:
      return {Outcome::Kind::kTemporary, "the relay does not offer STARTTLS"};
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
      return {Outcome::Kind::kTemporary, "TLS with the relay failed"};
    case CURLE_LOGIN_DENIED:
      return {Outcome::Kind::kTemporary, "the relay refused the sign-in"};
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
      return {Outcome::Kind::kTemporary, "no connection to the relay"};
    case CURLE_OPERATION_TIMEDOUT:
      return {Outcome::Kind::kTemporary, "the relay timed out"};
    default:
      return {Outcome::Kind::kTemporary, std::string("curl: ") + curl_easy_strerror(rc)};
  }
}

}  // namespace steward::mail
