"""The shared layer: what several capabilities use, below all of them.

- :mod:`agora.shared.people`: a participant's record in a commune (:class:`Person`) and
  finding or creating it for an account;
- :mod:`agora.shared.mail`: outgoing mail (SMTP, or files in ``instance/outbox``);
- :mod:`agora.shared.forms`: reading typed values from a posted form, with French messages;
- :mod:`agora.shared.labels`: the user-facing, translated names of the domain's codes.

Capabilities (identity, programme, assembly, petitions, notifications, onboarding…) import
this package and never one another's views; the shared layer imports only the kernel
(tenancy, audit, jobs, plugins) and the foundation below it (see ``tests/architecture``).
"""
