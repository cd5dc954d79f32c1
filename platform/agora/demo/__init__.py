"""``flask demo load``: each demo commune's story (``story``, data in
``tenants/demo/<slug>.toml`` or the generic ``generic.toml``) told through the services
(``loader``)."""

from agora.demo.loader import init_app, load, origins

__all__ = ["init_app", "load", "origins"]
