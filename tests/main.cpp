// The one doctest main for every unit and integration test.
//
// It keeps a ledger so that a case that never runs cannot pass unnoticed: CTest runs each case
// through a `--test-case=NAME` filter, and a filter that matches nothing makes doctest run zero
// cases and exit 0, which CTest reports as "Passed" (a `;` in a name once hid 19 cases that way).
// - A run whose filters select no case fails.
// - With SWITCHBOARD_TEST_LEDGER=DIR, every case started is appended to DIR/<pid>.txt as
//   "suite\tname"; `--sb-list-cases` prints every registered case in the same form.
//   tools/check-test-ledger compares the two after CTest, so `.ci/run` fails when a case exists
//   that did not run.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>

namespace {

unsigned cases_started = 0;

std::string ledger_line(const doctest::TestCaseData& data) {
  return std::string(data.m_test_suite) + "\t" + data.m_name;
}

class ledger_listener : public doctest::IReporter {
 public:
  explicit ledger_listener(const doctest::ContextOptions&) {
    if (const char* dir = std::getenv("SWITCHBOARD_TEST_LEDGER"); dir != nullptr && *dir != '\0')
      out_.open(std::string(dir) + "/" + std::to_string(::getpid()) + ".txt", std::ios::app);
  }

  void test_case_start(const doctest::TestCaseData& data) override {
    ++cases_started;
    if (out_.is_open()) out_ << ledger_line(data) << '\n' << std::flush;
  }

  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats&) override {}
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_end(const doctest::CurrentTestCaseStats&) override {}
  void test_case_exception(const doctest::TestCaseException&) override {}
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}

 private:
  std::ofstream out_;
};

REGISTER_LISTENER("switchboard_ledger", 1, ledger_listener);

bool has_filter(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    for (std::string_view option : {"--test-case=", "-tc=", "--test-suite=", "-ts=", "--source-file=", "-sf="})
      if (arg.starts_with(option)) return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--sb-list-cases") {
      for (const auto& test : doctest::detail::getRegisteredTests()) std::cout << ledger_line(test) << '\n';
      return 0;
    }
  }
  doctest::Context context(argc, argv);
  const int result = context.run();
  if (context.shouldExit()) return result;
  if (result == 0 && cases_started == 0 && has_filter(argc, argv)) {
    std::cerr << "switchboard_tests: the filters selected no test case (a CTest entry that runs nothing fails)\n";
    return 1;
  }
  return result;
}
