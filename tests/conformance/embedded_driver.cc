#include "orchestrator/runtime/embedded_runtime.h"
#include "tests/conformance/driver.h"

namespace bora::conformance {

namespace {
class EmbeddedDriver final : public Driver {
 public:
  EmbeddedDriver() {
    runtime::EmbeddedOptions options;
    options.deterministic = true;
    rt_ = std::make_unique<runtime::EmbeddedRuntime>(options);
  }
  Status Load(const std::string& yaml, const std::string& file_name) override {
    return rt_->LoadYaml(yaml, file_name);
  }
  Result<std::string> Start(const runtime::StartRequest& request) override {
    BORA_ASSIGN_OR_RETURN(ExecutionId id, rt_->client().Start(request));
    return std::move(id).value();
  }
  Result<std::optional<engine::ExecutionState>> Get(const std::string& id) override {
    return rt_->client().Get(ExecutionId(id));
  }
  Status Resume(const std::string& id) override { return rt_->client().Resume(ExecutionId(id)); }
  Status SkipTask(const std::string& id, const std::string& task_id) override {
    return rt_->client().SkipTask(ExecutionId(id), TaskExecutionId(task_id));
  }
  Status Settle(const std::string&) override { return rt_->RunUntilIdle(); }

 private:
  std::unique_ptr<runtime::EmbeddedRuntime> rt_;
};
}  // namespace

std::unique_ptr<Driver> MakeEmbeddedDriver() { return std::make_unique<EmbeddedDriver>(); }

}  // namespace bora::conformance
