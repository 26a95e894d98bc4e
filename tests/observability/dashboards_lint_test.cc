// Lint of dashboards/: Grafana basics and every PromQL metric name defined by Bora
// (metrics::Describe()). Also the provisioning files, and the checker itself on broken dashboards
// (so a dashboard that references an unknown metric fails this test).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "common/metrics/metrics.h"
#include "tests/observability/dashboard_check.h"

namespace bora::observability {
namespace {

const std::string kDashboards = std::string(BORA_SOURCE_DIR) + "/dashboards";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

Json ValidDashboard(const std::string& expr) {
  auto j = ParseJson(R"({"uid":"x","title":"X","templating":{"list":[
      {"name":"datasource","type":"datasource","query":"prometheus"}]},
    "panels":[{"id":1,"type":"timeseries","title":"p","gridPos":{"x":0,"y":0,"w":1,"h":1},
      "datasource":{"type":"prometheus","uid":"${datasource}"},
      "targets":[{"refId":"A","expr":"EXPR"}]}]})");
  std::string text = DumpJson(*j);
  auto at = text.find("EXPR");
  std::string escaped;
  for (char c : expr) {
    if (c == '"' || c == '\\') escaped += '\\';
    escaped += c;
  }
  text.replace(at, 4, escaped);
  return *ParseJson(text);
}

TEST(DashboardsLint, EveryDashboardPassesTheChecks) {
  auto dashboards = LoadDashboards(kDashboards + "/json");
  ASSERT_TRUE(dashboards.ok()) << dashboards.status().ToString();
  ASSERT_GE(dashboards->size(), 5u) << "overview, executions, workers, partitions, api";
  const auto known = KnownMetricNames();
  std::set<std::string> uids, titles;
  size_t exprs = 0;
  for (const auto& d : *dashboards) {
    for (const auto& p : CheckDashboard(d.json, known)) ADD_FAILURE() << d.path << ": " << p;
    EXPECT_TRUE(uids.insert(DumpJson(d.json.at("uid"))).second) << d.path << ": duplicate uid";
    EXPECT_TRUE(titles.insert(DumpJson(d.json.at("title"))).second)
        << d.path << ": duplicate title";
    exprs += PanelExprs(d.json).size();
  }
  EXPECT_GE(exprs, 30u);
}

TEST(DashboardsLint, StableUids) {
  // Links and bookmarks use these; renaming one is a breaking change.
  auto dashboards = LoadDashboards(kDashboards + "/json");
  ASSERT_TRUE(dashboards.ok());
  std::set<std::string> uids;
  for (const auto& d : *dashboards) uids.insert(std::string(d.json.at("uid").as_string()));
  for (const char* want :
       {"bora-overview", "bora-executions", "bora-workers", "bora-partitions", "bora-api"}) {
    EXPECT_TRUE(uids.contains(want)) << want;
  }
}

TEST(DashboardsLint, EveryDefinedMetricIsOnSomeDashboard) {
  auto dashboards = LoadDashboards(kDashboards + "/json");
  ASSERT_TRUE(dashboards.ok());
  std::set<std::string> used;
  for (const auto& d : *dashboards) {
    for (const auto& p : PanelExprs(d.json)) {
      for (const auto& n : MetricNamesInExpr(p.expr)) used.insert(n);
    }
  }
  for (const auto& f : metrics::Describe()) {
    bool on_dashboard = used.contains(f.name) || used.contains(f.name + "_bucket") ||
                        used.contains(f.name + "_count");
    EXPECT_TRUE(on_dashboard) << f.name << " is exported but on no dashboard";
  }
}

TEST(DashboardsLint, ReadmeDescribesEveryMetric) {
  std::string readme = ReadFile(kDashboards + "/README.md");
  ASSERT_FALSE(readme.empty());
  for (const auto& f : metrics::Describe()) {
    EXPECT_NE(readme.find("`" + f.name + "`"), std::string::npos)
        << f.name << " missing from the README table";
  }
}

TEST(DashboardsLint, ProvisioningFilesExist) {
  struct Case {
    std::string file;
    std::string must_contain;
  };
  const Case cases[] = {
      {"provisioning/datasources/bora.yml", "type: prometheus"},
      {"provisioning/dashboards/bora.yml", "type: file"},
      {"prometheus.yml", "scrape_configs:"},
  };
  for (const auto& c : cases) {
    std::string text = ReadFile(kDashboards + "/" + c.file);
    EXPECT_NE(text.find(c.must_contain), std::string::npos) << c.file;
  }
}

TEST(DashboardCheck, MetricNamesInExpr) {
  struct Case {
    std::string expr;
    std::set<std::string> want;
  };
  const Case cases[] = {
      {"sum(rate(bora_a_total[5m]))", {"bora_a_total"}},
      {R"(histogram_quantile(0.95, sum by (le, pool) (rate(bora_x_seconds_bucket{pool=~"$pool"}[$__rate_interval]))))",
       {"bora_x_seconds_bucket"}},
      {R"(sum(a{state="ERROR"}) / sum(b) > bool 0 and on(instance) c)", {"a", "b", "c"}},
      {R"(time() - bora_start{instance=~"$instance", x="y{z}"} offset 5m)", {"bora_start"}},
      {R"(sum without (instance) (m1) or vector(0) unless ignoring(job) m2)", {"m1", "m2"}},
      {"1e-9 + 2 * m3", {"m3"}},
  };
  for (const auto& c : cases) EXPECT_EQ(MetricNamesInExpr(c.expr), c.want) << c.expr;
}

TEST(DashboardCheck, FailsOnUnknownMetricAndMissingBasics) {
  const auto known = KnownMetricNames();
  EXPECT_TRUE(CheckDashboard(ValidDashboard("sum(rate(bora_executions_started_total[1m]))"), known)
                  .empty());
  auto problems = CheckDashboard(ValidDashboard("sum(rate(bora_no_such_metric_total[1m]))"), known);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("unknown metric bora_no_such_metric_total"), std::string::npos)
      << problems[0];

  struct Case {
    std::string name;
    std::string json;
    std::string want;
  };
  const Case cases[] = {
      {"no uid", R"({"title":"t","panels":[]})", "no uid"},
      {"no datasource variable", R"({"uid":"u","title":"t","panels":[]})",
       "no `datasource` template variable"},
      {"no panels", R"({"uid":"u","title":"t"})", "no panels"},
      {"import inputs", R"({"uid":"u","title":"t","x":"${DS_PROMETHEUS}"})", "import inputs"},
      {"panel without targets",
       R"({"uid":"u","title":"t","panels":[{"id":1,"title":"p","type":"stat","gridPos":{},
          "datasource":{"type":"prometheus","uid":"${datasource}"}}]})",
       "no targets"},
      {"fixed datasource",
       R"({"uid":"u","title":"t","panels":[{"id":1,"title":"p","type":"stat","gridPos":{},
          "datasource":{"type":"prometheus","uid":"abc"},"targets":[{"refId":"A","expr":"bora_build_info"}]}]})",
       "datasource is not"},
  };
  for (const auto& c : cases) {
    auto j = ParseJson(c.json);
    ASSERT_TRUE(j.ok()) << c.name;
    auto p = CheckDashboard(*j, known);
    bool found = false;
    for (const auto& s : p) found = found || s.find(c.want) != std::string::npos;
    EXPECT_TRUE(found) << c.name;
  }
}

TEST(DashboardCheck, ExpandVariables) {
  struct Case {
    std::string in, want;
  };
  const Case cases[] = {
      {"rate(x[$__rate_interval])", "rate(x[1m])"},
      {"rate(x[${__interval}])", "rate(x[1m])"},
      {R"(x{pool=~"$pool", w=~"${workflow:regex}"})", R"(x{pool=~".*", w=~".*"})"},
      {R"(x{a=~"[[instance]]"})", R"(x{a=~".*"})"},
      {"no variables", "no variables"},
  };
  for (const auto& c : cases) EXPECT_EQ(ExpandVariables(c.in), c.want) << c.in;
}

}  // namespace
}  // namespace bora::observability
