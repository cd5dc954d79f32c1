"""The demonstration's draws: each demo commune's story may tell the draw that filled its
edition's body (``[draw]`` in ``tenants/demo/<slug>.toml``), lived through the application's
own services from the generated register to the seated members, so that the draw's staff
pages, public method and public record show a complete draw.

Registers come from ``agora.demo.registers``. The public randomness is a seed sealed by the
witnesses, or a genuine drand beacon recorded in ``agora/draws/data`` (the demonstration runs
without network); its commitment still names the round before the round is read.
"""

from __future__ import annotations

import hashlib
import random
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from flask import current_app

from agora.assembly.models import Body, Edition
from agora.db import DbSession
from agora.demo import registers
from agora.demo.story import DrawPool, DrawStory
from agora.draws import (
    beacons,
    columns,
    feasibility,
    nested,
    responses,
    selection,
    services,
    stage1,
    visits,
)
from agora.draws.models import Draw, InvitationStatus, PickRole, RegisterStatus
from agora.identity.models import Role
from agora.identity.services import actor, get_or_create_account, grant_role
from agora.plugins.contracts import QuotaCriterion
from agora.plugins.manager import TenantHooks
from agora.tenancy.models import Tenant

ACTOR = "demo"


def _shares(criteria: list[QuotaCriterion], feature: str) -> tuple[list[str], list[float]]:
    for criterion in criteria:
        if criterion.feature == feature:
            return [v.value for v in criterion.values], [
                v.reference_share for v in criterion.values
            ]
    raise LookupError(f"the commune has no quota criterion {feature!r} for the draw's strata")


def _register(
    pool: DrawPool,
    folder: Path,
    tenant: Tenant,
    criteria: list[QuotaCriterion],
    strata: str,
    today: date,
) -> Path:
    """The pool's register, generated (the same file on every machine)."""
    values, weights = _shares(criteria, strata)
    path = folder / f"{tenant.slug}-{pool.source}.csv"
    postcode = "86000" if tenant.insee_code.startswith("86") else tenant.insee_code[:2] + "000"
    generate: dict[str, Callable[[], Path]] = {
        "address_file": lambda: registers.address_file(
            path, pool.rows, insee_code=tenant.insee_code, commune=tenant.name,
            postcode=postcode, strata=values, weights=weights,
        ),
        "electoral_roll": lambda: registers.electoral_roll(
            path, pool.rows, postcode=postcode, strata=values, weights=weights, today=today
        ),
        "volunteers": lambda: registers.volunteers(
            path, pool.rows, strata=values, weights=weights,
            age_bands=_shares(criteria, "age_band")[0],
        ),
        "youth_census": lambda: registers.youth_census(
            path, pool.rows, postcode=postcode, strata=values, weights=weights, today=today
        ),
    }  # fmt: skip
    return generate[pool.register]()


def _design(
    session: DbSession,
    tenant: Tenant,
    hooks: TenantHooks,
    body: Body,
    story: DrawStory,
    settings: Mapping[str, Any],
    *,
    title: str,
    plan: list[services.SubDrawPlan],
    recent_editions: int = 0,
) -> Draw:
    """The story's draw designed as the method form would: its witnesses, the commune's
    minimum age."""
    return services.design_draw(
        session,
        tenant,
        hooks,
        actor=ACTOR,
        body=body,
        title=title,
        plan=plan,
        witnesses=story.witnesses,
        minimum_age=int(settings.get("minimum_age", 0)),
        recent_editions=recent_editions,
    )


def load_draw(
    session: DbSession,
    tenant: Tenant,
    hooks: TenantHooks,
    edition: Edition,
    body: Body,
    story: DrawStory,
    today: date,
    settings: Mapping[str, Any],
    *,
    seat: bool = True,
) -> Draw:
    """The story's draw for ``body``, from its design to the members seated (or, without
    ``seat``, to its closed pool with the quotas it cannot meet relaxed). ``settings``: the
    commune's ``[draws]`` configuration."""
    criteria = hooks.quota_criteria()
    draw = _design(
        session,
        tenant,
        hooks,
        body,
        story,
        settings,
        title=story.title.format(year=edition.year),
        plan=[services.SubDrawPlan(pool.source, pool.seats) for pool in story.pools],
        recent_editions=int(settings.get("exclude_members_of_last_editions", 0)),
    )
    folder = Path(current_app.config["AGORA_UPLOAD_DIR"])
    by_source = {part.source: part for part in services.sub_draws(session, draw)}
    with tempfile.TemporaryDirectory() as scratch:
        for pool in story.pools:
            path = _register(pool, Path(scratch), tenant, criteria, story.strata, today)
            with path.open("rb") as stream:
                register = services.receive_register(
                    session, tenant, draw, by_source[pool.source], actor=ACTOR, stream=stream,
                    filename=path.name, folder=folder, max_bytes=1 << 30,
                )  # fmt: skip
            upload = Path(services.upload_path(folder, tenant, register.id))
            if columns.mapped_source(hooks, register) is not None:
                # As on the mapping screen: the columns the commune's settings propose.
                columns.await_mapping(session, tenant, hooks, register, upload)
                names = columns.headers(hooks, register, upload)
                proposal = columns.proposed(hooks, register, names)
                columns.choose_columns(
                    session, tenant, hooks, register, upload, actor=ACTOR, columns=proposal
                )
            services.import_register(session, tenant, hooks, register, upload)
            if register.status != RegisterStatus.IMPORTED:
                raise RuntimeError(f"the demonstration's register did not import: {register.error}")
    services.publish_method(session, tenant, draw, actor=ACTOR)
    with _recorded_beacons():
        _stage1(session, tenant, hooks, draw, story)
        _answers(session, tenant, hooks, draw, story)
        _relax(session, tenant, hooks, draw, story)
        if seat:
            _stage2(session, tenant, hooks, draw, story)
    return draw


def load_nested_draw(
    session: DbSession,
    tenant: Tenant,
    hooks: TenantHooks,
    parent: Body,
    body: Body,
    story: DrawStory,
    settings: Mapping[str, Any],
    title: str,
) -> Draw:
    """``body``'s drawn seats drawn among the members ``parent``'s draw seated who volunteer
    (``story.nested_volunteers`` of them), lived up to its seating."""
    seats = services.drawn_seats(hooks, body) or 0
    name = nested.source_name(parent)
    draw = _design(
        session, tenant, hooks, body, story, settings, title=title,
        plan=[services.SubDrawPlan(name, seats)],
    )  # fmt: skip
    source = services.draw_sources(session, hooks, draw)[name]
    assert isinstance(source, nested.MembersSource)
    members = nested.drawn_members(session, source)
    pick = random.Random(f"{tenant.slug}-nested")  # noqa: S311 (the same demonstration everywhere)
    volunteers = pick.sample(
        [m.id for m, _r in members], min(story.nested_volunteers, len(members))
    )
    [part] = services.sub_draws(session, draw)
    services.register_members(
        session, tenant, hooks, draw, part, volunteers=volunteers,
        folder=current_app.config["AGORA_UPLOAD_DIR"], actor=ACTOR,
    )  # fmt: skip
    services.publish_method(session, tenant, draw, actor=ACTOR)
    seed = f"{story.seed or tenant.slug}-{body.key}"
    stage1.commit(
        session, tenant, hooks, draw, actor=ACTOR, invitations=0, stratified=False,
        seed_sha256=hashlib.sha256(seed.encode()).hexdigest(),
    )  # fmt: skip
    stage1.run(session, tenant, draw, actor=ACTOR, seed=seed)
    stage1.reveal(session, tenant, draw, actor=ACTOR)
    responses.send_invitations(session, tenant, draw, actor=ACTOR)  # the volunteers join
    responses.collect(session, tenant, draw, actor=ACTOR)
    responses.close_pool(session, tenant, draw, actor=ACTOR)
    with _recorded_beacons():
        _relax(session, tenant, hooks, draw, story)
        _stage2(session, tenant, hooks, draw, replace(story, reserve=5))
    return draw


@contextmanager
def _recorded_beacons() -> Iterator[None]:
    """The demonstration runs without network: its draws read genuine recorded beacons
    (unless the configuration names a relay or a file)."""
    config = current_app.config
    configured = config.get("AGORA_DRAND_BEACONS")
    config["AGORA_DRAND_BEACONS"] = configured or str(beacons.RECORDED)
    try:
        yield
    finally:
        config["AGORA_DRAND_BEACONS"] = configured


def _stage1(
    session: DbSession, tenant: Tenant, hooks: TenantHooks, draw: Draw, story: DrawStory
) -> None:
    seed = story.seed
    stage1.commit(
        session,
        tenant,
        hooks,
        draw,
        actor=ACTOR,
        invitations=story.invitations,
        stratified=True,
        seed_sha256=hashlib.sha256(seed.encode()).hexdigest() if seed else None,
    )
    stage1.run(session, tenant, draw, actor=ACTOR, seed=seed)
    stage1.reveal(session, tenant, draw, actor=ACTOR)


def _profile(
    pick: random.Random, criteria: list[QuotaCriterion], scarce: tuple[str, str] | None
) -> dict[str, str]:
    """A profile drawn from the census shares, ``scarce`` four times rarer."""
    profile = {}
    for criterion in criteria:
        weights = [
            v.reference_share / (4 if scarce == (criterion.feature, v.value) else 1)
            for v in criterion.values
        ]
        profile[criterion.feature] = pick.choices(
            [v.value for v in criterion.values], weights=weights
        )[0]
    return profile


def _rounds(session: DbSession, tenant: Tenant, hooks: TenantHooks, draw: Draw) -> str:
    """Where invitations go door to door: an elected member and an agent visit them, one
    round per stratum; the pair's name in the audit log."""
    invited = stage1.invitations_of(session, draw)
    strata = sorted({i.stratum for i in invited if i.channel == "door_to_door"})
    if not strata:
        return ACTOR
    domain = f"{tenant.slug}.example"
    elected = get_or_create_account(session, f"elu.quartiers@{domain}", "Élu·e des quartiers")
    agent = get_or_create_account(session, f"agent.quartiers@{domain}", "Agent·e de quartier")
    grant_role(session, tenant, elected, Role.ELECTED, ACTOR)
    grant_role(session, tenant, agent, Role.AGENT, ACTOR)
    names = services.stratum_names(hooks.quota_criteria())
    for stratum in strata:
        visits.create_round(
            session, tenant, draw, name=services.stratum_label(names, stratum), day=None,
            account_ids=[elected.id, agent.id], strata=[stratum], actor=ACTOR,
        )  # fmt: skip
    return actor(elected)


def _answers(
    session: DbSession, tenant: Tenant, hooks: TenantHooks, draw: Draw, story: DrawStory
) -> None:
    """The invitations go out; about ``answer_rate`` of the households answer yes (by the
    visit at the door, online or on paper), the others are not reached or refuse."""
    pick = random.Random(f"{tenant.slug}-draw")  # noqa: S311 (the same demonstration everywhere)
    scarce = tuple(story.scarce.split("=", 1)) if story.scarce else None
    pair = _rounds(session, tenant, hooks, draw)
    responses.send_invitations(session, tenant, draw, actor=ACTOR)
    parts = {part.id: part for part in services.sub_draws(session, draw)}
    for invitation in stage1.invitations_of(session, draw):
        door = invitation.channel == "door_to_door"
        visitor = pair if door else ACTOR
        if pick.random() >= story.answer_rate:
            outcome = InvitationStatus.REFUSED if door and pick.random() < 0.4 else None
            outcome = outcome or (InvitationStatus.NOT_REACHED if door else None)
            if outcome is not None:
                responses.record_outcome(session, tenant, draw, invitation, outcome, actor=visitor)
            continue
        first = pick.choice(registers.FIRST_NAMES_F + registers.FIRST_NAMES_M)
        criteria = responses.criteria_for(hooks, parts[invitation.sub_draw_id])
        responses.record_response(
            session,
            tenant,
            hooks,
            draw,
            invitation,
            features=_profile(pick, criteria, scarce),  # type: ignore[arg-type]
            available=pick.random() < 0.95,
            consent=True,
            contact={"name": f"{first} {pick.choice(registers.LAST_NAMES)}"},
            channel="visit" if door else pick.choice(("online", "online", "paper")),
            actor=visitor,
        )
    responses.collect(session, tenant, draw, actor=ACTOR)
    responses.close_pool(session, tenant, draw, actor=ACTOR)


def _relax(
    session: DbSession, tenant: Tenant, hooks: TenantHooks, draw: Draw, story: DrawStory
) -> None:
    """Quotas the pool cannot meet are relaxed to the engine's smallest change, with the
    story's reason (a public deviation)."""
    parts = {part.id: part for part in services.sub_draws(session, draw)}
    for problem in feasibility.problems(session, hooks, draw):
        if not story.relax_reason or not problem.feature:
            raise RuntimeError(f"the demonstration's pool cannot be drawn: {problem.message}")
        feasibility.relax_bound(
            session, tenant, hooks, draw, parts[problem.sub_draw_id], feature=problem.feature,
            value=problem.value, minimum=problem.new_min, maximum=problem.new_max,
            reason=story.relax_reason, actor=ACTOR,
        )  # fmt: skip


def _stage2(
    session: DbSession, tenant: Tenant, hooks: TenantHooks, draw: Draw, story: DrawStory
) -> None:
    """The lottery is committed and revealed; the panel confirms and is seated."""
    selection.run_lottery(session, tenant, hooks, draw, actor=ACTOR)
    selection.reveal_lottery(session, tenant, draw, reserve=story.reserve, actor=ACTOR)
    for chosen, _response in selection.picks(session, draw):
        if chosen.role == PickRole.PANEL:
            selection.confirm(session, tenant, draw, chosen, actor=ACTOR)
    selection.seat(session, tenant, draw, actor=ACTOR)
