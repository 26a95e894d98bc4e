#include "ingest/api/workers_api.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <map>
#include <set>
#include <thread>

#include "common/ids.h"
#include "common/log.h"
#include "common/thread_annotations.h"
#include "ingest/api/mistral_format.h"
#include "orchestrator/runtime/loops.h"
#include "sdk/protocol/protocol.h"
#include "workers/action_worker.h"
#include "workers/external_actions.h"
#include "workers/lease_queue.h"

namespace bora::api {
namespace {

using http::HttpRequest;
using http::HttpResponse;
using http::PathParams;
using std::chrono::milliseconds;

Result<double> Seconds(const JsonObject& body, std::string_view key, double fallback, double min,
                       double max) {
  const Json* v = body.if_contains(key);
  if (v == nullptr || v->is_null()) return fallback;
  if (!v->is_number()) return InvalidArgument(std::string(key) + ": must be a number of seconds");
  double s = v->to_number<double>();
  if (!(s >= min && s <= max)) {
    return InvalidArgument(std::string(key) + ": must be " +
                           std::to_string(static_cast<int64_t>(min)) + ".." +
                           std::to_string(static_cast<int64_t>(max)) + " seconds");
  }
  return s;
}

// A pool topic's partitions: as many as bora.events, so that the pool's consumers (this process's
// ActionWorker and Kafka workers of the pool, one group) can share it; requests are keyed by execution.
int PoolPartitions(const ApiContext& context) { return std::max(1, context.partitions); }

HttpResponse StatusFault(const Status& s) {
  if (s.code() == StatusCode::kNotFound) return Fault(404, s.message());
  if (s.code() == StatusCode::kFailedPrecondition) return Fault(409, s.message());
  return FaultFrom(s);
}

}  // namespace

class WorkersApi::Impl {
 public:
  Impl(ApiContext& ctx, WorkersApiOptions options) : ctx_(ctx), options_(options) {}
  ~Impl() { Shutdown(); }

  void Shutdown() EXCLUDES(mu_) {
    std::map<std::string, std::unique_ptr<Pool>> pools;
    {
      MutexLock lock(mu_);
      shut_down_ = true;
      pools.swap(pools_);
    }
    for (auto& [name, pool] : pools) {
      pool->queue->Shutdown();
      pool->stopping = true;
      pool->worker->Wakeup();
      if (pool->thread.joinable()) pool->thread.join();
    }
  }

  // ApiContext::run_external: a direct run of a declared action, queued in its pool here.
  Status RunExternal(workers::ActionRequest request, workers::LeaseQueue::Done done) {
    const workers::ActionSignature* sig = ctx_.actions->FindSignature(request.action_name);
    if (sig == nullptr || sig->pool.empty()) {
      return NotFound("Failed to find action [action_name=" + request.action_name + "]");
    }
    BORA_ASSIGN_OR_RETURN(Pool * p, PoolFor(sig->pool));
    p->queue->Add(std::move(request), std::move(done));
    return Status::Ok();
  }

  bool WithdrawExternal(const std::string& action_name, const std::string& action_execution_id)
      EXCLUDES(mu_) {
    const workers::ActionSignature* sig = ctx_.actions->FindSignature(action_name);
    if (sig == nullptr) return false;
    MutexLock lock(mu_);
    auto it = pools_.find(sig->pool);
    return it != pools_.end() && it->second->queue->Withdraw(action_execution_id);
  }

  Result<HttpResponse> Poll(const HttpRequest& request) {
    BORA_ASSIGN_OR_RETURN(JsonObject body, ParseJsonBody(request));
    std::string pool = "external";
    if (const Json* p = body.if_contains("pool"); p && !p->is_null()) {
      if (!p->is_string() || p->get_string().empty() || p->get_string().size() > 100) {
        return InvalidArgument("pool: must be a name (1..100 characters)");
      }
      pool = std::string(p->get_string());
    }
    if (pool == "default") {
      return InvalidArgument(
          "pool: 'default' is the built-in actions' pool; external workers name another one");
    }
    std::string worker;
    if (const Json* w = body.if_contains("worker"); w && w->is_string()) {
      worker = std::string(w->get_string()).substr(0, 200);
    }
    BORA_ASSIGN_OR_RETURN(double wait, Seconds(body, "wait", options_.default_wait.count() / 1e3, 0,
                                               options_.max_wait.count() / 1e3));
    BORA_ASSIGN_OR_RETURN(double lease, Seconds(body, "lease", options_.default_lease.count() / 1e3,
                                                1, options_.max_lease.count() / 1e3));
    size_t max = 1;
    if (const Json* m = body.if_contains("max"); m && !m->is_null()) {
      if (!m->is_int64() || m->as_int64() < 1 ||
          static_cast<size_t>(m->as_int64()) > options_.max_per_poll) {
        return InvalidArgument("max: must be 1.." + std::to_string(options_.max_per_poll));
      }
      max = static_cast<size_t>(m->as_int64());
    }
    std::vector<workers::ActionSignature> declared;
    std::set<std::string> names;
    if (const Json* a = body.if_contains("actions"); a && !a->is_null()) {
      if (!a->is_array() || a->as_array().size() > options_.max_actions_declared) {
        return InvalidArgument("actions: must be a list of at most " +
                               std::to_string(options_.max_actions_declared) + " actions");
      }
      for (const Json& item : a->as_array()) {
        BORA_ASSIGN_OR_RETURN(auto sig, Declaration(item, pool));
        names.insert(sig.name);
        declared.push_back(std::move(sig));
      }
    }
    if (names.empty()) return InvalidArgument("actions: declare at least one action to run");
    BORA_ASSIGN_OR_RETURN(Pool * p, PoolFor(pool));
    // The topic exists (PoolFor): tasks may now be sent there.
    for (auto& sig : declared) {
      // A bare name keeps what a fuller declaration of the same pool said (its input spec).
      const workers::ActionSignature* known = ctx_.actions->FindSignature(sig.name);
      if (sig.accepts_any_params && sig.params.empty() && known != nullptr && known->pool == pool) {
        continue;
      }
      if (!ctx_.actions->DeclareExternal(sig)) {
        return InvalidArgument("actions: " + sig.name +
                               " is a built-in action; an external action needs another name");
      }
      BORA_RETURN_IF_ERROR(Persist(sig));
    }
    Seen(worker, pool, names);
    auto take = [this, p, names, max, lease, wait]() {
      auto leases = p->queue->Take(names, max, milliseconds(static_cast<int64_t>(lease * 1e3)),
                                   milliseconds(static_cast<int64_t>(wait * 1e3)));
      JsonArray out;
      const TimestampUs now = ctx_.Now();
      for (auto& l : leases) {
        const auto& r = l.request;
        out.push_back(JsonObject{{"lease_id", l.lease_id},
                                 {"action_execution_id", r.action_execution_id},
                                 {"action_name", r.action_name},
                                 {"input", r.input},
                                 {"attempt", r.attempt},
                                 {"delivery", l.delivery},
                                 {"execution_id", r.execution_id},
                                 {"workflow_name", r.workflow_name},
                                 {"task_name", r.task_name},
                                 {"task_execution_id", r.task_execution_id},
                                 {"timeout_s", r.timeout_s},
                                 {"security", r.security},
                                 {"expires_in", static_cast<double>(l.expires_at - now) / 1e6}});
      }
      return JsonReply(200, JsonObject{{"leases", std::move(out)}});
    };
    if (wait <= 0) return take();
    HttpResponse r;
    r.deferred = std::move(take);
    return r;
  }

  Result<HttpResponse> Heartbeat(const HttpRequest& request, const std::string& id) {
    JsonObject body;
    if (!request.body.empty()) {
      BORA_ASSIGN_OR_RETURN(body, ParseJsonBody(request));
    }
    BORA_ASSIGN_OR_RETURN(double extend,
                          Seconds(body, "extend", options_.default_lease.count() / 1e3, 1,
                                  options_.max_lease.count() / 1e3));
    BORA_ASSIGN_OR_RETURN(workers::LeaseQueue * q, QueueOfLease(id));
    auto deadline = q->Heartbeat(id, milliseconds(static_cast<int64_t>(extend * 1e3)));
    if (!deadline.ok()) return StatusFault(deadline.status());
    return JsonReply(200,
                     JsonObject{{"lease_id", id},
                                {"expires_in", static_cast<double>(*deadline - ctx_.Now()) / 1e6}});
  }

  Result<HttpResponse> Complete(const HttpRequest& request, const std::string& id) {
    BORA_ASSIGN_OR_RETURN(JsonObject body, ParseJsonBody(request));
    const Json* state = body.if_contains("state");
    if (state == nullptr || !state->is_string() ||
        (state->get_string() != "SUCCESS" && state->get_string() != "ERROR")) {
      return InvalidArgument("state: must be SUCCESS or ERROR");
    }
    const Json* result = body.if_contains("result");
    Json data = result == nullptr ? Json(nullptr) : *result;
    workers::ActionResult r = state->get_string() == "SUCCESS"
                                  ? workers::ActionResult::Success(std::move(data))
                                  : workers::ActionResult::Error(std::move(data));
    BORA_ASSIGN_OR_RETURN(workers::LeaseQueue * q, QueueOfLease(id));
    auto duplicate = q->Complete(id, r);
    if (!duplicate.ok()) return StatusFault(duplicate.status());
    return JsonReply(200, JsonObject{{"lease_id", id},
                                     {"state", std::string(state->get_string())},
                                     {"duplicate", *duplicate}});
  }

  Result<HttpResponse> Release(const std::string& id) {
    BORA_ASSIGN_OR_RETURN(workers::LeaseQueue * q, QueueOfLease(id));
    Status s = q->Release(id);
    if (!s.ok()) return StatusFault(s);
    return JsonReply(200, JsonObject{{"lease_id", id}});
  }

  HttpResponse ListWorkers() EXCLUDES(mu_) {
    MutexLock lock(mu_);
    JsonArray out;
    for (const auto& [id, w] : workers_) {
      JsonArray actions;
      for (const auto& a : w.actions) actions.push_back(Json(a));
      out.push_back(JsonObject{{"worker", id},
                               {"pool", w.pool},
                               {"actions", std::move(actions)},
                               {"last_seen", FormatMistralTime(w.last_seen)}});
    }
    JsonArray pools;
    for (const auto& [name, pool] : pools_) {
      pools.push_back(JsonObject{{"pool", name},
                                 {"queued", static_cast<int64_t>(pool->queue->queued())},
                                 {"leased", static_cast<int64_t>(pool->queue->leased())}});
    }
    return JsonReply(200, JsonObject{{"workers", std::move(out)}, {"pools", std::move(pools)}});
  }

 private:
  struct Pool {
    std::unique_ptr<workers::LeaseQueue> queue;
    std::unique_ptr<workers::ActionWorker> worker;
    std::atomic<bool> stopping{false};
    std::thread thread;
  };
  struct SeenWorker {
    std::string pool;
    std::set<std::string> actions;
    TimestampUs last_seen = 0;
  };

  Result<workers::ActionSignature> Declaration(const Json& item, const std::string& pool) {
    workers::ActionSignature sig;
    sig.pool = pool;
    if (item.is_string()) {
      sig.name = std::string(item.get_string());
      sig.accepts_any_params = true;
    } else if (item.is_object()) {
      const JsonObject& o = item.get_object();
      const Json* name = o.if_contains("name");
      if (name == nullptr || !name->is_string())
        return InvalidArgument("actions: each needs a name");
      sig.name = std::string(name->get_string());
      if (const Json* d = o.if_contains("description"); d && d->is_string()) {
        sig.description = std::string(d->get_string()).substr(0, 1000);
      }
      const Json* input = o.if_contains("input");
      if (input == nullptr || input->is_null()) {
        sig.accepts_any_params = true;
      } else if (input->is_string()) {
        auto params = workers::ParseActionInputSpec(input->get_string());
        if (!params.ok()) {
          return InvalidArgument("actions: " + sig.name + ": " + params.status().message());
        }
        sig.params = std::move(*params);
      } else {
        return InvalidArgument("actions: " + sig.name +
                               ": input must be a spec like \"text, suffix=''\"");
      }
    } else {
      return InvalidArgument("actions: each is a name or {name, input, description}");
    }
    if (sig.name.empty() || sig.name.size() > 200) {
      return InvalidArgument("actions: a name must be 1..200 characters");
    }
    if (sig.description.empty()) sig.description = "external action (pool " + pool + ")";
    return sig;
  }

  Result<Pool*> PoolFor(const std::string& name) EXCLUDES(mu_) {
    MutexLock lock(mu_);
    if (shut_down_) return Unavailable("the worker API is shutting down");
    if (auto it = pools_.find(name); it != pools_.end()) return it->second.get();
    if (ctx_.bus == nullptr) return Unavailable("no bus: this process cannot serve workers");
    Status topic = ctx_.bus->CreateTopic(protocol::ActionsTopic(name, ctx_.topic_prefix),
                                         PoolPartitions(ctx_));
    if (!topic.ok() && topic.code() != StatusCode::kAlreadyExists) return topic;
    auto pool = std::make_unique<Pool>();
    pool->queue = std::make_unique<workers::LeaseQueue>(ctx_.clock, [] { return NewUuid(); });
    workers::ActionWorkerOptions wo;
    wo.pool = name;
    wo.topic_prefix = ctx_.topic_prefix;
    wo.group = ctx_.topic_prefix + "bora-workers";
    wo.executor_runs_all = true;
    workers::LeaseQueue* queue = pool->queue.get();
    pool->worker = std::make_unique<workers::ActionWorker>(
        wo, ctx_.bus, ctx_.actions, ctx_.clock,
        [queue](workers::ActionRequest request, workers::ActionWorker::Done done) {
          queue->Add(std::move(request), std::move(done));
        });
    BORA_RETURN_IF_ERROR(pool->worker->Start());
    Pool* p = pool.get();
    p->thread = std::thread([p, trim = ctx_.trim_bus] {
      runtime::RunWorkerLoop(*p->worker, p->stopping, [p, &trim](size_t) {
        if (!trim) return;
        for (const auto& [tp, offset] : p->worker->CommittedPositions()) trim(tp, offset);
      });
    });
    BORA_LOG_INFO("worker API: serving pool {} (topic {})", name,
                  protocol::ActionsTopic(name, ctx_.topic_prefix));
    pools_.emplace(name, std::move(pool));
    return p;
  }

  // Stores a declaration that changed (workers::ExternalActionRecord): a restarted process and the
  // cluster's other processes learn it from there.
  Status Persist(const workers::ActionSignature& sig) EXCLUDES(mu_) {
    if (ctx_.resources == nullptr) return Status::Ok();
    Json record = workers::ExternalActionRecord(sig);
    std::string text = DumpJson(record);
    {
      MutexLock lock(mu_);
      auto it = persisted_.find(sig.name);
      if (it != persisted_.end() && it->second == text) return Status::Ok();
    }
    BORA_RETURN_IF_ERROR(ctx_.resources->Put(workers::kExternalActionsKind, sig.name, record));
    MutexLock lock(mu_);
    persisted_[sig.name] = std::move(text);
    return Status::Ok();
  }

  // Leases are found in any pool's queue (a lease id names no pool).
  Result<workers::LeaseQueue*> QueueOfLease(const std::string& id) EXCLUDES(mu_) {
    MutexLock lock(mu_);
    workers::LeaseQueue* fallback = nullptr;
    for (auto& [name, pool] : pools_) {
      if (pool->queue->Knows(id)) return pool->queue.get();
      fallback = pool->queue.get();
    }
    if (fallback == nullptr) return NotFound("no lease " + id);
    return fallback;  // answers NotFound in its words
  }

  void Seen(const std::string& worker, const std::string& pool,
            const std::set<std::string>& actions) EXCLUDES(mu_) {
    if (worker.empty()) return;
    MutexLock lock(mu_);
    if (workers_.size() >= 10000 && !workers_.count(worker)) return;
    SeenWorker& w = workers_[worker];
    w.pool = pool;
    w.actions = actions;
    w.last_seen = ctx_.Now();
  }

  ApiContext& ctx_;
  WorkersApiOptions options_;
  Mutex mu_;
  std::map<std::string, std::unique_ptr<Pool>> pools_ GUARDED_BY(mu_);
  std::map<std::string, SeenWorker> workers_ GUARDED_BY(mu_);
  std::map<std::string, std::string> persisted_ GUARDED_BY(mu_);  // name -> its stored record
  bool shut_down_ GUARDED_BY(mu_) = false;
};

Status LoadDeclaredActions(ApiContext& context) {
  if (context.actions == nullptr || context.resources == nullptr) return Status::Ok();
  BORA_ASSIGN_OR_RETURN(auto records, context.resources->List(workers::kExternalActionsKind));
  for (auto& [name, record] : records) {
    auto sig = workers::ExternalActionFromRecord(record);
    if (!sig.ok()) {
      BORA_LOG_WARN("ignoring the stored external action {}: {}", name, sig.status().ToString());
      continue;
    }
    if (context.bus != nullptr) {
      Status topic = context.bus->CreateTopic(
          protocol::ActionsTopic(sig->pool, context.topic_prefix), PoolPartitions(context));
      if (!topic.ok() && topic.code() != StatusCode::kAlreadyExists) return topic;
    }
    context.actions->DeclareExternal(std::move(*sig));
  }
  return Status::Ok();
}

WorkersApi::WorkersApi(ApiContext& context, WorkersApiOptions options)
    : impl_(std::make_shared<Impl>(context, options)) {
  std::weak_ptr<Impl> weak = impl_;
  context.run_external = [weak](workers::ActionRequest request, workers::LeaseQueue::Done done) {
    auto impl = weak.lock();
    if (!impl) return Unavailable("the worker API is shutting down");
    return impl->RunExternal(std::move(request), std::move(done));
  };
  context.withdraw_external = [weak](const std::string& name, const std::string& id) {
    auto impl = weak.lock();
    return impl && impl->WithdrawExternal(name, id);
  };
}
WorkersApi::~WorkersApi() { Shutdown(); }
void WorkersApi::Shutdown() { impl_->Shutdown(); }

void WorkersApi::Register(http::Router& router) {
  auto impl = impl_;
  auto reply = [](Result<HttpResponse> r) {
    return r.ok() ? std::move(r).value() : FaultFrom(r.status());
  };
  router.Add("POST", "/v2/workers/poll", [impl, reply](const HttpRequest& r, const PathParams&) {
    return reply(impl->Poll(r));
  });
  router.Add("POST", "/v2/workers/leases/{id}/heartbeat",
             [impl, reply](const HttpRequest& r, const PathParams& p) {
               return reply(impl->Heartbeat(r, p.at("id")));
             });
  router.Add("POST", "/v2/workers/leases/{id}/complete",
             [impl, reply](const HttpRequest& r, const PathParams& p) {
               return reply(impl->Complete(r, p.at("id")));
             });
  router.Add("POST", "/v2/workers/leases/{id}/release",
             [impl, reply](const HttpRequest&, const PathParams& p) {
               return reply(impl->Release(p.at("id")));
             });
  router.Add("GET", "/v2/workers",
             [impl](const HttpRequest&, const PathParams&) { return impl->ListWorkers(); });
}

}  // namespace bora::api
