"""KPIs: time-log queries, measured baselines, targets, and the report in every format."""
