#include "app/modules.h"

#include "admin/module.h"
#include "analytics/module.h"
#include "consent/module.h"
#include "feedback/messages.h"
#include "feedback/module.h"
#include "logs/module.h"
#include "mail/module.h"
#include "notice/module.h"
#include "subjects/module.h"
#include "subscriptions/module.h"

namespace steward::app {

const std::vector<module::Descriptor>& Modules() {
  static const std::vector<module::Descriptor> kModules = {
      admin::AuditModule(), admin::StaffModule(), subjects::Module(),      notice::Module(),
      consent::Module(),    analytics::Module(),  logs::Module(),          feedback::Module(),
      messages::Module(),   mail::Module(),       subscriptions::Module(),
  };
  return kModules;
}

}  // namespace steward::app
