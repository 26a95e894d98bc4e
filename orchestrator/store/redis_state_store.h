#pragma once
// RedisStateStore: StateStore on redis-server (hiredis). Every key of a partition carries the hash tag
// `{<prefix>p<N>}` so a partition lives on one Redis Cluster slot and one Lua script can touch all of it:
//   {..}:meta    hash    epoch, next_offset, next_seq, acked
//   {..}:states  hash    execution id -> the state's head: its JSON without the tasks, with "task_count"
//                        (a state written before states were split: the whole JSON, still read)
//   {..}:tasks:<execution id>  hash  "<task index>" -> that task execution's JSON without its actions
//                        (with "action_count"), "<task index>.<action index>" -> an action execution's JSON
//                        (a task written whole, actions inside, before actions were split: still read)
//   {..}:ids     hash    task / action execution id -> execution id (for lookups by id; written by the
//                        commit that first writes the task or action)
//   {..}:created zset    execution id scored by its creation second (the default listing order; written by
//                        the commit that first writes the execution after a claim, removed by a deletion)
// A commit writes the head of every changed state and only the tasks whose text changed since this store
// last wrote them (a digest per task, remembered from the claim of the partition on, forgotten when the
// execution finishes, is loaded again or a commit fails): a chain's step writes two tasks, not all of them.
//   {..}:outbox  hash    "first:last" -> [["topic", "key", "value"], ...]: one field per committed batch,
//                        its entries numbered first..last (meta's `acked` marks what was acknowledged)
//   {..}:timers  zset    "<execution id>\x1f<timer id>" scored by fire time (µs)
// Commit is one EVAL: it checks the epoch and deletes purged executions (head, tasks hash by UNLINK, id index
// entries), then writes states, next offset, outbox and timer changes atomically, or nothing (a stale epoch
// gets kAborted). ClaimPartition bumps the epoch in one script too.
//
// Threading: one RedisClient (a mutex-guarded connection with reconnect); every method may be called from any
// thread.
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "common/redis/redis_client.h"
#include "common/thread_annotations.h"
#include "orchestrator/store/state_store.h"

namespace bora::store {

struct RedisStoreOptions {
  std::string url;           // "redis://host:port" (or host:port)
  std::string key_prefix;    // isolates tests and clusters sharing one Redis ("" in production)
  int timeout_ms = 5000;     // connect and command timeout
  int partitions = 1;        // partitions of bora.events; others are refused
};

class RedisStateStore final : public StateStore {
 public:
  static Result<std::unique_ptr<RedisStateStore>> Connect(const RedisStoreOptions& options);
  ~RedisStateStore() override;

  Result<PartitionClaim> ClaimPartition(PartitionId partition) override;
  Result<std::shared_ptr<engine::ExecutionState>> LoadExecution(
      PartitionId partition, const ExecutionId& execution_id) override;
  Status Commit(PartitionId partition, Epoch epoch, CommitBatch* batch) override;
  // One pipelined round trip: an EVALSHA of the commit script per partition (SendCommits, awaited at once).
  std::vector<Status> CommitMany(const std::vector<PartitionCommit>& commits) override;
  // CommitMany's scripts sent without waiting for the replies (RedisClient::SendEvalMany); loads meanwhile
  // go through a second connection, so they do not wait for the commits either (the orchestrator loads only
  // executions the sent commits do not write).
  std::unique_ptr<SentCommits> SendCommits(const std::vector<PartitionCommit>& commits) override;
  bool PipelinesCommits() const override { return true; }
  // One pipelined round trip on the second connection: the load script per execution.
  std::vector<Result<std::shared_ptr<engine::ExecutionState>>> LoadExecutions(
      const std::vector<ExecutionKey>& keys) override;
  Status AckOutbox(PartitionId partition, Epoch epoch, uint64_t up_to_seq) override;
  Result<std::vector<TimerEntry>> DueTimers(PartitionId partition, TimestampUs now,
                                            size_t max) override;
  Status RemoveTimer(PartitionId partition, Epoch epoch, const TimerEntry& timer) override;
  Result<std::optional<TimestampUs>> NextTimer(PartitionId partition) override;
  Result<std::optional<engine::ExecutionState>> ReadExecution(
      PartitionId partition, const ExecutionId& execution_id) override;
  // One load script per execution, pipelined (in chunks of kReadChunk).
  std::vector<Result<std::optional<engine::ExecutionState>>> ReadExecutions(
      const std::vector<ExecutionKey>& keys) override;
  // One HGET of the head.
  Result<std::optional<engine::ExecutionState>> ReadExecutionHead(
      PartitionId partition, const ExecutionId& execution_id) override;
  // One HGET per partition's ids hash, pipelined.
  Result<std::optional<ExecutionKey>> FindExecutionOf(const std::string& id) override;
  // The partition's heads by HSCAN (kReadChunk per round trip): no task is read.
  Result<std::vector<engine::ExecutionState>> ReadExecutionHeads(PartitionId partition) override;
  Result<std::vector<ExecutionId>> ListExecutionIds(PartitionId partition) override;
  // One script per partition over the `created` index (ties within the cursor's second filtered in Redis),
  // then one pipelined HGET per head.
  Result<std::vector<engine::ExecutionState>> ReadExecutionHeadsPage(const std::optional<ListCursor>& after,
                                                                     size_t limit) override;

  // Redis commands sent so far (for benchmarks: commands per task).
  uint64_t commands_sent() const { return client_->commands_sent() + reader_->commands_sent(); }

 private:
  RedisStateStore(RedisStoreOptions options, std::unique_ptr<RedisClient> client,
                  std::unique_ptr<RedisClient> reader);
  class Sent;
  // What this store last committed of a task: a digest of its head's text and of each action
  // execution's text (those beyond are new to the id index).
  struct KnownTask {
    uint64_t head = 0;
    uint64_t revision = 0;  // TaskExecution::revision when written: unchanged means not serialised again
    std::vector<uint64_t> actions;
    std::vector<uint64_t> action_revisions;
    uint64_t items = 0;  // digest of the with-items items ("<task>.items"), 0 if none
    uint64_t items_revision = 0;
  };
  // ... and of an execution's tasks.
  struct Known {
    std::vector<KnownTask> tasks;
  };
  // What a commit writes of one task: all of it (`full`), or, when the store knew the task and the engine
  // listed its changed actions (TaskExecution::changed_actions), its head fields, its action count and the
  // actions it looked at (index, digest, revision), so a with-items task of many items costs what changed.
  struct TaskWrite {
    KnownTask task;  // actions and action_revisions only when `full`
    bool full = true;
    size_t action_count = 0;
    std::vector<std::tuple<uint32_t, uint64_t, uint64_t>> actions;
  };
  // What a commit writes for one state (remembered once it committed).
  struct WrittenTasks {
    std::string id;
    bool final = false;  // the execution finished (or was deleted): nothing is remembered
    std::vector<TaskWrite> tasks;
  };
  // Remembers what a committed `w` wrote (applying its deltas to what was known).
  static void Remember(std::unordered_map<std::string, Known>& known, WrittenTasks& w);
  static constexpr size_t kMaxRemembered = 100'000;  // per partition
  static constexpr size_t kReadChunk = 500;           // executions per round trip of a listing read

  std::string Key(PartitionId partition, std::string_view what) const;
  std::string TasksKey(PartitionId partition, const std::string& execution_id) const;
  Status CheckPartition(PartitionId partition) const;
  // The script arguments of a commit (adding what it writes to `written`) / its reply read back into `batch`
  // (outbox sequence numbers).
  // Fails (kInternal) only when verifying revisions (BORA_VERIFY_REVISIONS=1) finds a task or action whose
  // text changed while its revision did not (an engine bug: a change that skipped Runner::MutTask).
  Result<RedisClient::EvalCall> CommitCall(PartitionId partition, Epoch epoch,
                                           const CommitBatch& batch,
                                           std::vector<WrittenTasks>* written) const;
  static Status ReadCommitReply(const RedisReply& reply, CommitBatch* batch);
  RedisClient::EvalCall LoadCall(PartitionId partition, const std::string& execution_id) const;
  // The stored states (one pipelined round trip), without touching the remembered digests.
  std::vector<Result<std::shared_ptr<engine::ExecutionState>>> Read(const std::vector<ExecutionKey>& keys);
  // Drops the remembered digests of one execution (or of the whole partition when null).
  void ForgetWritten(PartitionId partition, const std::string* execution_id);

  RedisStoreOptions options_;
  // BORA_VERIFY_REVISIONS=1 (tests): what a revision says is unchanged is serialised anyway and compared.
  bool verify_revisions_ = false;
  std::unique_ptr<RedisClient> client_;  // everything but the reads of whole executions
  std::unique_ptr<RedisClient> reader_;  // Read (loads and listings): not queued behind sent commits
  mutable Mutex written_mu_;
  // Per partition: execution id -> what this store last committed of its tasks.
  std::vector<std::unordered_map<std::string, Known>> written_ GUARDED_BY(written_mu_);
};

}  // namespace bora::store
