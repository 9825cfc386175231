// Every REST route chatd serves, in one place: the app and the OpenAPI test build the same table.
#pragma once

#include "auth/account_service.hpp"
#include "auth/moderation_service.hpp"
#include "domain/group_service.hpp"
#include "domain/inbox.hpp"
#include "http/health_handlers.hpp"
#include "http/metrics_handlers.hpp"
#include "domain/attachment_service.hpp"
#include "domain/block_service.hpp"
#include "domain/disappearing_service.hpp"
#include "domain/search_service.hpp"
#include "domain/push_service.hpp"
#include "http/router.hpp"

namespace chatd::http {

struct Services {
  auth::AccountService& accounts;
  GroupService& groups;
  InboxService& inbox;
  AttachmentService& attachments;
  PushService& push;
  auth::ModerationService& moderation;
  BlockService& blocks;
  SearchService& search;
  DisappearingService& disappearing;
  DatabaseProbe probe;
  Gauges gauges;
  NatsProbe nats = {};
};

void add_all_routes(Router& router, Services services);

}  // namespace chatd::http
