"""Draws: the random selection of residents into a body's drawn seats, done and seen in the
application (registers, method, lifecycle), with ``agora.sortition`` as its engine."""
