#!/usr/bin/env bash
# Long fuzzing: every Jazzer fuzz test of the reactor (each class named *FuzzTest), FUZZ_SECONDS of
# coverage-guided mutation each after replaying its seeds (src/test/resources/<package>/<Class>Inputs/),
# one fuzz JVM at a time, then one table: executions, exec/s, coverage as libFuzzer counts it (cov =
# edges reached, ft = features: edges with hit-count buckets), the corpus size, and findings.
# The build's own fuzz execution does the work (root pom, dataplane-core/FUZZING.md); this script
# only picks the targets, sets the time, asks libFuzzer for its end-of-run line, and reads the log.
#
#   reliability/fuzz.sh                                  # 600 s per target
#   FUZZ_SECONDS=30 reliability/fuzz.sh                  # a short run
#   FUZZ_TARGETS='WireGuard|Netlink' reliability/fuzz.sh # targets whose class name matches (grep -E)
#
# Output: reliability/target/fuzz-<time>/{<module>.log,table.txt}; exit 1 when a target has a
# finding (its input is under <module>/target/jazzer/, see FUZZING.md) or did not run.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FUZZ_SECONDS=${FUZZ_SECONDS:-600}
FUZZ_TARGETS=${FUZZ_TARGETS:-.}
cd "$root"

out="$root/reliability/target/fuzz-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"

# module -> comma-separated fuzz test classes
declare -A classes=()
while IFS= read -r file; do
  module=${file%%/src/test/java/*}
  class=$(basename "$file" .java)
  grep -Eq -- "$FUZZ_TARGETS" <<<"$class" || continue
  classes[$module]+="${classes[$module]:+,}$class"
done < <(find . -path ./benchmarks -prune -o -path '*/src/test/java/*' -name '*FuzzTest.java' -print | sed 's|^\./||' | sort)
[ ${#classes[@]} -gt 0 ] || { echo "fuzz.sh: no fuzz test matches FUZZ_TARGETS=$FUZZ_TARGETS" >&2; exit 1; }

status=0
for module in $(printf '%s\n' "${!classes[@]}" | sort); do
  echo "fuzz.sh: $module: ${classes[$module]} (${FUZZ_SECONDS} s each)" >&2
  # verbosity=1: libFuzzer's "#N DONE cov: E ft: F corp: C/S" line at the end of each run.
  # fuzz.forks=1: one target at a time, so each one's output stays in one piece of the log.
  if ! ./mvnw -B -pl "$module" -am verify \
      -Dtest="${classes[$module]}" -Dsurefire.failIfNoSpecifiedTests=false -Dit.test=none -Dfailsafe.failIfNoSpecifiedTests=false \
      -Dfuzz.seconds="$FUZZ_SECONDS" -Dfuzz.forks=1 -Djazzer.internal.arg.3=-verbosity=1 \
      >"$out/${module}.log" 2>&1; then
    status=1
  fi
done

# One row per target from the logs: the lines between "Running <class>" and its "Tests run:".
{
  printf '%-44s %8s %12s %8s %7s %7s %7s %8s\n' target seconds executions exec/s cov ft corpus findings
  for log in "$out"/*.log; do
    awk -v secs="$FUZZ_SECONDS" '
      function row() {
        if (name == "") return
        f = findings + 0
        if (execs == "") { execs = "-"; rate = "-"; f = (f ? f : "did-not-run") }
        printf "%-44s %8s %12s %8s %7s %7s %7s %8s\n", name, secs, execs, rate, cov, ft, corp, f
        name = ""
      }
      /Running io\.dataplane\..*FuzzTest/ { row(); name = $NF; sub(/^io\.dataplane\./, "", name); execs = ""; rate = ""; cov = "-"; ft = "-"; corp = "-"; findings = 0; next }
      name == "" { next }
      /stat::number_of_executed_units:/ { execs = $2 }
      /stat::average_exec_per_sec:/ { rate = $2 }
      /^#[0-9]+[ \t]+DONE / {
        for (i = 1; i <= NF; i++) {
          if ($i == "cov:") cov = $(i + 1)
          if ($i == "ft:") ft = $(i + 1)
          if ($i == "corp:") { corp = $(i + 1); sub(/\/.*/, "", corp) }
        }
      }
      /== Java Exception:|ERROR: libFuzzer: (deadly signal|timeout|out-of-memory)/ { findings++ }
      /Tests run: [0-9]+, Failures: [0-9]+, Errors: [0-9]+/ && /FuzzTest/ {
        if ($0 ~ /Failures: [1-9]|Errors: [1-9]/ && findings == 0) findings = 1
        row()
      }
      END { row() }
    ' "$log"
  done
} | tee "$out/table.txt"

if grep -Eq ' (did-not-run|[1-9][0-9]*)$' "$out/table.txt"; then status=1; fi
echo "fuzz.sh: logs and table in ${out#"$root"/}" >&2
[ "$status" -eq 0 ] || echo "fuzz.sh: FAILED: a finding, a target that did not run, or a build failure (see the logs)" >&2
exit "$status"
