"""Notifications to a commune's participants: listed on their page, e-mailed when they have an
address; sent once their transaction commits, through the job queue."""
