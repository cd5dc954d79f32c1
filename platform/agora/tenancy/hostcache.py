"""A short-lived, per-process cache of which commune a host name serves, and of what every
page of that commune reads: its configuration in force and whether it has an edition; and
the versions of its configuration that its editions keep (read on every ballot's page).

Every request on a commune's host starts by resolving it; without the cache that is a
transaction of its own (begin, select, bind, rollback) even for a page that reads nothing
else. Cached communes are detached copies merged into the request's session without a
query (``merge(load=False)``, SQLAlchemy's pattern for cached objects).

A write to a commune or to its configurations in this process empties every cache at once;
other processes see it within ``AGORA_TENANT_CACHE_SECONDS`` (suspending a commune, new rules
or rules taking effect with the revised charter take that long to bite), except in a public
page drawn to be kept, which reads them afresh (``context.read_tenant_afresh``). Columns
that must be exact are re-read where they matter: the audit chain locks and refreshes the
commune's head before extending it. Only "has an edition" is kept, never "has none": an
edition is never deleted, so the first one shows at once.
"""

from __future__ import annotations

import math
import threading
import time
import weakref
from typing import Any, TypeVar

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, make_transient_to_detached

from agora.tenancy.config import TenantConfig
from agora.tenancy.models import Tenant, TenantConfigVersion, TenantDomain

_caches: weakref.WeakSet[HostCache] = weakref.WeakSet()
#: Communes whose rules (in force, and kept by editions) a process keeps at once.
MAX_CONFIGS = 500
#: Hosts, and communes known to have an edition, a process keeps at once.
MAX_HOSTS = 2000
Key = TypeVar("Key")
Value = TypeVar("Value")


class HostCache:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._entries: dict[str, tuple[float, Tenant]] = {}
        #: (commune, its newest version) → the configuration in force, parsed
        self._configs: dict[tuple[int, int | None], tuple[float, TenantConfig]] = {}
        self._with_edition: dict[int, tuple[float, bool]] = {}
        #: (commune, version) → that version, parsed: versions never change, so no expiry
        self._versions: dict[tuple[int, int], tuple[float, TenantConfig]] = {}
        self._lock = threading.Lock()
        _caches.add(self)

    @staticmethod
    def _fresh(store: dict[Key, tuple[float, Value]], key: Key) -> Value | None:
        entry = store.get(key)
        return entry[1] if entry is not None and entry[0] >= time.monotonic() else None

    def _keep(
        self,
        store: dict[Key, tuple[float, Value]],
        key: Key,
        value: Value,
        limit: int,
        lifetime: float | None = None,
    ) -> None:
        if self.seconds <= 0:
            return
        now = time.monotonic()
        with self._lock:
            if len(store) >= limit:
                # A process may serve thousands of communes: every store is bounded, its
                # expired entries going first, then the oldest kept (a commune's parsed rules
                # weigh tens of kilobytes; hosts and flags, little, but one per commune).
                for old in [k for k, (until, _v) in store.items() if until < now]:
                    del store[old]
                while len(store) >= limit:
                    del store[next(iter(store))]
            store[key] = (now + (self.seconds if lifetime is None else lifetime), value)

    def get(self, host: str) -> Tenant | None:
        """A detached copy of the commune cached for ``host``: ``session.merge(copy, load=False)``
        attaches it to a session without a query."""
        return self._fresh(self._entries, host)

    def put(self, host: str, tenant: Tenant) -> None:
        if self.seconds <= 0:
            return
        columns = inspect(Tenant).column_attrs
        copy = Tenant(**{attr.key: getattr(tenant, attr.key) for attr in columns})
        make_transient_to_detached(copy)
        self._keep(self._entries, host, copy, MAX_HOSTS)

    def config(self, tenant_id: int, newest: int | None) -> TenantConfig | None:
        """The configuration in force in the commune whose newest version is ``newest``."""
        return self._fresh(self._configs, (tenant_id, newest))

    def put_config(self, tenant_id: int, newest: int | None, config: TenantConfig) -> None:
        self._keep(self._configs, (tenant_id, newest), config, MAX_CONFIGS)

    def version(self, tenant_id: int, version: int) -> TenantConfig | None:
        """The commune's configuration ``version`` (an edition's rules), parsed before."""
        return self._fresh(self._versions, (tenant_id, version))

    def put_version(self, tenant_id: int, version: int, config: TenantConfig) -> None:
        self._keep(self._versions, (tenant_id, version), config, MAX_CONFIGS, math.inf)

    def has_edition(self, tenant_id: int) -> bool:
        """Whether the commune was seen with an edition lately (``False``: ask the database)."""
        return self._fresh(self._with_edition, tenant_id) is not None

    def put_edition(self, tenant_id: int) -> None:
        self._keep(self._with_edition, tenant_id, True, MAX_HOSTS)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._configs.clear()
            self._with_edition.clear()
            self._versions.clear()


@event.listens_for(Session, "after_flush")
def _forget_changed_communes(session: Session, _context: Any) -> None:
    changed = (*session.new, *session.dirty, *session.deleted)
    if any(isinstance(row, (Tenant, TenantDomain, TenantConfigVersion)) for row in changed):
        for cache in list(_caches):
            cache.clear()
