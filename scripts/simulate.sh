#!/usr/bin/env bash
# The long run of the convergence simulation (Tests/C4CSRSyncTests/SimulationTests.swift):
# many seeds, more cities, more steps. A failing seed is printed with the command
# that replays it.
#
#   scripts/simulate.sh [SEEDS] [NODES] [STEPS] [FIRST_SEED]     (defaults: 1000 30 400 1)
set -euo pipefail
cd "$(dirname "$0")/.."
export C4CSR_SIM_SEEDS=${1:-1000} C4CSR_SIM_NODES=${2:-30} C4CSR_SIM_STEPS=${3:-400} C4CSR_SIM_FIRST_SEED=${4:-1}
scripts/install-deps.sh >&2
echo "simulate: $C4CSR_SIM_SEEDS seeds from $C4CSR_SIM_FIRST_SEED, $C4CSR_SIM_NODES cities, $C4CSR_SIM_STEPS steps each" >&2
export C4CSR_TIME_LIMIT_MINUTES=${C4CSR_TIME_LIMIT_MINUTES:-1440}
swift test --filter SimulationTests 2>&1 | grep -E "simulation|replay|✘|✔ Test|error" 
