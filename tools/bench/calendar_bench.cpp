// Benchmark of the business calendar's add and between on the shipped `support` calendar, and
// the comparison of peer libraries' answers with ours (driven by tools/bench/calendar.sh).
//
//   calendar_bench CONFIG DIR run [REPS]   write DIR/add.csv, DIR/between.csv and DIR/holidays.txt
//                                          if missing (fixed seed), time REPS passes over each, print
//                                          the median rates, write DIR/ours_add.csv, DIR/ours_between.csv
//   calendar_bench CONFIG DIR compare PEER compare DIR/PEER_add.csv and DIR/PEER_between.csv (one
//                                          answer per line, for the first rows of the workload) with
//                                          ours, and print each class of difference with its reason
#include "calendar/loader.hpp"
#include "codec/json.hpp"
#include "config/toml.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace switchboard;
using std::chrono::seconds;

constexpr std::size_t workload_size = 100'000;
constexpr std::uint64_t seed = 20'260'308;

struct pair_row {
  std::int64_t first;   // start (add) or from (between), seconds since the epoch
  std::int64_t second;  // business seconds (add) or to (between)
};

std::vector<pair_row> read_pairs(const std::string& path) {
  std::ifstream in(path);
  std::vector<pair_row> rows;
  std::string line;
  while (std::getline(in, line)) {
    pair_row row{};
    if (std::sscanf(line.c_str(), "%ld,%ld", &row.first, &row.second) == 2) rows.push_back(row);
  }
  return rows;
}

// One answer per line: a number, or text (a peer's error message).
std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

std::string iso(std::int64_t t) { return model::format_instant(model::instant{seconds{t}}); }

bool file_exists(const std::string& path) { return std::ifstream(path).good(); }

// Starts are uniform over 2026 (UTC); add durations are uniform in [0, 3 business weeks];
// between ends are uniform in [from, from + 21 days].
void generate(const std::string& dir) {
  std::mt19937_64 random(seed);
  const std::int64_t year_start = 1'767'225'600;  // 2026-01-01T00:00:00Z
  std::uniform_int_distribution<std::int64_t> start(year_start, year_start + 365 * 86'400 - 1);
  std::uniform_int_distribution<std::int64_t> duration(0, 3 * 5 * 16 * 3600);
  std::uniform_int_distribution<std::int64_t> span(0, 21 * 86'400);
  std::ofstream add(dir + "/add.csv");
  std::ofstream between(dir + "/between.csv");
  for (std::size_t i = 0; i < workload_size; ++i) {
    const auto s = start(random);
    add << s << ',' << duration(random) << '\n';
    const auto a = start(random);
    between << a << ',' << a + span(random) << '\n';
  }
}

// The peers are configured by hand as Mon-Fri 02:00-18:00 America/Los_Angeles plus the holidays
// in holidays.txt: refuse to run if the shipped calendar no longer says so.
bool is_the_benchmarked_schedule(const calendar::business_calendar& support) {
  if (support.zone_name() != "America/Los_Angeles" || support.shifts().size() != 5) return false;
  for (const auto& shift : support.shifts())
    if (shift.open_day != shift.close_day || shift.open_day == std::chrono::Saturday ||
        shift.open_day == std::chrono::Sunday || shift.open_time != std::chrono::hours{2} ||
        shift.close_time != std::chrono::hours{18})
      return false;
  return true;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

int run(const calendar::business_calendar& support, const std::string& dir, int reps) {
  if (!file_exists(dir + "/add.csv") || !file_exists(dir + "/between.csv")) generate(dir);
  {
    std::ofstream holidays(dir + "/holidays.txt");
    for (const auto& day : support.holidays())
      holidays << static_cast<int>(day.year()) << '-' << (static_cast<unsigned>(day.month()) < 10 ? "0" : "")
               << static_cast<unsigned>(day.month()) << '-' << (static_cast<unsigned>(day.day()) < 10 ? "0" : "")
               << static_cast<unsigned>(day.day()) << '\n';
  }
  const auto adds = read_pairs(dir + "/add.csv");
  const auto betweens = read_pairs(dir + "/between.csv");
  std::vector<model::instant> add_starts, between_from, between_to;
  std::vector<seconds> durations;
  for (const auto& row : adds) {
    add_starts.emplace_back(seconds{row.first});
    durations.emplace_back(row.second);
  }
  for (const auto& row : betweens) {
    between_from.emplace_back(seconds{row.first});
    between_to.emplace_back(seconds{row.second});
  }

  std::vector<model::instant> deadlines(adds.size());
  std::vector<seconds> counts(betweens.size());
  std::vector<double> add_rates, between_rates;
  using clock = std::chrono::steady_clock;
  for (int rep = 0; rep < reps; ++rep) {
    auto begin = clock::now();
    for (std::size_t i = 0; i < add_starts.size(); ++i) deadlines[i] = support.add(add_starts[i], durations[i]);
    auto elapsed = std::chrono::duration<double>(clock::now() - begin).count();
    add_rates.push_back(static_cast<double>(add_starts.size()) / elapsed);

    begin = clock::now();
    for (std::size_t i = 0; i < between_from.size(); ++i) counts[i] = support.between(between_from[i], between_to[i]);
    elapsed = std::chrono::duration<double>(clock::now() - begin).count();
    between_rates.push_back(static_cast<double>(between_from.size()) / elapsed);
  }

  std::ofstream add_out(dir + "/ours_add.csv");
  for (const auto deadline : deadlines) add_out << deadline.time_since_epoch().count() << '\n';
  std::ofstream between_out(dir + "/ours_between.csv");
  for (const auto count : counts) between_out << count.count() << '\n';

  std::printf("ours add %.0f ops/s (median of %d passes over %zu pairs)\n", median(add_rates), reps, add_starts.size());
  std::printf("ours between %.0f ops/s (median of %d passes over %zu pairs)\n", median(between_rates), reps,
              between_from.size());
  return 0;
}

// Counts differences by class; prints each class with its reason and one example.
struct difference_report {
  std::map<std::string, std::size_t> counts;
  std::map<std::string, std::string> examples;
  std::size_t compared = 0;

  void add(const std::string& reason, const std::string& example) {
    if (counts[reason]++ == 0) examples[reason] = example;
  }

  void print(const std::string& peer, const std::string& operation) const {
    std::size_t total = 0;
    for (const auto& [reason, count] : counts) total += count;
    std::printf("%s %s: %zu of %zu results differ from ours\n", peer.c_str(), operation.c_str(), total, compared);
    for (const auto& [reason, count] : counts)
      std::printf("  %zu  %s\n       e.g. %s\n", count, reason.c_str(), examples.at(reason).c_str());
  }
};

bool parse_number(const std::string& text, std::int64_t& value) {
  std::istringstream in(text);
  return static_cast<bool>(in >> value) && in.eof();
}

int compare(const calendar::business_calendar& support, const std::string& dir, const std::string& peer) {
  const auto adds = read_pairs(dir + "/add.csv");
  const auto betweens = read_pairs(dir + "/between.csv");
  const auto ours_add = read_lines(dir + "/ours_add.csv");
  const auto ours_between = read_lines(dir + "/ours_between.csv");
  const auto their_add = read_lines(dir + "/" + peer + "_add.csv");
  const auto their_between = read_lines(dir + "/" + peer + "_between.csv");

  difference_report add_report;
  for (std::size_t i = 0; i < their_add.size() && i < adds.size(); ++i) {
    ++add_report.compared;
    const std::int64_t ours = std::stoll(ours_add[i]);
    std::int64_t theirs = 0;
    const auto example = "start " + iso(adds[i].first) + " + " + std::to_string(adds[i].second) + " s: ours " +
                         iso(ours) + ", theirs " + their_add[i];
    if (!parse_number(their_add[i], theirs)) {
      add_report.add("error thrown by the peer: " + their_add[i], example);
      continue;
    }
    if (theirs == ours) continue;
    const model::instant deadline{seconds{ours}};
    if (theirs == -1)
      add_report.add("gave up (-1): add_seconds searches at most 30 calendar days", example);
    else if (adds[i].second > 0 && !support.is_open(deadline) &&
             theirs == support.next_open(deadline).time_since_epoch().count())
      add_report.add("endpoint convention: a deadline on a closing instant is reported as the next opening",
                     example);
    else
      add_report.add("UNEXPLAINED", example);
  }

  difference_report between_report;
  for (std::size_t i = 0; i < their_between.size() && i < betweens.size(); ++i) {
    ++between_report.compared;
    const std::int64_t ours = std::stoll(ours_between[i]);
    std::int64_t theirs = 0;
    const auto example = "between " + iso(betweens[i].first) + " and " + iso(betweens[i].second) + ": ours " +
                         std::to_string(ours) + ", theirs " + their_between[i];
    if (!parse_number(their_between[i], theirs)) {
      between_report.add("error thrown by the peer: " + their_between[i], example);
      continue;
    }
    if (theirs == ours) continue;
    const model::instant to{seconds{betweens[i].second}};
    if (theirs == ours + 1 && support.is_open(to))
      between_report.add("+1 s: counts both endpoints (closed interval) and the end instant is a business second",
                         example);
    else if (theirs < 0)
      between_report.add("negative result (workingDiff)", example);
    else
      between_report.add("UNEXPLAINED", example);
  }

  add_report.print(peer, "add");
  between_report.print(peer, "between");
  return add_report.counts.count("UNEXPLAINED") + between_report.counts.count("UNEXPLAINED") == 0 ? 0 : 3;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::cerr << "usage: calendar_bench CONFIG DIR run [REPS] | calendar_bench CONFIG DIR compare PEER\n";
    return 2;
  }
  const std::string config_path = argv[1];
  const std::string dir = argv[2];
  const std::string mode = argv[3];
  try {
    const auto root = config::parse_file(config_path);
    const auto* calendars = root["calendars"].as_table();
    if (calendars == nullptr) throw config::error({config_path, 0, 0}, "no [calendars] table");
    const auto loaded = calendar::load_calendars(*calendars, config_path);
    const auto found = loaded.find(std::string_view("support"));
    if (found == loaded.end()) throw config::error({config_path, 0, 0}, "no calendar named support");
    if (!is_the_benchmarked_schedule(found->second)) {
      std::cerr << "calendar_bench: support is no longer Mon-Fri 02:00-18:00 America/Los_Angeles; update the peers\n";
      return 2;
    }
    if (mode == "run") return run(found->second, dir, argc > 4 ? std::stoi(argv[4]) : 11);
    if (mode == "compare" && argc > 4) return compare(found->second, dir, argv[4]);
  } catch (const std::exception& e) {
    std::cerr << "calendar_bench: " << e.what() << '\n';
    return 1;
  }
  std::cerr << "calendar_bench: unknown mode " << mode << '\n';
  return 2;
}
