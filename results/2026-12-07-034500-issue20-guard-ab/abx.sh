#!/bin/bash
# Interleaved old/new `lab run --benchtime 100000x` per combination; alternating which side goes first.
out=/tmp/gc/abx; mkdir -p $out; : > $out/runs.jsonl
for rep in $(seq 1 10); do
  for b in create-goroutines-single goroutines-alive-10k goroutines-alive-100k goroutines-alive; do
    for p in 1 2; do
      for s in 2011 2013 2014; do
        if [ $((rep % 2)) = 1 ]; then sides="old new"; else sides="new old"; fi
        for side in $sides; do
          j=$(/tmp/gc/lab-$side run --sched $s --bench $b --procs $p --benchtime 100000x --format json | python3 -c "import json,sys; r=json.load(sys.stdin); print(json.dumps({'ns':r['ns_per_op'],'n':r['iterations'],'stacks':r['counters'].get('stacks_mapped')}))")
          echo "{\"side\":\"$side\",\"rep\":$rep,\"bench\":\"$b\",\"procs\":$p,\"sched\":\"$s\",\"r\":$j}" >> $out/runs.jsonl
        done
      done
    done
  done
done
