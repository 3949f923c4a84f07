"""Reading model answers, below both the rewards and the metrics (it imports neither).

- `variants`: the scoring variants (reference, robust, vlmevalkit), described once, and the
  one check a variant from outside passes;
- `plus`: ReasonMap-Plus answers, the released extraction and a lenient one;
- `vlmevalkit`: ReasonMap-Plus answers as VLMEvalKit's scorer reads them (evaluation only);
- `route`: route answers as the RewardMap reward reads them, released and repaired;
- `route_eval`: route answers as the ReasonMap evaluation reads them, released and repaired;
- `text`: what they share: a memoised `clean`, and the answer after thinking.

Every reader runs in time linear in the answer's length, and none logs, prints or reads files.
"""
