"""One plugin manager per process, and the per-commune view of its hooks.

Plugins are loaded once from the ``agora`` entry-point group, then registration is frozen:
pluggy's subset views are live proxies, so a plugin registered later would silently answer
for every commune. Each commune gets a :class:`TenantHooks` view built from its allow-list,
with one typed method per hook so call sites are checked by mypy.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any, cast

import pluggy

from agora.plugins import PROJECT_NAME, hookspecs
from agora.plugins.contracts import (
    BodySpec,
    CharterTemplate,
    CommuneProfile,
    CommuneSettings,
    DecisionRule,
    DrawSource,
    InterpellationRules,
    JSONSchema,
    ProgrammeTemplate,
    QuotaCriterion,
)

#: Settings schema of a plugin that does not declare one: no settings accepted.
NO_SETTINGS: JSONSchema = {"type": "object", "additionalProperties": False}


class PluginRegistrationClosed(RuntimeError):
    """Raised when code tries to register a plugin after start-up."""


class FrozenPluginManager(pluggy.PluginManager):
    """A plugin manager that refuses registrations once :meth:`freeze` was called."""

    def __init__(self) -> None:
        super().__init__(PROJECT_NAME)
        self._frozen = False

    def freeze(self) -> None:
        self._frozen = True

    def register(self, plugin: object, name: str | None = None) -> str | None:
        if self._frozen:
            raise PluginRegistrationClosed(
                "plugins are registered at start-up only; a late plugin would answer for "
                "every commune"
            )
        return super().register(plugin, name)


class PluginRegistry:
    """The installed plugins, by name, and the hooks each implements."""

    def __init__(self, manager: FrozenPluginManager) -> None:
        self.manager = manager
        self._views: dict[tuple[str, ...], _SubsetHooks] = {}
        self._lock = threading.Lock()
        self.single_provider_hooks = tuple(
            sorted(
                name
                for name, caller in vars(manager.hook).items()
                if isinstance(caller, pluggy.HookCaller)
                and caller.spec is not None
                and caller.spec.opts.get("firstresult")
            )
        )
        self.optional_single_provider_hooks = hookspecs.OPTIONAL_SINGLE_PROVIDER

    @classmethod
    def build(
        cls, *, entry_points: bool = True, extra: Iterable[tuple[str, object]] = ()
    ) -> PluginRegistry:
        """Load the entry-point plugins (and ``extra`` ones, for tests), then freeze."""
        manager = FrozenPluginManager()
        manager.add_hookspecs(hookspecs)
        if entry_points:
            manager.load_setuptools_entrypoints(PROJECT_NAME)
        for name, plugin in extra:
            manager.register(plugin, name=name)
        manager.check_pending()
        manager.freeze()
        return cls(manager)

    def names(self) -> list[str]:
        return sorted(name for name, _ in self.manager.list_name_plugin())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.manager.has_plugin(name)

    def implemented_hooks(self, name: str) -> list[str]:
        plugin = self.manager.get_plugin(name)
        callers = self.manager.get_hookcallers(plugin) or []
        return sorted(caller.name for caller in callers)

    def call_own(self, hook: str, name: str, default: Any, **kwargs: Any) -> Any:
        """Ask plugin ``name`` alone for ``hook`` (``default`` when it does not implement it):
        hooks about a plugin's own settings and sources."""
        for impl in getattr(self.manager.hook, hook).get_hookimpls():
            if impl.plugin_name == name:
                return impl.function(**kwargs)
        return default

    def settings_schema(self, name: str) -> JSONSchema:
        """The JSON Schema of plugin ``name``'s settings (:data:`NO_SETTINGS` by default)."""
        return cast(JSONSchema, self.call_own("agora_settings_schema", name, NO_SETTINGS))

    def check_settings(self, name: str, settings: dict[str, Any]) -> list[tuple[str, str]]:
        """Plugin ``name``'s own checks of schema-valid ``settings``."""
        problems = self.call_own("agora_check_settings", name, [], settings=settings)
        return cast(list[tuple[str, str]], problems)

    def commune_profiles(self) -> dict[str, CommuneProfile]:
        """Every installed plugin's profiles for a new commune, by key, in the order the
        plugins were registered; a key offered twice is a packaging error."""
        profiles: dict[str, CommuneProfile] = {}
        for result in reversed(self.manager.hook.agora_commune_profiles()):
            for profile in result:
                if profile.key in profiles:
                    raise RuntimeError(f"two plugins offer the commune profile {profile.key!r}")
                profiles[profile.key] = profile
        return profiles

    def providers(self, hook: str, enabled: Iterable[str]) -> list[str]:
        """Which of the ``enabled`` plugins implement ``hook``."""
        wanted = set(enabled)
        caller = getattr(self.manager.hook, hook)
        return sorted(
            impl.plugin_name for impl in caller.get_hookimpls() if impl.plugin_name in wanted
        )

    def view(self, config: CommuneSettings) -> TenantHooks:
        """The hooks of the plugins ``config`` enables, bound to that configuration."""
        enabled = tuple(sorted(config.plugins))
        with self._lock:
            subset = self._views.get(enabled)
            if subset is None:
                subset = self._views[enabled] = _SubsetHooks(self.manager, frozenset(enabled))
        return TenantHooks(subset, config)


class _SubsetHooks:
    """Cached subset callers for one allow-list, shared by communes enabling the same set."""

    def __init__(self, manager: pluggy.PluginManager, enabled: frozenset[str]) -> None:
        self._manager = manager
        self._remove = {
            plugin for name, plugin in manager.list_name_plugin() if name not in enabled
        }
        self._callers: dict[str, Any] = {}

    def caller(self, hook: str) -> Any:
        caller = self._callers.get(hook)
        if caller is None:
            caller = self._manager.subset_hook_caller(hook, remove_plugins=self._remove)
            self._callers[hook] = caller
        return caller


class MissingProvider(LookupError):
    """No enabled plugin answered a one-provider hook (the configuration check prevents it)."""


class TooManyProviders(LookupError):
    """Several enabled plugins answered a hook that allows at most one."""


class TenantHooks:
    """Typed facade over the hooks of one commune's enabled plugins."""

    def __init__(self, subset: _SubsetHooks, config: CommuneSettings) -> None:
        self._subset = subset
        self.config = config

    def _one(self, hook: str, **kwargs: object) -> Any:
        result = self._subset.caller(hook)(tenant=self.config, **kwargs)
        if result is None:
            raise MissingProvider(f"{self.config.slug}: no enabled plugin answers {hook}")
        return result

    def programme_template(self) -> ProgrammeTemplate:
        return cast(ProgrammeTemplate, self._one("agora_programme_template"))

    def composition_rules(self) -> list[BodySpec]:
        return cast(list[BodySpec], self._one("agora_composition_rules"))

    def draw_sources(self) -> dict[str, DrawSource]:
        """The commune's draw sources by name, in the order the plugins were registered
        (names are unique: the configuration check refused a commune that had two alike)."""
        results = self._subset.caller("agora_draw_source")(tenant=self.config)
        return {source.name: source for result in reversed(results) for source in result}

    def draw_source(self, name: str) -> DrawSource:
        """The commune's draw source ``name``; :class:`MissingProvider` when it has none."""
        source = self.draw_sources().get(name)
        if source is None:
            raise MissingProvider(f"{self.config.slug}: no draw source named {name!r}")
        return source

    def quota_criteria(self) -> list[QuotaCriterion]:
        results = self._subset.caller("agora_quota_criteria")(tenant=self.config)
        return [criterion for result in results for criterion in result]

    def decision_rule(self, decision: str) -> DecisionRule:
        return cast(DecisionRule, self._one("agora_decision_rule", decision=decision))

    def charter_template(self) -> CharterTemplate:
        return cast(CharterTemplate, self._one("agora_charter_template"))

    def interpellation_rules(self) -> InterpellationRules | None:
        """The commune's right of interpellation, or ``None`` when it enables none."""
        results = self._subset.caller("agora_interpellation_rules")(tenant=self.config)
        if len(results) > 1:
            raise TooManyProviders(
                f"{self.config.slug}: several enabled plugins answer agora_interpellation_rules"
            )
        return cast(InterpellationRules, results[0]) if results else None


_registry: PluginRegistry | None = None
_registry_lock = threading.Lock()


def get_registry() -> PluginRegistry:
    """The process-wide registry, loaded from entry points on first use."""
    global _registry
    with _registry_lock:
        if _registry is None:
            _registry = PluginRegistry.build()
        return _registry
