#include "http/routes.hpp"

#include "http/account_handlers.hpp"
#include "http/admin_handlers.hpp"
#include "http/attachment_handlers.hpp"
#include "http/device_handlers.hpp"
#include "http/everyday_handlers.hpp"
#include "http/group_handlers.hpp"
#include "http/inbox_handlers.hpp"
#include "http/user_handlers.hpp"

namespace chatd::http {

void add_all_routes(Router& router, Services services) {
  add_health_routes(router, std::move(services.probe), std::move(services.nats));
  add_metrics_routes(router, std::move(services.gauges));
  add_user_routes(router, services.accounts);
  add_account_routes(router, services.accounts, services.inbox, services.moderation,
                     services.blocks);
  add_admin_routes(router, services.moderation);
  router.set_admin_check([&m = services.moderation](UserId u) { return m.is_admin(u); });
  add_group_routes(router, services.groups);
  add_inbox_routes(router, services.inbox);
  add_everyday_routes(router, services.search, services.disappearing);
  add_attachment_routes(router, services.attachments);
  add_device_routes(router, services.push);
}

}  // namespace chatd::http
