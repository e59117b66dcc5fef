// Signing in with GOV.UK One Login through the whole site in process, against a real OpenID
// Connect provider (npm's oidc-provider, set up as One Login behaves: tests/browser/one-login.mjs)
// and a real SMTP server, driven the way a browser would (libcurl with a cookie jar): a person new
// here signs in at the provider, fills in the site's form and has an account; signs out at both;
// signs in again straight to their account; a person who registered with a password has their
// account confirmed and linked by the address the provider confirmed, and is told by email. A
// provider whose level (vot) is not the one asked, or whose address is unconfirmed, signs no one in;
// a callback that is not this browser's sign-in is refused.
#include <curl/curl.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "in_process_site.h"
#include "mail/testing/smtp_server.h"
#include "oidc/jose.h"

extern char** environ;

namespace steward {
namespace {

using nlohmann::json;

// tests/browser/one-login.mjs in a process of its own: listens first (so the site file can name it
// as the issuer), then takes the client once the site's address is known.
class OneLogin {
 public:
  explicit OneLogin(std::vector<std::string> extra = {}) {
    int out[2], in[2];
    EXPECT_EQ(::pipe(out), 0);
    EXPECT_EQ(::pipe(in), 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    posix_spawn_file_actions_addclose(&actions, in[1]);
    std::vector<std::string> args = {"/usr/bin/env", "node",
                                     std::string(STEWARD_SOURCE_DIR) + "/tests/browser/one-login.mjs"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    EXPECT_EQ(posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    ::close(in[0]);
    out_ = out[0];
    in_ = in[1];
    std::string line = Line();
    if (line.rfind("ready ", 0) == 0) port_ = std::stoi(line.substr(6));
    EXPECT_NE(port_, 0) << "the OpenID Connect provider did not start (is tests/browser's npm install done?)";
  }
  ~OneLogin() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
    ::close(out_);
    ::close(in_);
  }
  std::string issuer() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void Register(const std::string& jwk, const std::string& site) {
    std::string line = json{{"client_id", "steward-test"},
                            {"jwk", json::parse(jwk)},
                            {"redirect", site + "/account/sign-in/oidc/callback"},
                            {"post_logout", site + "/account/signed-out"}}
                           .dump() +
                       "\n";
    EXPECT_EQ(::write(in_, line.data(), line.size()), static_cast<ssize_t>(line.size()));
    EXPECT_EQ(Line(), "registered");
  }

 private:
  std::string Line() {
    std::string line;
    char c;
    while (::read(out_, &c, 1) == 1 && c != '\n') line += c;
    return line;
  }
  pid_t pid_ = -1;
  int out_ = -1, in_ = -1;
  int port_ = 0;
};

// A browser, as far as these pages need one: a cookie jar, redirects followed one by one (every
// address visited is kept), forms posted with the page's Origin.
class Browser {
 public:
  Browser() : curl_(curl_easy_init()) { curl_easy_setopt(curl_, CURLOPT_COOKIEFILE, ""); }
  ~Browser() { curl_easy_cleanup(curl_); }

  struct Page {
    int status = 0;
    std::string url, body;
  };

  // Requests `url` and follows redirects; the page it ends on.
  Page Go(std::string url, const std::string& form = "", bool post = false) {
    visited.clear();
    for (int hop = 0; hop < 12; ++hop) {
      visited.push_back(url);
      std::string body;
      char* location = nullptr;
      curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
      curl_easy_setopt(curl_, CURLOPT_FOLLOWLOCATION, 0L);
      curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &Collect);
      curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &body);
      curl_slist* headers = nullptr;
      std::string origin = "Origin: " + Origin(url);
      if (post) headers = curl_slist_append(headers, origin.c_str());
      curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers);
      if (post) {
        curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, form.c_str());
      } else {
        curl_easy_setopt(curl_, CURLOPT_HTTPGET, 1L);
      }
      CURLcode rc = curl_easy_perform(curl_);
      curl_slist_free_all(headers);
      EXPECT_EQ(rc, CURLE_OK) << url;
      long status = 0;
      curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status);
      curl_easy_getinfo(curl_, CURLINFO_REDIRECT_URL, &location);
      if (status < 300 || status >= 400 || location == nullptr) return {static_cast<int>(status), url, body};
      url = location;
      post = false;
    }
    ADD_FAILURE() << "too many redirects";
    return {};
  }
  Page Post(const std::string& url, const std::string& form) { return Go(url, form, true); }

  std::vector<std::string> visited;

 private:
  static size_t Collect(char* d, size_t s, size_t n, void* out) {
    static_cast<std::string*>(out)->append(d, s * n);
    return s * n;
  }
  static std::string Origin(const std::string& url) {
    size_t slash = url.find('/', url.find("//") + 2);
    return url.substr(0, slash);
  }
  CURL* curl_;
};

std::string Match(const std::string& text, const std::string& pattern) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex(pattern))) return "";
  return m[1].str();
}

class OneLoginSiteTest : public ::testing::Test {
 protected:
  // Opens the demo site with [accounts.oidc] naming `provider`, and registers the site with it.
  void Open(OneLogin& provider) {
    key_ = (std::filesystem::temp_directory_path() / ("steward-one-login-" + crypto::RandomHex(6) + ".pem")).string();
    EVP_PKEY* k = EVP_RSA_gen(2048);
    FILE* f = std::fopen(key_.c_str(), "w");
    PEM_write_PrivateKey(f, k, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
    EVP_PKEY_free(k);
    path_ = testing::WriteExample("demo.toml", smtp_.port());
    std::ifstream in(path_);
    std::string site((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string sources = "sources = [\"organisations that refer you to us\"]";
    site.replace(site.find(sources), sources.size(),
                 "sources = [\"organisations that refer you to us\", \"GOV.UK One Login, when you sign in with it\"]");
    site += "\n[accounts.oidc]\nissuer = \"" + provider.issuer() + "\"\nclient_id = \"steward-test\"\n" +
            "private_key_file = \"" + key_ + "\"\nvtr = \"Cl.Cm\"\n" + R"(
[[register.cookies]]
name = "steward_signin"
provider = "This site"
category = "essential"
purpose = "Remembers your sign-in with GOV.UK One Login: while you sign in, a check that the answer is for you; then what signing out there needs"
expiry = "session"
)";
    std::ofstream(path_) << site;
    ASSERT_NO_FATAL_FAILURE(s_.Open(path_, clock_));
    s_.site().StartTasks();
    base_ = "http://127.0.0.1:" + std::to_string(s_.port());
    auto key = oidc::RsaKey::Load(key_);
    ASSERT_TRUE(key.ok());
    provider.Register(key->PublicJwk(), base_);
  }
  void TearDown() override {
    std::filesystem::remove(path_);
    std::filesystem::remove(key_);
  }

  // Starts a sign-in at the site and signs in at the provider's page as `login`.
  Browser::Page SignIn(Browser& b, const std::string& login) {
    auto page = b.Go(base_ + "/account/sign-in/oidc");
    EXPECT_EQ(page.status, 200);
    authorize_ = b.visited.size() > 1 ? b.visited[1] : "";
    std::string action = Match(page.body, "<form[^>]*action=\"([^\"]+)\"");
    EXPECT_FALSE(action.empty()) << page.body;
    return b.Post(action, "prompt=login&login=" + login + "&password=anything");
  }

  std::vector<json> WaitForMail(size_t n) {
    for (int i = 0; i < 200 && smtp_.Received().size() < n; ++i) {
      clock_.Advance(std::chrono::seconds(1));
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    auto all = smtp_.Received();
    EXPECT_EQ(all.size(), n);
    return all;
  }

  mail::testing::SmtpServer smtp_;
  std::string path_, key_, base_;
  std::string authorize_;  // the provider's authorize URL of the last sign-in
  // Tokens are checked against the provider's real time.
  FakeClock clock_{std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now())};
  steward::testing::InProcessSite s_;
};

TEST_F(OneLoginSiteTest, APersonNewHereSignsInFillsInTheFormSignsOutAndComesBack) {
  OneLogin provider;
  ASSERT_NO_FATAL_FAILURE(Open(provider));
  Browser b;

  // The sign-in page offers One Login first.
  auto sign_in = b.Go(base_ + "/account/sign-in");
  EXPECT_NE(sign_in.body.find("Sign in with GOV.UK One Login"), std::string::npos);

  auto form = SignIn(b, "ada%40example.com");
  ASSERT_EQ(form.status, 200) << form.body;
  EXPECT_EQ(form.url, base_ + "/account/register/oidc");
  // The request to the provider: PKCE, state, nonce and the level asked.
  const std::string& authorize = authorize_;
  EXPECT_NE(authorize.find("code_challenge_method=S256"), std::string::npos);
  EXPECT_NE(authorize.find("vtr=%5B%22Cl.Cm%22%5D"), std::string::npos);
  EXPECT_NE(authorize.find("nonce="), std::string::npos);
  EXPECT_NE(authorize.find("state="), std::string::npos);
  EXPECT_NE(form.body.find("Finish creating your account"), std::string::npos);
  EXPECT_NE(form.body.find("ada@example.com"), std::string::npos);  // shown, not asked
  EXPECT_EQ(form.body.find("name=\"password\""), std::string::npos);
  // Nothing is kept until the form is sent.
  auto count = [&](const char* table) {
    int64_t n = -1;
    (void)s_.site().store().Read([&](store::Connection& c) -> Status {
      auto rows = c.Query(std::string("SELECT COUNT(*) FROM ") + table, {});
      if (rows.ok()) n = rows->front().Int(0);
      return Ok();
    });
    return n;
  };
  EXPECT_EQ(count("accounts"), 0);

  // The form's required name left out: asked again, still nothing kept.
  auto again = b.Post(base_ + "/account/register/oidc", "name=");
  EXPECT_EQ(again.status, 400);
  EXPECT_NE(again.body.find("Enter your full name"), std::string::npos);
  EXPECT_EQ(count("accounts"), 0);

  auto home = b.Post(base_ + "/account/register/oidc", "name=Ada+Lovelace&consents=research");
  ASSERT_EQ(home.status, 200) << home.body;
  EXPECT_EQ(home.url, base_ + "/account");
  EXPECT_NE(home.body.find("Ada Lovelace"), std::string::npos);
  EXPECT_NE(home.body.find("With GOV.UK One Login, since"), std::string::npos);
  EXPECT_NE(home.body.find("Created the account"), std::string::npos);
  EXPECT_EQ(count("accounts"), 1);
  EXPECT_EQ(count("account_identities"), 1);
  // Only a keyed hash of the provider's identifier is kept.
  (void)s_.site().store().Read([&](store::Connection& c) -> Status {
    auto rows = c.Query("SELECT identity_hash FROM account_identities", {});
    EXPECT_TRUE(rows.ok());
    EXPECT_EQ(rows->front().Text(0).find("urn:fdc"), std::string::npos);
    EXPECT_EQ(rows->front().Text(0).size(), 64u);
    return Ok();
  });

  // Signing out here signs out at the provider too, with the ID token as the hint, and comes back.
  std::string csrf = Match(home.body, "name=\"csrf_token\" value=\"([a-f0-9]+)\"");
  auto confirm = b.Post(base_ + "/account/sign-out", "csrf_token=" + csrf);
  ASSERT_GE(b.visited.size(), 2u);
  EXPECT_NE(b.visited[1].find(provider.issuer() + "/session/end?id_token_hint="), std::string::npos);
  EXPECT_NE(b.visited[1].find("post_logout_redirect_uri=" + http::PercentEncode(base_ + "/account/signed-out")),
            std::string::npos);
  // The provider asks "sign out?" on its own page.
  std::string xsrf = Match(confirm.body, "name=\"xsrf\" value=\"([^\"]+)\"");
  ASSERT_FALSE(xsrf.empty()) << confirm.body;
  auto out = b.Post(provider.issuer() + "/session/end/confirm", "xsrf=" + xsrf + "&logout=yes");
  EXPECT_EQ(out.status, 200);
  EXPECT_EQ(out.url.substr(0, out.url.find('?')), base_ + "/account/signed-out");
  EXPECT_NE(out.body.find("You have signed out"), std::string::npos);
  EXPECT_EQ(b.Go(base_ + "/account").url, base_ + "/account/sign-in");

  // Signing in again goes straight to the account: the provider's person is linked.
  auto back = SignIn(b, "ada%40example.com");
  EXPECT_EQ(back.url, base_ + "/account");
  EXPECT_NE(back.body.find("Ada Lovelace"), std::string::npos);
  EXPECT_EQ(count("accounts"), 1);
}

TEST_F(OneLoginSiteTest, AnAccountMadeWithAPasswordIsLinkedByTheConfirmedAddressAndTheOwnerTold) {
  OneLogin provider;
  ASSERT_NO_FATAL_FAILURE(Open(provider));
  Browser b;
  auto registered =
      b.Post(base_ + "/account/register", "email=grace%40example.com&password=correct+horse+battery+staple&name=Grace");
  EXPECT_NE(registered.body.find("Check your email"), std::string::npos);
  auto mail = WaitForMail(1);  // the confirmation link, not used

  auto home = SignIn(b, "grace%40example.com");
  ASSERT_EQ(home.url, base_ + "/account") << home.body;
  EXPECT_NE(home.body.find("Grace"), std::string::npos);
  EXPECT_NE(home.body.find("Confirmed the email address"), std::string::npos);
  EXPECT_NE(home.body.find("Linked your account to"), std::string::npos);
  mail = WaitForMail(2);
  EXPECT_EQ(mail[1]["headers"]["Subject"], "You signed in with GOV.UK One Login");
  EXPECT_EQ(mail[1]["rcpt_tos"][0], "grace@example.com");
}

TEST_F(OneLoginSiteTest, ALevelOtherThanTheOneAskedForSignsNoOneIn) {
  // The provider answers with one factor (vot "Cl") where the site asked for two ("Cl.Cm").
  OneLogin provider({"--vot", "Cl"});
  ASSERT_NO_FATAL_FAILURE(Open(provider));
  Browser b;
  auto page = SignIn(b, "eve%40example.com");
  EXPECT_EQ(page.status, 403);
  EXPECT_NE(page.body.find("GOV.UK One Login could not sign you in"), std::string::npos);
  EXPECT_EQ(page.body.find("eve@example.com"), std::string::npos);
  int64_t accounts = -1;
  (void)s_.site().store().Read([&](store::Connection& c) -> Status {
    auto rows = c.Query("SELECT COUNT(*) FROM accounts", {});
    if (rows.ok()) accounts = rows->front().Int(0);
    return Ok();
  });
  EXPECT_EQ(accounts, 0);
}

TEST_F(OneLoginSiteTest, AnUnconfirmedAddressSignsNoOneIn) {
  OneLogin provider({"--unverified-email"});
  ASSERT_NO_FATAL_FAILURE(Open(provider));
  Browser b;
  auto page = SignIn(b, "mallory%40example.com");
  EXPECT_EQ(page.status, 403);
  EXPECT_NE(page.body.find("did not give us a confirmed email address"), std::string::npos);
}

TEST_F(OneLoginSiteTest, ACallbackThatIsNotThisBrowsersSignInIsRefused) {
  OneLogin provider;
  ASSERT_NO_FATAL_FAILURE(Open(provider));
  // No sign-in begun in this browser.
  Browser stranger;
  auto page = stranger.Go(base_ + "/account/sign-in/oidc/callback?code=abc&state=xyz");
  EXPECT_EQ(page.status, 400);
  EXPECT_NE(page.body.find("Your sign-in did not finish"), std::string::npos);
  // Begun here, but the answer carries another state (a code injected from someone else's sign-in).
  Browser b;
  auto login = b.Go(base_ + "/account/sign-in/oidc");
  ASSERT_EQ(login.status, 200);
  auto forged = b.Go(base_ + "/account/sign-in/oidc/callback?code=abc&state=not-this-one");
  EXPECT_EQ(forged.status, 400);
  EXPECT_NE(forged.body.find("was not for this sign-in"), std::string::npos);
  // The person turned back at the provider.
  b.Go(base_ + "/account/sign-in/oidc");
  auto denied = b.Go(base_ + "/account/sign-in/oidc/callback?error=access_denied&state=x");
  EXPECT_EQ(denied.status, 400);
  EXPECT_NE(denied.body.find("You did not finish signing in"), std::string::npos);
  // The site's public key is published for the provider.
  auto jwks = json::parse(b.Go(base_ + "/account/oidc/jwks.json").body);
  EXPECT_EQ(jwks["keys"][0]["kty"], "RSA");
  EXPECT_FALSE(jwks["keys"][0].contains("d"));
}

}  // namespace
}  // namespace steward
