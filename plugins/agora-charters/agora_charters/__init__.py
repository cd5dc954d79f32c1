"""Templates of the règlement intérieur.

Clauses are Jinja texts. The core renders them with the commune's configuration:
``assembly`` (name, subjects_per_year, working_days), ``commune``, ``bodies``
(:class:`~agora.plugins.contracts.BodySpec` list) and ``rules`` (decision kind →
:class:`~agora.plugins.contracts.DecisionRule`), so the charter cannot disagree with the
rules the software applies.
"""
