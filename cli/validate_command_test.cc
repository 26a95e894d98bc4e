#include "cli/validate_command.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

namespace bora::cli {
namespace {

// The OpenStack action pack's committed catalog (sdk/openstack), as the .deb installs it.
const std::string kCatalog =
    std::string(BORA_SOURCE_DIR) + "/sdk/openstack/bora_openstack/actions.json";

struct Outcome {
  int code;
  std::string out;
};

Outcome Validate(const std::string& name, const std::string& yaml, ValidateArgs args) {
  const std::string file = ::testing::TempDir() + "/" + name;
  std::ofstream(file) << yaml;
  ::testing::internal::CaptureStdout();
  int code = RunValidate({file}, args);
  return {code, ::testing::internal::GetCapturedStdout()};
}

ValidateArgs WithCatalog() {
  ValidateArgs args;
  args.action_catalogs = {kCatalog};
  return args;
}

// Mistral's OpenStack actions are known with the catalog: their names, required inputs (from the
// clients' signatures) and the inputs a `**kwargs` method takes (any).
TEST(ValidateCatalogTest, KnowsTheOpenStackActionsOfTheCatalog) {
  const std::string yaml =
      "version: '2.0'\nwf:\n  tasks:\n"
      "    images:\n      action: glance.images_list\n      input:\n        limit: 5\n"
      "      on-success: servers\n"
      "    servers:\n      action: nova.servers_list detailed=false\n      on-success: image\n"
      "    image:\n      action: glance.images_update image_id=x visibility=private\n"
      "      on-success: user\n"
      "    user:\n      action: keystone.users_get user=u1\n";
  Outcome r = Validate("openstack_ok.yaml", yaml, WithCatalog());
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("openstack_ok.yaml: OK"), std::string::npos) << r.out;

  // Without the catalog (and nothing installed at kDefaultActionCatalog) they are unknown.
  if (!std::ifstream(kDefaultActionCatalog).good()) {
    Outcome without = Validate("openstack_ok.yaml", yaml, {});
    EXPECT_EQ(without.code, 2) << without.out;
    EXPECT_NE(without.out.find("unknown action 'glance.images_list'"), std::string::npos)
        << without.out;
  }
}

TEST(ValidateCatalogTest, ReportsATypoAWrongInputAndAMissingOne) {
  Outcome typo = Validate(
      "typo_os.yaml", "version: '2.0'\nwf:\n  tasks:\n    t1:\n      action: glance.images_lisst\n",
      WithCatalog());
  EXPECT_EQ(typo.code, 2) << typo.out;
  EXPECT_NE(typo.out.find("typo_os.yaml:4:5: workflow 'wf', task 't1': unknown action "
                          "'glance.images_lisst' (did you mean 'glance.images_list'?)"),
            std::string::npos)
      << typo.out;

  Outcome wrong =
      Validate("wrong_input.yaml",
               "version: '2.0'\nwf:\n  tasks:\n    t1:\n      action: glance.images_get\n"
               "      input:\n        image_id: x\n        imageid: y\n",
               WithCatalog());
  EXPECT_EQ(wrong.code, 2) << wrong.out;
  EXPECT_NE(wrong.out.find("action 'glance.images_get' has no input 'imageid'"), std::string::npos)
      << wrong.out;

  Outcome missing =
      Validate("missing_input.yaml",
               "version: '2.0'\nwf:\n  tasks:\n    t1:\n      action: glance.images_delete\n",
               WithCatalog());
  EXPECT_EQ(missing.code, 2) << missing.out;
  EXPECT_NE(missing.out.find("action 'glance.images_delete' needs the input 'image_id'"),
            std::string::npos)
      << missing.out;
}

TEST(ValidateCatalogTest, AnUnreadableCatalogIsExitThree) {
  ValidateArgs args;
  args.action_catalogs = {::testing::TempDir() + "/no_such_catalog.json"};
  Outcome r = Validate("plain.yaml",
                       "version: '2.0'\nwf:\n  tasks:\n    t1:\n      action: std.noop\n", args);
  EXPECT_EQ(r.code, 3) << r.out;
  const std::string bad = ::testing::TempDir() + "/bad_catalog.json";
  std::ofstream(bad) << "{\"actions\": {}}";
  args.action_catalogs = {bad};
  r = Validate("plain.yaml", "version: '2.0'\nwf:\n  tasks:\n    t1:\n      action: std.noop\n",
               args);
  EXPECT_EQ(r.code, 3) << r.out;
}

}  // namespace
}  // namespace bora::cli
