"""Live intake and schedules: the folder watcher and the cron scheduler."""
