#!/bin/bash
cd /work/main
B=bench/results/runs/2026-12-04
set -x
for i in 1 2 3; do
  extra=""; [ $i = 1 ] && extra="--profile"
  uv run python bench/webhook_roundtrip.py --rates 100,300 --seconds 15 --cpu-count 3000 --cpu-rate 150 $extra > $B/wr$i.log 2>&1
  cp bench/results/webhook_roundtrip.json $B/wr$i.json
done
for i in 1 2 3; do
  uv run python bench/webhook_roundtrip.py --long-poll --rates 100 --seconds 5 --cpu-count 1500 > $B/lp$i.log 2>&1
  cp bench/results/webhook_roundtrip.json $B/lp$i.json
done
for i in 1 2 3; do
  uv run python bench/flow_engine.py > $B/fe$i.log 2>&1; cp bench/results/flow_engine.json $B/fe$i.json
done
uv run python bench/floor.py > $B/floor.log 2>&1; cp bench/results/floor.json $B/floor.json
for i in 1 2 3; do
  uv run python bench/concurrent_calls.py --calls 1000 --every 10 --seconds 40 > $B/cc$i.log 2>&1
  cp bench/results/concurrent_calls.json $B/cc$i.json
done
for i in 1 2 3; do
  uv run python bench/webhook_roundtrip.py --rates 450,600 --seconds 15 --cpu-count 300 > $B/sat$i.log 2>&1
  cp bench/results/webhook_roundtrip.json $B/sat$i.json
done
for i in 1 2 3; do
  uv run python bench/concurrent_calls.py --calls 2000,3000 --every 10 --seconds 40 > $B/cc3k$i.log 2>&1
  cp bench/results/concurrent_calls.json $B/cc3k$i.json
done
echo DONE > $B/DONE
