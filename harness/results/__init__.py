"""The results contract: what a results.json holds and the rules every reader of it shares.

One home for each rule, so compare, history and the report cannot drift apart:

- `reader`: the one reader and validator of a results file;
- `signature`: the scoring signature, a typed record that formats and parses itself;
- `metrics`: the metric registry (name, table, direction, description, where its value is read);
- `regression`: the one regression rule (tolerance, float noise, smallest reachable p-value).
"""
