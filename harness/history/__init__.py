"""Release history: every scored run kept in a local SQLite database, so a metric can be followed across releases.

`storage` owns the database (schema, migrations, recording, importing, deleting runs); `queries` reads it
back (trends, run lists, a baseline to compare against) and formats the trend tables. The names below are
the package's public interface.
"""

from harness.history.queries import (
    DEFAULT_METRIC, REPORT_TREND_RUNS, Baseline, Point, Series, baseline_for, find_baseline, format_history, history,
    list_runs, report_trend, series_json, trend, without_points,
)
from harness.history.storage import (
    DEFAULT_DB, SCHEMA_VERSION, SYSTEM_LEVEL, Imported, RunInfo, check_database_path, connect, content_sha256,
    delete_runs, flatten, import_results, record_run, run_info, store,
)

__all__ = [
    "DEFAULT_DB", "DEFAULT_METRIC", "REPORT_TREND_RUNS", "SCHEMA_VERSION", "SYSTEM_LEVEL", "Baseline", "Imported",
    "Point", "RunInfo", "Series", "baseline_for", "check_database_path", "connect", "content_sha256", "delete_runs",
    "find_baseline", "flatten", "format_history", "history", "import_results", "list_runs",
    "record_run", "report_trend", "run_info", "series_json", "store", "trend", "without_points",
]
