"""``flask demo load``: each demo commune's story (``story``, data in
``tenants/demo/<slug>.toml`` or the generic ``generic.toml``) told through the services
(``loader``)."""

from agora.demo.loader import _origins, init_app, load

__all__ = ["_origins", "init_app", "load"]
