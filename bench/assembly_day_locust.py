"""The locust scenario of an assembly day (``bench/assembly_day.py`` prepares the data, runs
this file headless and reads what it records).

Residents, staff and the public share one :class:`Day` in the locust process: the chair
opens a ballot, the residents vote on it, the chair closes it once every resident has sent
their vote (or the vote's time is up), and everyone then loads the result. The plan comes
from ``AGORA_DAY_PLAN``; latencies, failures and every vote sent go to ``AGORA_DAY_RESULTS``
when locust quits.
"""

from __future__ import annotations

import json
import os
import random
import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import gevent
from gevent.event import AsyncResult, Event
from gevent.queue import Empty, Queue
from locust import FastHttpUser, constant, constant_throughput, events, task
from locust.env import Environment
from locust.exception import StopUser
from requests.cookies import create_cookie

PLAN: dict[str, Any] = json.loads(Path(os.environ["AGORA_DAY_PLAN"]).read_text())
MOBILE = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0 Mobile Safari/537.36"
)
DESKTOP = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
CHOICES = ("for", "for", "against", "abstain")
#: Pauses of the day (reading a page, the result read out) shrink with a short vote's time,
#: so that a tiny run takes seconds.
PAUSE = min(2.0, PLAN["vote_spread"])
_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class Day:
    """Where the day stands, shared by every user of the locust process."""

    def __init__(self, plan: dict[str, Any]) -> None:
        self.residents: list[dict[str, Any]] = plan["residents"]
        self.rounds: int = plan["ballots"]
        self.opened: list[AsyncResult[int]] = [AsyncResult() for _ in range(self.rounds)]
        self.closed = [Event() for _ in range(self.rounds)]
        self.sent = [0] * self.rounds
        self.all_sent = [Event() for _ in range(self.rounds)]
        self.checked_in = [Event() for _ in self.residents]
        self.present = 0
        self.everyone_present = Event()
        self.to_desk: Queue[int] = Queue()
        self.over = Event()
        self.next_resident = 0
        self.next_staff = 0
        self.started = time.monotonic()
        self.started_at = time.time()  # locust stamps requests with the wall clock
        self.latencies: dict[str, list[float]] = {}
        #: kind → when each request of ``latencies`` was sent, in seconds into the day
        self.sent_at: dict[str, list[float]] = {}
        #: when each ballot opened and closed, in seconds into the day
        self.opened_at: list[float] = []
        self.closed_at: list[float] = []
        self.errors: list[dict[str, Any]] = []
        self.casts: list[dict[str, Any]] = []
        self.ballot_ids: list[int] = []

    def arrived(self, index: int) -> None:
        self.checked_in[index].set()
        self.present += 1
        if self.present == len(self.residents):
            self.everyone_present.set()

    def voted(self, round_: int) -> None:
        self.sent[round_] += 1
        if self.sent[round_] == len(self.residents):
            self.all_sent[round_].set()


DAY = Day(PLAN)


@events.request.add_listener  # type: ignore[untyped-decorator]  # locust's are untyped
def _record(
    request_type: str,
    name: str,
    response_time: float,
    response_length: int,
    response: Any = None,
    exception: BaseException | None = None,
    start_time: float | None = None,
    **_kwargs: Any,
) -> None:
    DAY.latencies.setdefault(name, []).append(response_time)
    sent = (start_time or time.time()) - DAY.started_at
    DAY.sent_at.setdefault(name, []).append(sent)
    if exception is not None:
        status = getattr(response, "status_code", 0) or 0
        DAY.errors.append({"kind": name, "status": status, "detail": str(exception)})


@events.quitting.add_listener  # type: ignore[untyped-decorator]
def _save(environment: Environment, **_kwargs: Any) -> None:
    Path(os.environ["AGORA_DAY_RESULTS"]).write_text(
        json.dumps(
            {
                "latencies": DAY.latencies,
                "sent_at": DAY.sent_at,
                "opened_at": DAY.opened_at,
                "closed_at": DAY.closed_at,
                "errors": DAY.errors,
                "casts": DAY.casts,
                "ballot_ids": DAY.ballot_ids,
                "seconds": time.monotonic() - DAY.started,
                "residents": len(DAY.residents),
                "staff": len(PLAN["staff_cookies"]),
                "public_users": PLAN["public_users"],
                "communes": len(PLAN["public_hosts"]),
            }
        )
    )


def _expect(response: Any, *statuses: int) -> Any:
    """Mark the response failed unless the app answered one of ``statuses``."""
    if response.status_code not in statuses:
        response.failure(f"{response.status_code}, expected {statuses}: {response.text[:300]}")
    else:
        response.success()
    return response


class Resident(FastHttpUser):
    """A resident on their phone: confirms their presence with their card, then votes on
    each ballot as it opens and reloads it for the result when it closes."""

    fixed_count = len(PLAN["residents"])
    wait_time = constant(0)
    default_headers = {"Host": PLAN["host"], "User-Agent": MOBILE}  # noqa: RUF012 - locust reads it from the class

    def on_start(self) -> None:
        self.index = DAY.next_resident
        DAY.next_resident += 1
        self.me = DAY.residents[self.index]

    @task
    def the_day(self) -> None:
        presence = f"/sessions/{PLAN['session_id']}/presence"
        self.client.get(presence, name="presence page")
        if self.index % 2 == 0:  # scans their card
            with self.client.post(
                presence,
                data={"code": self.me["code"]},
                name="check-in",
                allow_redirects=False,
                catch_response=True,
            ) as response:
                _expect(response, 303)
                landing = response.headers.get("Location", "")
            DAY.arrived(self.index)
            if landing.startswith(presence):  # no vote open yet: its confirmation
                self.client.get(landing, name="presence page")
        else:  # queues at a desk
            DAY.to_desk.put(self.index)
            DAY.checked_in[self.index].wait()
        for round_ in range(DAY.rounds):
            ballot_id = DAY.opened[round_].get()
            assert ballot_id is not None
            # People read the question and vote over the vote's time, not all at once.
            gevent.sleep(random.uniform(0, PLAN["vote_spread"]))
            self.client.get(f"/ballots/{ballot_id}", name="ballot page")
            gevent.sleep(random.uniform(PAUSE / 4, PAUSE))
            self._vote(round_, ballot_id)
            DAY.closed[round_].wait()
            gevent.sleep(random.uniform(0, PAUSE))
            self.client.get(f"/ballots/{ballot_id}", name="results")
        DAY.over.wait()
        raise StopUser

    def _vote(self, round_: int, ballot_id: int) -> None:
        choice = random.choice(CHOICES)
        with self.client.post(
            f"/ballots/{ballot_id}/vote",
            data={"code": self.me["code"], "choice": choice},
            name="vote",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            _expect(response, 303)
            acknowledged = 200 <= response.status_code < 400
        DAY.casts.append(
            {
                "ballot_id": ballot_id,
                "code": self.me["code"],
                "choice": choice,
                "acknowledged": acknowledged,
            }
        )
        DAY.voted(round_)
        if acknowledged:
            self.client.get(f"/ballots/{ballot_id}/recorded", name="vote recorded")


class Staff(FastHttpUser):
    """A facilitator, signed in: the first one chairs (opens and closes the ballots), the
    others check residents in at a desk and keep the session's page open."""

    fixed_count = len(PLAN["staff_cookies"])
    wait_time = constant(0)
    default_headers = {"Host": PLAN["host"], "User-Agent": DESKTOP}  # noqa: RUF012 - locust reads it from the class

    def on_start(self) -> None:
        self.index = DAY.next_staff
        DAY.next_staff += 1
        # The client files cookies under the address it connects to, not the Host header.
        self.client.cookiejar.set_cookie(
            create_cookie(  # type: ignore[no-untyped-call]  # requests' helpers are untyped
                "session",
                PLAN["staff_cookies"][self.index],
                domain=urlsplit(self.host or "").hostname or "",
                path="/",
            )
        )
        self.session_page = f"/admin/sessions/{PLAN['session_id']}"

    def _token(self, path: str, name: str) -> str:
        with self.client.get(
            path, name=name, allow_redirects=False, catch_response=True
        ) as response:
            _expect(response, 200)
            found = _TOKEN.search(response.text)
        return found.group(1) if found else ""

    @task
    def the_day(self) -> None:
        if self.index == 0:
            self._chair()
        else:
            self._desk()
        raise StopUser

    def _desk(self) -> None:
        roster = f"{self.session_page}/roster"
        while not DAY.everyone_present.is_set():
            try:
                index = DAY.to_desk.get(timeout=1)
            except Empty:
                continue
            resident = DAY.residents[index]
            query = resident["name"]
            token = self._token(f"{roster}?q={query}", "roster")
            with self.client.post(
                f"{roster}/{resident['person_id']}/check-in",
                data={"csrf_token": token, "q": query},
                name="check-in",
                allow_redirects=False,
                catch_response=True,
            ) as response:
                _expect(response, 302, 303)
                back = response.headers.get("Location", "")
            DAY.arrived(index)
            if back:  # the roster again, as a browser follows it, the arrival shown
                self.client.get(back, name="roster")
        for round_ in range(DAY.rounds):
            while not DAY.closed[round_].wait(timeout=random.uniform(5, 15)):
                self.client.get(self.session_page, name="staff page")
            gevent.sleep(random.uniform(0, PAUSE))
            self.client.get(f"/ballots/{DAY.opened[round_].get()}", name="results")
        DAY.over.wait()

    def _chair(self) -> None:
        token = self._token(self.session_page, "staff page")
        # The first ballot opens once everyone is checked in (or after two minutes).
        DAY.everyone_present.wait(timeout=120)
        for round_ in range(DAY.rounds):
            with self.client.post(
                f"{self.session_page}/ballots",
                data={
                    "csrf_token": token,
                    "question": f"Proposition {round_ + 1} : l'adoptez-vous ?",
                    "decision": "action_plan",
                    "subject_ids": str(PLAN["subject_id"]),
                    "secret": "yes",
                },
                name="open/close",
                allow_redirects=False,
                catch_response=True,
            ) as response:
                _expect(response, 302, 303)
                location = response.headers.get("Location", "")
            found = re.search(r"/ballots/(\d+)", location)
            if found is None:
                break  # refused (the failure is recorded): the day cannot go on
            ballot_id = int(found.group(1))
            DAY.ballot_ids.append(ballot_id)
            DAY.opened_at.append(time.time() - DAY.started_at)
            DAY.opened[round_].set(ballot_id)
            # Closed once everyone has sent their vote, or when the vote's time is up.
            DAY.all_sent[round_].wait(timeout=PLAN["vote_spread"] + 60)
            with self.client.post(
                f"/admin/ballots/{ballot_id}/close",
                data={"csrf_token": token, "confirmed": "yes"},
                name="open/close",
                allow_redirects=False,
                catch_response=True,
            ) as response:
                _expect(response, 302, 303)
            DAY.closed_at.append(time.time() - DAY.started_at)
            DAY.closed[round_].set()
            self.client.get(f"/ballots/{ballot_id}", name="results")
            gevent.sleep(1.5 * PAUSE)  # the result is read out before the next question
        else:
            gevent.sleep(2 * PAUSE)  # the last refreshes
        DAY.over.set()
        assert self.environment.runner is not None
        # From a greenlet of its own: quitting stops every user's greenlet, this one too,
        # which would end the call before the runner stops (the run then lasted its
        # whole --run-time).
        gevent.spawn(self.environment.runner.quit).join()


class Public(FastHttpUser):
    """A visitor reading a commune's public pages; together they make the plan's views a
    minute, across every commune."""

    fixed_count = PLAN["public_users"]
    wait_time = constant_throughput(PLAN["public_per_minute"] / 60 / max(1, PLAN["public_users"]))
    default_headers = {"User-Agent": DESKTOP}  # noqa: RUF012 - locust reads it from the class

    @task
    def read(self) -> None:
        if DAY.over.is_set():
            raise StopUser
        self.client.get(
            random.choice(PLAN["public_paths"]),
            headers={"Host": random.choice(PLAN["public_hosts"])},
            name="public page",
        )
