"""The assembly's life: editions, bodies and memberships, the charter, subjects, sessions and
check-in, proposals, ballots, the action plan, the council's answer and the public follow-up."""
