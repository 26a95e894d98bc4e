// `bora cron|event|event-trigger|webhook ...`: what starts workflows without a user: cron triggers
// (/v2/cron_triggers), CloudEvents (/v2/events), event triggers (/v2/event_triggers) and webhook
// configurations and deliveries (/v2/webhook_configs, /v2/webhooks/{name}).
#include <CLI/CLI.hpp>
#include <ostream>

#include "cli/client_registry.h"
#include "common/clock.h"
#include "common/ids.h"

namespace bora::cli {
namespace {

const std::vector<Column> kCronColumns = {{"Name", "name"},
                                          {"ID", "id"},
                                          {"Workflow", "workflow_name"},
                                          {"Params", "workflow_params"},
                                          {"Pattern", "pattern"},
                                          {"Next execution time", "next_execution_time"},
                                          {"Remaining executions", "remaining_executions"},
                                          {"Created at", "created_at"},
                                          {"Updated at", "updated_at"}};
const std::vector<Column> kEventTriggerColumns = {{"ID", "id"},
                                                  {"Name", "name"},
                                                  {"Workflow ID", "workflow_id"},
                                                  {"Workflow name", "workflow_name"},
                                                  {"Type", "type"},
                                                  {"Source", "source"},
                                                  {"Subject", "subject"},
                                                  {"Input mapping", "input_mapping", true},
                                                  {"Params", "workflow_params", true},
                                                  {"Scope", "scope"},
                                                  {"Created at", "created_at"},
                                                  {"Updated at", "updated_at"}};
const std::vector<Column> kWebhookColumns = {
    {"Name", "name"},           {"Format", "format"},
    {"Signature", "signature"}, {"Has secret", "has_secret"},
    {"URL path", "url_path"},   {"Description", "description", true}};

// Prints an events reply ({"accepted", "ids"}) or "Event ID accepted.".
int FinishEvents(Client& c, const std::optional<Reply>& r, const std::string& fallback,
                 const std::string& subject = "") {
  return c.Finish(
      r,
      [&](const Json& body) {
        if (body.is_object() && !body.as_object().empty()) {
          PrintAnyObject(c.out(), body.as_object());
        } else {
          c.out() << fallback << "\n";
        }
      },
      subject);
}

void AddCronGroup(CLI::App& app, ClientRegistry& r) {
  ClientArgs& a = r.args();
  CLI::App* cron = app.add_subcommand("cron", "Cron triggers (REST /v2/cron_triggers)");
  cron->require_subcommand(1);
  auto* create = r.Leaf(cron, "create", "Create a cron trigger", [&a](Client& c) {
    JsonObject body;
    body["name"] = a.name;
    body[IsUuidLike(a.workflow) ? "workflow_id" : "workflow_name"] = a.workflow;
    if (!SetJsonArg(&body, "workflow_input", a.input, "--input", c.err(), "{}") ||
        !SetJsonArg(&body, "workflow_params", a.params, "--params", c.err()))
      return 2;
    body["pattern"] = a.pattern.empty() ? Json(nullptr) : Json(a.pattern);
    body["first_execution_time"] = a.first_time.empty() ? Json(nullptr) : Json(a.first_time);
    body["remaining_executions"] = a.count < 0 ? Json(nullptr) : Json(a.count);
    return c.Show(c.Call("POST", "/v2/cron_triggers", DumpJson(body)), kCronColumns,
                  Named("workflow", a.workflow));
  });
  create->add_option("name", a.name, "Trigger name")->required();
  create->add_option("workflow", a.workflow, "Workflow name or ID")->required();
  create->add_option("--pattern", a.pattern, "Cron pattern, UTC (\"*/5 * * * *\")");
  create->add_option("--input,-i", a.input, "Workflow input as a JSON object, or @file");
  create->add_option("--params,-p", a.params, "Workflow parameters as a JSON object, or @file");
  create->add_option("--first-time", a.first_time, "First run, \"YYYY-MM-DD HH:MM\" UTC");
  create->add_option("--count", a.count, "Number of runs (remaining_executions; -1: unbounded)")
      ->capture_default_str();
  auto* list = r.Leaf(cron, "list", "List cron triggers", [&a, &r](Client& c) {
    std::string path;
    if (!r.ListPath("/v2/cron_triggers", {{"workflow_name", a.workflow}}, c.err(), &path)) return 2;
    return c.List(path, "cron_triggers", kCronColumns);
  });
  list->add_option("--workflow", a.workflow, "Only triggers of this workflow (name)");
  r.AddListFlags(list);
  r.Leaf(cron, "get", "Show a cron trigger",
         [&a](Client& c) {
           return c.Show(c.Call("GET", "/v2/cron_triggers/" + Escape(a.name)), kCronColumns,
                         Named("cron trigger", a.name));
         })
      ->add_option("name", a.name, "Trigger name or ID")
      ->required();
  r.Leaf(cron, "delete", "Delete a cron trigger",
         [&a](Client& c) {
           return c.Delete("/v2/cron_triggers/" + Escape(a.name), Named("cron trigger", a.name));
         })
      ->add_option("name", a.name, "Trigger name or ID")
      ->required();
}

void AddEventGroup(CLI::App& app, ClientRegistry& r) {
  ClientArgs& a = r.args();
  CLI::App* event = app.add_subcommand("event", "CloudEvents (REST /v2/events)");
  event->require_subcommand(1);
  auto* publish =
      r.Leaf(event, "publish", "Publish a CloudEvent (structured mode)", [&a](Client& c) {
        JsonObject ce;
        ce["specversion"] = "1.0";
        ce["id"] = a.event_id.empty() ? NewUuid() : a.event_id;
        ce["source"] = a.source;
        ce["type"] = a.type;
        if (!a.subject.empty()) ce["subject"] = a.subject;
        ce["time"] = FormatIsoTime(SystemClock::Get()->NowUs());
        if (!a.data.empty()) {
          auto data = ReadJsonArg(a.data, "--data", c.err(), /*object_only=*/false);
          if (!data) return 2;
          ce["datacontenttype"] = "application/json";
          ce["data"] = *data;
        }
        auto reply = c.Call("POST", "/v2/events", DumpJson(ce), "application/cloudevents+json");
        return FinishEvents(c, reply, "Event " + std::string(ce["id"].as_string()) + " accepted.");
      });
  publish->add_option("--type", a.type, "CloudEvents type")->required();
  publish->add_option("--source", a.source, "CloudEvents source (URI reference)")->required();
  publish->add_option("--subject", a.subject, "CloudEvents subject");
  publish->add_option("--data", a.data, "Event data as JSON, or @file");
  publish->add_option("--id", a.event_id,
                      "Event id (default: a new UUID); the server dedupes on it");
}

void AddEventTriggerGroup(CLI::App& app, ClientRegistry& r) {
  ClientArgs& a = r.args();
  CLI::App* et = app.add_subcommand(
      "event-trigger",
      "Event triggers: start a workflow per matching event (REST /v2/event_triggers)");
  et->require_subcommand(1);
  auto* create = r.Leaf(et, "create", "Create an event trigger", [&a](Client& c) {
    JsonObject body{{"name", a.name}, {"workflow_id", a.workflow}};
    if (!SetJsonArg(&body, "workflow_input", a.input, "--input", c.err(), "{}") ||
        !SetJsonArg(&body, "workflow_params", a.params, "--params", c.err()))
      return 2;
    if (!a.namespace_.empty()) body["workflow_namespace"] = a.namespace_;
    for (auto [key, value] : {std::pair<const char*, const std::string*>{"type", &a.type},
                              {"source", &a.source},
                              {"subject", &a.subject},
                              {"exchange", &a.exchange},
                              {"topic", &a.topic},
                              {"event", &a.event},
                              {"scope", &a.scope}})
      if (!value->empty()) body[key] = *value;
    if (!a.input_mapping.empty()) body["input_mapping"] = a.input_mapping;
    return c.Show(c.Call("POST", "/v2/event_triggers", DumpJson(body)), kEventTriggerColumns,
                  Named("workflow", a.workflow));
  });
  create->add_option("name", a.name, "Trigger name")->required();
  create->add_option("workflow", a.workflow, "Workflow name or ID")->required();
  create->add_option("--type", a.type,
                     "CloudEvents type to match (exact, or a prefix ending in *)");
  create->add_option("--source", a.source, "CloudEvents source to match (exact, or prefix*)");
  create->add_option("--subject", a.subject, "CloudEvents subject to match (exact, or prefix*)");
  create->add_option("--event", a.event, "Mistral's event name (same as --type)");
  create->add_option("--exchange", a.exchange, "Mistral's exchange");
  create->add_option("--topic", a.topic, "Mistral's topic");
  create->add_option("--input,-i", a.input, "Workflow input as a JSON object, or @file");
  create->add_option("--params,-p", a.params, "Workflow parameters as a JSON object, or @file");
  create->add_option("--input-mapping", a.input_mapping,
                     "Expression over the event ($), its dict merged over the input");
  create->add_option("--namespace", a.namespace_, "Workflow namespace");
  create->add_option("--scope", a.scope, "private or public")
      ->check(CLI::IsMember({"private", "public"}));
  auto* list = r.Leaf(et, "list", "List event triggers", [&a, &r](Client& c) {
    std::string path;
    if (!r.ListPath("/v2/event_triggers", {{"workflow_name", a.workflow}}, c.err(), &path))
      return 2;
    return c.List(path, "event_triggers", kEventTriggerColumns);
  });
  list->add_option("--workflow", a.workflow, "Only triggers of this workflow (name)");
  r.AddListFlags(list);
  auto et_path = [&a] { return "/v2/event_triggers/" + Escape(a.id); };
  auto* get = r.Leaf(et, "get", "Show an event trigger", [&a, et_path](Client& c) {
    return c.Show(c.Call("GET", et_path()), kEventTriggerColumns, Named("event trigger", a.id));
  });
  auto* update =
      r.Leaf(et, "update", "Change an event trigger's name, input, params, mapping or scope",
             [&a, et_path](Client& c) {
               JsonObject body;
               if (!a.name.empty()) body["name"] = a.name;
               if (!SetJsonArg(&body, "workflow_input", a.input, "--input", c.err()) ||
                   !SetJsonArg(&body, "workflow_params", a.params, "--params", c.err()))
                 return 2;
               if (!a.input_mapping.empty()) body["input_mapping"] = a.input_mapping;
               if (!a.scope.empty()) body["scope"] = a.scope;
               return c.Show(c.Call("PUT", et_path(), DumpJson(body)), kEventTriggerColumns,
                             Named("event trigger", a.id));
             });
  update->add_option("--name", a.name, "New name");
  update->add_option("--input,-i", a.input, "New workflow input, JSON object or @file");
  update->add_option("--params,-p", a.params, "New workflow parameters, JSON object or @file");
  update->add_option("--input-mapping", a.input_mapping, "New input mapping expression");
  update->add_option("--scope", a.scope, "private or public")
      ->check(CLI::IsMember({"private", "public"}));
  auto* del = r.Leaf(et, "delete", "Delete an event trigger", [&a, et_path](Client& c) {
    return c.Delete(et_path(), Named("event trigger", a.id));
  });
  for (CLI::App* cmd : {get, update, del})
    cmd->add_option("id", a.id, "Event trigger ID")->required();
}

void AddWebhookGroup(CLI::App& app, ClientRegistry& r) {
  ClientArgs& a = r.args();
  CLI::App* wh = app.add_subcommand(
      "webhook",
      "Webhooks: configurations (REST /v2/webhook_configs) and deliveries (/v2/webhooks)");
  wh->require_subcommand(1);
  auto* create = r.Leaf(wh, "create", "Configure a webhook", [&a](Client& c) {
    JsonObject body{{"name", a.name}, {"format", a.format}};
    if (!a.secret.empty()) body["secret"] = a.secret;
    if (!a.signature.empty()) body["signature"] = a.signature;
    if (!a.description.empty()) body["description"] = a.description;
    return c.Show(c.Call("POST", "/v2/webhook_configs", DumpJson(body)), kWebhookColumns);
  });
  create->add_option("name", a.name, "Webhook name (its URL is /v2/webhooks/NAME)")->required();
  create->add_option("--format", a.format, "Payload format")
      ->check(CLI::IsMember({"aodh", "alertmanager", "json"}))
      ->required();
  create->add_option("--secret", a.secret, "Shared secret: deliveries must be signed with it");
  create->add_option("--signature", a.signature, "Signature scheme (with --secret)")
      ->check(CLI::IsMember({"standard", "github"}));
  create->add_option("--description,-d", a.description, "Description");
  auto* list = r.Leaf(wh, "list", "List webhook configurations", [](Client& c) {
    return c.List("/v2/webhook_configs", "webhook_configs", kWebhookColumns);
  });
  (void)list;
  auto wh_path = [&a] { return "/v2/webhook_configs/" + Escape(a.name); };
  auto* get = r.Leaf(wh, "get", "Show a webhook configuration", [&a, wh_path](Client& c) {
    return c.Show(c.Call("GET", wh_path()), kWebhookColumns, Named("webhook", a.name));
  });
  auto* del = r.Leaf(wh, "delete", "Delete a webhook configuration", [&a, wh_path](Client& c) {
    return c.Delete(wh_path(), Named("webhook", a.name));
  });
  auto* send =
      r.Leaf(wh, "send", "Deliver a JSON payload to a webhook (unsigned)", [&a](Client& c) {
        auto data = ReadJsonArg(a.data.empty() ? "{}" : a.data, "--data", c.err(), false);
        if (!data) return 2;
        auto reply = c.Call("POST", "/v2/webhooks/" + Escape(a.name), DumpJson(*data));
        return FinishEvents(c, reply, "Delivered to " + Named("webhook", a.name) + ".",
                            Named("webhook", a.name));
      });
  send->add_option("--data", a.data, "The payload as JSON, or @file");
  for (CLI::App* cmd : {get, del, send})
    cmd->add_option("name", a.name, "Webhook name")->required();
}

}  // namespace

void AddTriggerCommands(CLI::App& app, ClientRegistry& r) {
  AddCronGroup(app, r);
  AddEventGroup(app, r);
  AddEventTriggerGroup(app, r);
  AddWebhookGroup(app, r);
}

}  // namespace bora::cli
