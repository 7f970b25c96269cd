"""Pure scoring functions: per-document counts only; aggregation lives in harness.aggregate."""
