"""Notifications to a commune's participants: listed on their page, e-mailed when they have an
address; sent once their transaction commits, through the job queue.

A notification is stored as a kind and its parameters; the capability that owns the kind
registers its renderer in ``kinds``, which tells it to each reader in their language."""
