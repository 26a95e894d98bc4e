#pragma once
// Checks Bora's Grafana dashboards (dashboards/json/*.json): Grafana's basics (uid, title, panels
// with targets, the `datasource` template variable, no `${DS_...}` import inputs) and that every
// metric a PromQL expression names is one Bora defines (metrics::Describe()). Also turns a panel
// expression into plain PromQL (Grafana variables replaced) for evaluation against a real
// Prometheus.
//
// Plain functions over values; any thread.
#include <set>
#include <string>
#include <vector>

#include "common/json.h"
#include "common/status.h"

namespace bora::observability {

struct DashboardFile {
  std::string path;
  Json json;
};

struct PanelExpr {
  std::string dashboard;  // uid
  std::string panel;      // title
  std::string ref_id;
  std::string expr;  // as written in the dashboard
};

// Every *.json in `dir`, parsed (sorted by path). Errors name the file.
Result<std::vector<DashboardFile>> LoadDashboards(const std::string& dir);

// The metric names Bora exports, as they appear in PromQL: every family name, plus
// _bucket/_sum/_count for histograms; and Prometheus' `up`.
std::set<std::string> KnownMetricNames();

// Metric names referenced by a PromQL expression (functions, keywords, label names and values,
// durations and Grafana variables are not metric names).
std::set<std::string> MetricNamesInExpr(const std::string& expr);

// Problems of one dashboard ("" = none); `known` from KnownMetricNames().
std::vector<std::string> CheckDashboard(const Json& dashboard, const std::set<std::string>& known);

// Every target expression of every panel (including panels nested in rows).
std::vector<PanelExpr> PanelExprs(const Json& dashboard);

// Replaces Grafana's variables: $__rate_interval / $__interval / $__range (and ${...} forms) by
// `interval`, any other $var / ${var} / [[var]] by ".*" (the dashboards use variables only in =~
// matchers).
std::string ExpandVariables(const std::string& expr, const std::string& interval = "1m");

}  // namespace bora::observability
