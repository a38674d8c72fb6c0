# A reference for the replay peer of BENCHMARKS.md: count events per type and sum
# training participants per unit, over the concatenated segments.
#     cat LOGDIR/events-*.jsonl | jq -n -c -f replay.jq
reduce inputs as $e ({types: {}, participants: {}};
  .types[$e.type] += 1
  | if $e.type == "training.held"
    then reduce ($e.data.participants | to_entries[]) as $p (.; .participants[$p.key] += $p.value)
    else . end)
