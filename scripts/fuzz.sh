#!/usr/bin/env bash
# Builds the libFuzzer targets of Fuzz/ (-sanitize=fuzzer,address) and runs each for
# SECONDS (default 60), starting from the committed seed corpus Fuzz/Corpus/<target>.
# New inputs go to a work corpus, never into git; a crash leaves its input in
# $WORK/crash-* and fails the run: add that input to Fuzz/Corpus/<target>/ so that
# `swift test` (FuzzCorpusTests) replays it from then on.
#
#   scripts/fuzz.sh [SECONDS] [WORK]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-60}
WORK=${2:-$(mktemp -d "${TMPDIR:-/tmp}/c4csr-fuzz.XXXXXX")}
mkdir -p "$WORK"
scripts/install-deps.sh >&2
echo "fuzz: building (first time: a few minutes)" >&2
swift build --package-path Fuzz --scratch-path .build-fuzz -c debug \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library >&2
status=0
for target in entry card sync; do
  bin=.build-fuzz/debug/Fuzz${target^}
  mkdir -p "$WORK/corpus-$target"
  cp -n Fuzz/Corpus/$target/* "$WORK/corpus-$target/" 2>/dev/null || true
  echo "fuzz: $target for $SECONDS_EACH s" >&2
  ok=true
  if ! "$bin" "$WORK/corpus-$target" -max_total_time="$SECONDS_EACH" -print_final_stats=1 -max_len=70000 \
      -artifact_prefix="$WORK/crash-$target-" > "$WORK/$target.log" 2>&1; then
    status=1
    ok=false
    echo "fuzz: $target FOUND A CRASH; input in $WORK/crash-$target-*" >&2
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$WORK/$target.log" | tail -1)
  echo "{\"target\":\"$target\",\"seconds\":$SECONDS_EACH,\"executions\":${runs:-0},\"corpus\":$(ls "$WORK/corpus-$target" | wc -l),\"ok\":$ok}"
done
exit $status
