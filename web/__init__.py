"""kakari web: the review screen for clerks and the savings dashboard for managers."""
