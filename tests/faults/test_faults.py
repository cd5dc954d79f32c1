"""Faults survived by the two-node stack (issue #17, point 3), each while people use it:
the primary restarted, an app node killed, Redis stopped, an RQ worker killed in the middle
of a batch of 2,000 letters."""

from __future__ import annotations

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cluster import Cluster, _healthy, _wait
from flask import Flask
from pypdf import PdfReader
from rq import Worker
from sqlalchemy import func, insert, select

from agora.assembly import editions
from agora.assembly.models import BallotVoter, Body, Vote
from agora.db import new_id, paris_today
from agora.draws import printing
from agora.draws.models import Draw, DrawStatus, Invitation, SubDraw
from agora.extensions import db
from agora.jobs import enqueue, get_queue
from agora.jobs.held import HeldJob
from agora.plugins.manager import get_registry
from agora.tenancy.config import TenantConfig
from agora.tenancy.isolation import tenant_scope
from agora.tenancy.services import current_config
from support.voters import RETRY_LATER, Outcome, Voting, poitiers, request, vote_all

# One local cluster for the session: the four tests on one pytest-xdist worker (a mark
# added by a conftest hook comes too late for xdist's grouping, which reads it at collection).
pytestmark = pytest.mark.xdist_group("local-cluster")


def _check_every_vote_once(app: Flask, voting: Voting, ballot_id: int, outcome: Outcome) -> None:
    """No acknowledged vote lost, none doubled: the stored voters are exactly the codes that
    were acknowledged or told they had voted already, with one vote each."""
    with app.app_context(), tenant_scope(db.session, voting.tenant_id):
        voters = set(
            db.session.scalars(
                select(BallotVoter.person_id).where(
                    BallotVoter.tenant_id == voting.tenant_id, BallotVoter.ballot_id == ballot_id
                )
            )
        )
        votes = db.session.scalar(
            select(func.count())
            .select_from(Vote)
            .where(Vote.tenant_id == voting.tenant_id, Vote.ballot_id == ballot_id)
        )
        db.session.rollback()
    acknowledged = {voting.codes[code] for code in outcome.acknowledged}
    assert acknowledged <= voters
    assert voters == acknowledged | {voting.codes[code] for code in outcome.already}
    assert votes == len(voters)


def _voting_during(stack: Cluster, voting: Voting, ballot_id: int, fault: object) -> Outcome:
    """Every voter votes through nginx while ``fault()`` happens, one second in."""
    with ThreadPoolExecutor(1) as side:
        running = side.submit(
            vote_all, stack.nginx_port, ballot_id, list(voting.codes), threads=6, pause=0.02
        )
        time.sleep(1)
        assert not running.done(), "the votes ended before the fault"
        fault()  # type: ignore[operator]
        return running.result()


def test_primary_restarted_during_voting(stack: Cluster, voting: Voting, stack_app: Flask) -> None:
    started = time.monotonic()
    outcome = _voting_during(stack, voting, voting.ballot_ids[0], stack.restart_primary)
    # While it was down, voters read « réessayez dans un instant » with a 503, never a 500.
    assert outcome.statuses[503] > 0, outcome.statuses
    assert outcome.statuses[500] == 0, outcome.failures[:1]
    assert all(status == 503 and RETRY_LATER in page for status, page in outcome.failures)
    _check_every_vote_once(stack_app, voting, voting.ballot_ids[0], outcome)
    # The pools recovered by themselves: both nodes answer a public page again.
    for port in stack.web_ports:
        assert request(port, "GET", "/")[0] == 200
    print(f"primary restart: {time.monotonic() - started:.1f} s, {dict(outcome.statuses)}")


def test_app_node_killed_during_voting(stack: Cluster, voting: Voting, stack_app: Flask) -> None:
    started = time.monotonic()
    try:
        outcome = _voting_during(
            stack, voting, voting.ballot_ids[1], lambda: stack.stop_process("web1", signal.SIGKILL)
        )
        _check_every_vote_once(stack_app, voting, voting.ballot_ids[1], outcome)
        assert outcome.statuses[500] == 0, outcome.failures[:1]
        # The other node carries on alone.
        assert not _healthy(stack.web_ports[0])
        assert all(request(stack.nginx_port, "GET", "/")[0] == 200 for _ in range(10))
    finally:
        stack.start_web(1, stack.web_ports[0])
        _wait(lambda: _healthy(stack.web_ports[0]), "web1")
    print(f"app node killed: {time.monotonic() - started:.1f} s, {dict(outcome.statuses)}")


def test_redis_stopped(stack: Cluster, voting: Voting, stack_app: Flask) -> None:
    started = time.monotonic()
    stack.stop_process("redis")
    try:
        outcome = vote_all(stack.nginx_port, voting.ballot_ids[2], list(voting.codes)[:100])
        assert set(outcome.statuses) == {303}
        _check_every_vote_once(stack_app, voting, voting.ballot_ids[2], outcome)
        for path in ("/", f"/ballots/{voting.ballot_ids[2]}"):
            status, page = request(stack.nginx_port, "GET", path)
            assert status == 200, page[:500]
        # A job asked for meanwhile is held in the database (jobs/held.py's rule)…
        with stack_app.app_context():
            handle = enqueue("audit.verify", tenant_id=voting.tenant_id)
            assert db.session.get(HeldJob, handle.id) is not None
            db.session.rollback()
    finally:
        stack.start_redis()
    # … and run by a worker once Redis answers, under the id it was given.
    assert all(stack.status().values()), stack.status()
    with stack_app.app_context():
        queue = get_queue(stack.redis_url)

        def finished() -> bool:
            job = queue.fetch_job(handle.id)
            return job is not None and job.get_status() == "finished"

        _wait(finished, "the held job", 60)
        assert db.session.get(HeldJob, handle.id) is None
        db.session.rollback()
    print(f"redis stopped: {time.monotonic() - started:.1f} s")


LETTERS = 2000


def _draw_of_letters(app: Flask) -> tuple[int, int]:
    """A draw of Poitiers with 2,000 invitations by letter (no register rows: the letters
    then go « Aux habitant·es »)."""
    with app.app_context():
        tenant = poitiers(app)
        version = current_config(db.session, tenant)
        assert version is not None
        hooks = get_registry().view(TenantConfig(version.document))
        with tenant_scope(db.session, tenant.id):
            edition = editions.open_edition(
                db.session, tenant, 2032, "Lettres", hooks.composition_rules(), "test"
            )
            db.session.flush()
            body = db.session.execute(
                select(Body).where(Body.edition_id == edition.id, Body.key == "plenary")
            ).scalar_one()
            draw = Draw(
                tenant_id=tenant.id,
                edition_id=edition.id,
                body_id=body.id,
                title="Tirage 2032",
                status=DrawStatus.RESPONSES,
                minimum_age=16,
                reference_date=paris_today(),
            )
            db.session.add(draw)
            db.session.flush()
            part = SubDraw(tenant_id=tenant.id, draw_id=draw.id, source="address_file", seats=4)
            db.session.add(part)
            db.session.flush()
            db.session.execute(
                insert(Invitation),
                [
                    {
                        "tenant_id": tenant.id,
                        "id": new_id(),
                        "draw_id": draw.id,
                        "sub_draw_id": part.id,
                        "register_id": 1,
                        "person_hash": f"p{i:05d}".ljust(64, "0"),
                        "household_hash": f"h{i:05d}".ljust(64, "0"),
                        "position": i,
                        "code": f"L{i:05d}",
                        "channel": "letter",
                    }
                    for i in range(LETTERS)
                ],
            )
            made = tenant.id, draw.id
        db.session.commit()
        return made


def test_worker_killed_in_the_middle_of_letters(stack: Cluster, stack_app: Flask) -> None:
    started = time.monotonic()
    tenant_id, draw_id = _draw_of_letters(stack_app)

    def printed() -> int:
        with stack_app.app_context(), tenant_scope(db.session, tenant_id):
            parts = printing.parts_printed(db.session, poitiers(stack_app), draw_id)
            db.session.rollback()
            return parts

    with stack_app.app_context():
        handle = enqueue("draws.print_letters", tenant_id=tenant_id, draw_id=draw_id)
        assert handle.queued
        queue = get_queue(stack.redis_url)
        # Generous: with the whole suite on two cores, the worker waits for the processor;
        # what is checked is the resumption, not the pace.
        _wait(lambda: printed() >= 2, "the batch's first parts", 180)
        # The worker printing the batch dies, its part half done; its supervisor starts it
        # again a second later (stack.start_worker), as systemd does.
        busy = [w for w in Worker.all(queue=queue) if w.get_current_job_id() == handle.id]
        assert len(busy) == 1 and busy[0].pid is not None
        os.kill(busy[0].pid, signal.SIGKILL)
        done_when_killed = printed()
        assert done_when_killed < LETTERS // printing.LETTERS_PER_PART
        # The operator runs `flask draws print-letters` again: the batch resumes.
        enqueue("draws.print_letters", tenant_id=tenant_id, draw_id=draw_id)
        _wait(lambda: printed() == LETTERS // printing.LETTERS_PER_PART, "the batch", 240)

    with stack_app.app_context(), tenant_scope(db.session, tenant_id):
        rows = db.session.execute(
            select(Invitation.code, Invitation.letter_part)
            .where(Invitation.tenant_id == tenant_id, Invitation.draw_id == draw_id)
            .order_by(Invitation.position)
        ).all()
        directory = printing.batch_dir(str(stack.upload_dir), poitiers(stack_app), draw_id)
        db.session.rollback()
    # Every letter in exactly one part, each part holding exactly its invitations' letters.
    assert all(part is not None for _, part in rows)
    files = sorted(Path(directory).glob("part-*.pdf"))
    assert [f.name for f in files] == [f"part-{n:04d}.pdf" for n in range(1, len(files) + 1)]
    pages = 0
    for number, file in enumerate(files, start=1):
        codes = [code for code, part in rows if part == number]
        reader = PdfReader(file)
        assert len(reader.pages) == len(codes)
        for index in (0, len(codes) - 1):  # the first and last letters are the part's own
            assert codes[index] in reader.pages[index].extract_text()
        pages += len(reader.pages)
    assert pages == LETTERS
    print(
        f"worker killed after {done_when_killed} parts; batch of {LETTERS} letters done in "
        f"{time.monotonic() - started:.1f} s"
    )
