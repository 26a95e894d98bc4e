// cron_next: reads "<pattern>\t<after µs>" lines on stdin and prints, per line, the next match
// ("YYYY-MM-DD HH:MM:SS"), NEVER (no match within 400 years) or ERR (invalid pattern). Used by
// croniter_diff.py to compare CronPattern with Python's croniter; not part of the product.
#include <iostream>
#include <string>

#include "common/clock.h"
#include "orchestrator/triggers/cron.h"

int main() {
  std::string line;
  while (std::getline(std::cin, line)) {
    size_t tab = line.find('\t');
    if (tab == std::string::npos) {
      std::cout << "ERR\n";
      continue;
    }
    bora::TimestampUs after = 0;
    try {
      after = std::stoll(line.substr(tab + 1));
    } catch (...) {
      std::cout << "ERR\n";
      continue;
    }
    auto pattern = bora::triggers::CronPattern::Parse(line.substr(0, tab));
    if (!pattern.ok()) {
      std::cout << "ERR\n";
      continue;
    }
    auto next = pattern->Next(after);
    std::cout << (next.ok() ? bora::FormatMistralTime(*next) : std::string("NEVER")) << "\n";
  }
  return 0;
}
