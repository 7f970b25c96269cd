"""Human-readable output: terminal/Markdown/CSV tables, the HTML report and plots."""
