"""URL rules whose builders are compiled when first used, for the tests' many applications.

Werkzeug compiles two URL builders per rule (Python source through ``ast`` and
``compile``) as each rule is added: about 0.75 s of the 0.83 s ``create_app`` takes, and the
suite builds an application per test. A test uses a handful of rules, so each builder is
compiled on its first call instead; it is the same builder, so URLs are built the same.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from werkzeug.routing import Rule


class LazyBuilderRule(Rule):
    def _compile_builder(self, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
        compiled: list[Callable[..., tuple[str, str]]] = []
        compile_now = super()._compile_builder

        # Werkzeug binds what this returns to the rule (``__get__``): a plain function, then.
        def build(rule: Rule, *args: Any, **kwargs: Any) -> tuple[str, str]:
            if not compiled:
                compiled.append(compile_now(append_unknown))
            return compiled[0](rule, *args, **kwargs)

        return build
