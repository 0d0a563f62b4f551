"""What people read: the run report, plot, predictions table, failure card, fleet summary."""
