#!/usr/bin/env bash
# The main job until the sync daemon exists: three CITIES4CSR cities (Milano, Sofia,
# Nantes Métropole) each publish practices, exchange signed exports offline, adopt each
# other's practices, and end with equal network digests and clean audits. An
# independent verifier (Python, written from docs/PROTOCOL.md) checks the final export.
#
#   scripts/exchange-demo.sh [--keep]      (make demo builds the release binary first)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${C4CSR_BIN:-.build/release/c4csr}
[ -x "$BIN" ] || { echo "demo: $BIN not found; run 'make demo' (it builds it)" >&2; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/c4csr-demo.XXXXXX")
[ "${1:-}" = "--keep" ] || trap 'rm -rf "$WORK"' EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
c4() { local city=$1; shift; "$BIN" "$@" --data-dir "$WORK/$city"; }
practice_id() { python3 -c 'import json,sys; print(json.load(sys.stdin)["practice"])'; }

say "Three cities create their keys and peer cards (from Peers/)"
for city in milano sofia nantes; do
  "$BIN" init --data-dir "$WORK/$city" --from-card "Peers/$city.toml" >/dev/null 2>&1
  echo "  $city: $(grep '^public_key' "$WORK/$city/city.toml")"
done
for a in milano sofia nantes; do for b in milano sofia nantes; do
  [ "$a" = "$b" ] || c4 "$a" peers add "$WORK/$b/city.toml" >/dev/null
done; done

say "Each city's officer publishes practices from its local CSR challenge"
MI1=$(c4 milano add --json --language it \
  --title "Piattaforma RSE del Comune di Milano" --title-en "Milan's municipal CSR platform" \
  --summary "Una piattaforma dove le imprese propongono progetti di responsabilità sociale ai quartieri." \
  --summary-en "A platform where companies offer social-responsibility projects to neighbourhoods." \
  --challenge "Orientare la RSE delle imprese verso le periferie" --theme "csr platform" --theme "urban regeneration" \
  --sdg 11 --sdg 17 --area "Municipio 9" --start 2019-05 --company "Fondazione Cariplo" | practice_id)
echo "  milano published ${MI1:0:12}"
SO1=$(c4 sofia add --json \
  --title "Зелени училищни дворове" --title-en "Green schoolyards" \
  --summary "Фирми осиновяват училищни дворове и ги превръщат в зелени площи за квартала." \
  --summary-en "Companies adopt schoolyards and turn them into green spaces for the neighbourhood." \
  --challenge "Малко зелени площи в гъсто застроените квартали" --theme environment --theme education \
  --sdg 4 --sdg 13 --area "Лозенец" --start 2023-09 | practice_id)
echo "  sofia published ${SO1:0:12}"
NA1=$(c4 nantes add --json \
  --title "Mécénat de compétences dans les quartiers prioritaires" --title-en "Skills-based volunteering in priority districts" \
  --summary "Les entreprises mettent des salariés à disposition des associations de quartier." \
  --summary-en "Firms lend employees' skills to neighbourhood associations." \
  --challenge "Rapprocher entreprises et quartiers prioritaires" --theme inclusion --theme employment \
  --sdg 8 --sdg 10 --partner "Maison de quartier Bellevue" --status running | practice_id)
echo "  nantes published ${NA1:0:12}"

say "Offline exchange along a line: Sofia → Milano → Nantes (Nantes gets Sofia's entries relayed by Milano)"
c4 sofia export --output "$WORK/sofia.jsonl"
c4 milano import "$WORK/sofia.jsonl"
c4 milano adopt "${SO1:0:12}" --mode adapted --notes "Adattato alle scuole del Municipio 9 con le imprese locali"
c4 milano export --output "$WORK/milano.jsonl"
c4 nantes import "$WORK/milano.jsonl"
c4 nantes adopt "${MI1:0:12}" --mode adopted --notes "Plateforme reprise pour la Métropole"

say "Sofia revises its practice twice from the same version (two officers): a conflict"
c4 sofia revise "${SO1:0:12}" --base "${SO1:0:12}" --status completed --outcomes "12 дворове озеленени"
c4 sofia revise "${SO1:0:12}" --base "${SO1:0:12}" --outcomes "15 дворове, 9 фирми"
c4 sofia list --conflicts

say "Everyone exchanges everything (twice round)"
for round in 1 2; do
  for a in milano sofia nantes; do
    c4 "$a" export --output "$WORK/$a.jsonl" 2>/dev/null
    for b in milano sofia nantes; do [ "$a" = "$b" ] || c4 "$b" import "$WORK/$a.jsonl" --json >/dev/null; done
  done
done

say "Sofia's admin rotates its signing key (through the log: no card is edited)"
c4 sofia key rotate
c4 sofia peers list | sed -n '/^sofia/,+1p'

say "Sofia's admin enrols an officer, who makes her own key (the city's never leaves the c4csr user)"
KEY=$("$BIN" officer key --output "$WORK/ivanova/officer.key" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
c4 sofia officer enrol ivanova --key "$KEY"
"$BIN" serve --data-dir "$WORK/sofia" --listen 127.0.0.1:0 --interval 1h --officer-socket "$WORK/sofia-officer.sock" \
  > "$WORK/sofia-serve.log" 2>&1 &
SERVE=$!
trap 'kill "$SERVE" 2>/dev/null || true; wait "$SERVE" 2>/dev/null || true; [ "${1:-}" = "--keep" ] || rm -rf "$WORK"' EXIT
for _ in $(seq 100); do [ -S "$WORK/sofia-officer.sock" ] && break; sleep 0.1; done

say "The officer resolves the conflict as herself, through Sofia's daemon (a revision superseding both versions)"
"$BIN" revise "${SO1:0:12}" --officer ivanova --officer-key "$WORK/ivanova/officer.key" --officer-socket "$WORK/sofia-officer.sock" \
  --status completed --outcomes "15 дворове озеленени с 9 фирми"
kill "$SERVE"; wait "$SERVE" || true
c4 sofia export --output "$WORK/sofia.jsonl" 2>/dev/null
for b in milano nantes; do c4 "$b" import "$WORK/sofia.jsonl" --json >/dev/null; done

say "Personal data: contacts are sealed (the log signs a salted commitment; the text travels beside it)"
SO2=$(c4 sofia add --json \
  --title "Ментори от бизнеса" --title-en "Business mentors" \
  --summary "Служители на фирми менторстват ученици." --summary-en "Company staff mentor pupils." \
  --challenge "Ранно напускане на училище" --theme education --sdg 4 \
  --contact "Мария Петрова, +359 2 123 4567" --personal outcomes --outcomes "Водено от Мария Петрова" | practice_id)
NA2=$(c4 nantes add --json \
  --title "Parrainage d'entreprises" --title-en "Company sponsorship" \
  --summary "Des entreprises parrainent des associations." --summary-en "Companies sponsor associations." \
  --challenge "Financer la vie associative" --theme inclusion --sdg 17 --contact "Jeanne Martin, jeanne@example.fr" | practice_id)
echo "  sofia published ${SO2:0:12}, nantes ${NA2:0:12}, each with a sealed contact"
exchange_all() {
  for a in milano sofia nantes; do
    c4 "$a" export --output "$WORK/$a.jsonl" 2>/dev/null
    for b in milano sofia nantes; do [ "$a" = "$b" ] || c4 "$b" import "$WORK/$a.jsonl" --json >/dev/null; done
  done
}
exchange_all
c4 milano show "${SO2:0:12}" | grep 'Contact:'

say "On a data subject's request, Sofia erases the contact and outcomes everywhere; each city deletes and confirms"
c4 sofia erase "${SO2:0:12}" --reason "Искане DPO-2026-14"
exchange_all
exchange_all
c4 milano show "${SO2:0:12}" | grep -E 'Contact:|Outcomes:|erased'
for city in milano sofia nantes; do
  if grep -q "Петрова" "$WORK/$city"/store.sqlite* 2>/dev/null; then echo "demo: $city's store still holds the erased name" >&2; exit 1; fi
done
echo "  no byte of the erased name is left in any city's store (store.sqlite and its WAL)"
confirmed=$(c4 sofia status --json --without-daemon 2>/dev/null | python3 -c 'import json,sys; print(",".join(json.load(sys.stdin)["erasures"][0]["confirmed_by"]))' || true)
[ "$confirmed" = "milano,nantes,sofia" ] || { echo "demo: the erasure is confirmed by '$confirmed', not by the three cities" >&2; exit 1; }
echo "  the erasure is confirmed by $confirmed"

say "Nantes knows who wrote it: Sofia's officers, from the log alone"
c4 nantes officer list --city sofia
c4 nantes log | grep 'by ivanova' || { echo "demo: nantes's log does not name the officer" >&2; exit 1; }

say "The practice as Nantes sees it"
c4 nantes show "${SO1:0:12}"

say "Merged network log (identical in every city)"
c4 nantes log
for city in milano sofia; do
  cmp -s <(c4 "$city" log) <(c4 nantes log) || { echo "demo: $city's log differs from nantes's" >&2; exit 1; }
done
echo "  milano, sofia and nantes print byte-identical logs"

say "Audits and digests"
declare -A digests
for city in milano sofia nantes; do
  c4 "$city" audit --json > "$WORK/audit-$city.json" || { cat "$WORK/audit-$city.json"; echo "demo: $city's audit failed" >&2; exit 1; }
  digests[$city]=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["digest"])' "$WORK/audit-$city.json")
  printf '  %-8s audit OK, digest %s\n' "$city" "${digests[$city]:0:16}"
done
[ "${digests[milano]}" = "${digests[sofia]}" ] && [ "${digests[sofia]}" = "${digests[nantes]}" ] \
  || { echo "demo: digests differ" >&2; exit 1; }

say "Independent verification of Nantes's export (Python, from docs/PROTOCOL.md only)"
c4 nantes export --output "$WORK/network.jsonl"
python3 scripts/verify_export.py "$WORK/network.jsonl" --cards "$WORK/nantes/peers" --cards "$WORK/nantes" \
  --expect-digest "${digests[nantes]}"

say "Done: three cities, equal digests ${digests[nantes]:0:16}, clean audits"
[ "${1:-}" = "--keep" ] && echo "  (kept in $WORK)"
exit 0
