"""How many equally likely panels a lottery is rounded to (see ``lottery``); standard library
only, so that the command line can state it without loading NumPy.

A person's probability under a lottery of M panels is a multiple of 1/M, so no M is exact; the
largest change rounding makes shrinks about as 1/M. ``AUTO`` takes the first M of ``SIZES``
whose largest change is at most ``TOLERANCE``: one thousandth in absolute terms, 0.1 percentage
point, below the precision a published probability is read at ("7.4 %"), and about half the
change at M = 1000 on pools of a few hundred (0.0017 on the Sortition Foundation's fixture).
Larger M cost only a longer record (M panels of k ids) and a longer ``verify``: ``AUTO`` does not
go beyond ``MAX_SEATS`` ids in all (about 20 MB of record), and then says the tolerance is not met.
"""

from __future__ import annotations

AUTO = 0  # a lottery size meaning: the first of SIZES within TOLERANCE
SIZES = (1000, 2000, 5000, 10000, 20000)
TOLERANCE = 0.001
MAX_SEATS = 2_000_000  # M * k at most, for AUTO sizes beyond the first
