#include "mail/module.h"

#include <cstdio>

#include "core/log.h"
#include "mail/mail.h"

namespace steward::mail {
namespace {

constexpr module::Id kMail("mail");

Result<Settings> RequireSettings(const module::Platform& p) {
  STEWARD_ASSIGN_OR_RETURN(auto settings, ReadSettings(*p.config.document, p.reg));
  if (!settings) {
    return MakeError(ErrorCode::kFailedPrecondition, p.config.path +
                                                         ": there is no [mail]: say which relay sends "
                                                         "the site's email (docs/mail.md)");
  }
  return *settings;
}

// `steward mail test --to ADDRESS`: queues a short message and sends it at once, to check the relay.
int TestCommand(module::CommandContext& ctx) {
  module::Platform& p = *ctx.platform;
  auto settings = RequireSettings(p);
  if (!settings.ok()) return module::Fail(settings.error(), 2);
  auto smtp = SmtpClient::Open(*settings);
  if (!smtp.ok()) return module::Fail(smtp.error(), 2);
  Queue queue(p.store, p.key, p.clock);
  std::string to = ctx.args.Text("--to");
  auto id = queue.Enqueue({.to = to,
                           .subject = "A test message from " + p.config.site.name,
                           .text = "This message checks that " + p.config.site.name +
                                   " can send email through its relay. Nobody needs to answer it."},
                          *settings);
  if (!id.ok()) return module::Fail(id.error(), 2);
  auto round = queue.Deliver(**smtp, *settings, settings->per_second);
  if (!round.ok()) return module::Fail(round.error());
  auto state = queue.StateOf(*id);
  if (!state.ok()) return module::Fail(state.error());
  if (state->status == "sent") {
    std::printf("sent: the relay %s accepted message %lld\n", settings->relay.c_str(), static_cast<long long>(*id));
    return 0;
  }
  std::printf("%s: message %lld (%s)%s\n", state->status.c_str(), static_cast<long long>(*id), state->reason.c_str(),
              state->status == "queued" ? "; serve retries it with backoff" : "");
  return 1;
}

// `steward mail bounce`: a delivery status notification or an abuse report on standard input, as
// the mail server pipes it to the bounce address. Prints what it came to; never an address.
int BounceCommand(module::CommandContext& ctx) {
  module::Platform& p = *ctx.platform;
  std::string report;
  char buffer[65536];
  size_t n;
  while (report.size() < (10u << 20) && (n = std::fread(buffer, 1, sizeof buffer, stdin)) > 0) report.append(buffer, n);
  Queue queue(p.store, p.key, p.clock);
  auto bounce = queue.HandleBounce(report);
  if (!bounce.ok()) return module::Fail(bounce.error());
  using Kind = Queue::Bounce::Kind;
  const char* kind = bounce->kind == Kind::kHard        ? "hard bounce"
                     : bounce->kind == Kind::kSoft      ? "soft bounce"
                     : bounce->kind == Kind::kComplaint ? "complaint"
                     : bounce->kind == Kind::kUnclear   ? "a report Steward cannot read"
                                                        : "not about a message Steward sent";
  if (bounce->message == 0) {
    std::printf("%s: nothing done\n", kind);
  } else {
    std::printf("%s for message %lld: %s\n", kind, static_cast<long long>(bounce->message),
                bounce->suppressed ? "its address is suppressed" : "counted, not suppressed");
  }
  // The mail server gets success either way: a report it cannot deliver must not bounce again.
  return 0;
}

// `steward mail status`: how many messages are queued, sent and failed. No addresses.
int StatusCommand(module::CommandContext& ctx) {
  module::Platform& p = *ctx.platform;
  Queue queue(p.store, p.key, p.clock);
  auto counts = queue.Count();
  if (!counts.ok()) return module::Fail(counts.error());
  std::printf("queued %lld\nsent %lld\nfailed %lld\n", static_cast<long long>(counts->queued),
              static_cast<long long>(counts->sent), static_cast<long long>(counts->failed));
  return 0;
}

class MailServing : public module::Serving {
 public:
  MailServing(module::Platform& p, Settings settings)
      : settings_(std::move(settings)),
        queue_(p.store, p.key, p.clock, p.metrics),
        subjects_(p.SubjectDeps(kMail), p.key, p.clock, Queue::SealedTables()) {
    p.services.Provide<Queue>(&queue_);
  }

  subject::SubjectData* Subjects() override { return &subjects_; }

  std::vector<module::Task> Tasks() override {
    return {{.name = "mail.deliver",
             .first = std::chrono::seconds(1),
             .every = std::chrono::seconds(1),
             .run = [this]() -> Status {
               if (!smtp_) {
                 STEWARD_ASSIGN_OR_RETURN(smtp_, SmtpClient::Open(settings_));
               }
               // Within per_second: one round a second sends at most that many.
               STEWARD_RETURN_IF_ERROR(queue_.Deliver(*smtp_, settings_, settings_.per_second));
               return Ok();
             }}};
  }

 private:
  Settings settings_;
  Queue queue_;
  subjects::SealedData subjects_;
  std::unique_ptr<SmtpClient> smtp_;  // used only by the task's thread
};

}  // namespace

module::Descriptor Module() {
  return {
      .id = kMail,
      .migrations = [] { return Queue::Migrations(); },
      .storage =
          [](const config::Config&) {
            return std::vector<retention::ModuleStorage>{Queue::Storage(), Queue::SuppressionStorage()};
          },
      .config_tables = {"mail"},
      .check = [](const config::Config& config, const processing::Register& reg) -> Status {
        STEWARD_RETURN_IF_ERROR(ReadSettings(*config.document, reg));
        return Ok();
      },
      .command_groups = {{"mail", "Outbound email through the site's relay."}},
      .commands =
          [] {
            return std::vector<module::Command>{
                {.path = {"mail", "test"},
                 .help = "Queue a short message to an address and send it at once, to check the relay.",
                 .options = {{.name = "--to", .help = "The address to send it to.", .required = true}},
                 .run = TestCommand},
                {.path = {"mail", "bounce"},
                 .help = "Read a bounce (RFC 3464) or an abuse report (RFC 5965) on standard input, as the mail "
                         "server pipes it, and suppress the address after a hard bounce or a complaint.",
                 .run = BounceCommand},
                {.path = {"mail", "status"},
                 .help = "Print how many messages are queued, sent and failed (never an address).",
                 .run = StatusCommand},
            };
          },
      .subjects = [](module::Platform& p) -> Result<std::unique_ptr<subject::SubjectData>> {
        return std::unique_ptr<subject::SubjectData>(
            std::make_unique<subjects::SealedData>(p.SubjectDeps(kMail), p.key, p.clock, Queue::SealedTables()));
      },
      .start = [](module::Platform& p) -> Result<std::unique_ptr<module::Serving>> {
        STEWARD_ASSIGN_OR_RETURN(auto settings, ReadSettings(*p.config.document, p.reg));
        if (!settings) return std::unique_ptr<module::Serving>(std::make_unique<module::Serving>());
        return std::unique_ptr<module::Serving>(std::make_unique<MailServing>(p, std::move(*settings)));
      },
  };
}

}  // namespace steward::mail
