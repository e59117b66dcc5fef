#include "app/modules.h"

#include "accounts/module.h"
#include "changes/module.h"
#include "admin/module.h"
#include "analytics/module.h"
#include "consent/module.h"
#include "disclosures/module.h"
#include "feedback/messages.h"
#include "feedback/module.h"
#include "logs/module.h"
#include "mail/module.h"
#include "notice/module.h"
#include "rights/module.h"
#include "sharing/module.h"
#include "statistics/module.h"
#include "subjects/module.h"
#include "subscriptions/module.h"
#include "vulnerability/module.h"

namespace steward::app {

const std::vector<module::Descriptor>& Modules() {
  static const std::vector<module::Descriptor> kModules = {
      // The mail module before those that send email: they find its queue while starting. The notice
      // changes before the modules that add whom it tells (accounts, subscriptions).
      admin::AuditModule(), admin::StaffModule(),    subjects::Module(), notice::Module(),  consent::Module(),
      analytics::Module(),  logs::Module(),          mail::Module(),     changes::Module(), feedback::Module(),
      messages::Module(),   subscriptions::Module(), accounts::Module(), rights::Module(),  vulnerability::Module(),
      statistics::Module(), disclosures::Module(),   sharing::Module(),
  };
  return kModules;
}

}  // namespace steward::app
