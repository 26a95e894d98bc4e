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
  runtime::ExecutionClient& client() override { return rt_->client(); }
  Status Settle(const std::string&) override { return rt_->RunUntilIdle(); }

 private:
  std::unique_ptr<runtime::EmbeddedRuntime> rt_;
};
}  // namespace

std::unique_ptr<Driver> MakeEmbeddedDriver() { return std::make_unique<EmbeddedDriver>(); }

}  // namespace bora::conformance
