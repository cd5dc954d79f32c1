"""Public randomness for the draws: drand's quicknet chain (https://drand.love).

A draw publishes its commitment naming a *future* round, then reads that round's beacon once
it is out: nobody, the organisers included, knows the random value when the commitment is
published. Beacons come from a drand relay (``AGORA_DRAND_URL``) or, where the network is not
reachable (tests, the demonstration), from a file of genuine recorded beacons
(``AGORA_DRAND_BEACONS``): there, the next round is the first recorded one, and a round the
file does not hold is "not yet published".
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from flask import current_app
from flask_babel import format_datetime
from flask_babel import gettext as _

from agora.errors import Conflict

CHAIN = "quicknet"
#: quicknet's chain information (https://api.drand.sh/v2/chains/quicknet/info).
CHAIN_HASH = "52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971"
GENESIS = datetime.fromtimestamp(1692803367, UTC)
PERIOD = timedelta(seconds=3)
#: How far ahead the named round is: long enough for the commitment to be published first.
LEAD = timedelta(minutes=2)
RECORDED = Path(__file__).parent / "data" / "recorded_beacons.json"


@dataclass(frozen=True)
class FutureRound:
    chain: str
    round: int
    #: When the round is published.
    at: datetime

    def as_record(self) -> dict[str, Any]:
        return {"chain": self.chain, "round": self.round, "at": self.at.isoformat()}


def round_time(number: int) -> datetime:
    return GENESIS + PERIOD * (number - 1)


def _recorded() -> dict[int, dict[str, Any]] | None:
    path = current_app.config.get("AGORA_DRAND_BEACONS")
    if not path:
        return None
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    return {int(beacon["round"]): beacon for beacon in document["beacons"]}


def next_round(now: datetime | None = None) -> FutureRound:
    """The round a commitment made ``now`` names."""
    recorded = _recorded()
    if recorded is not None:
        number = min(recorded)
    else:
        moment = (now or datetime.now(UTC)) + LEAD
        number = (moment - GENESIS) // PERIOD + 2
    return FutureRound(CHAIN, number, round_time(number))


def fetch_beacon(chain: str, number: int) -> dict[str, Any] | None:
    """The beacon of round ``number`` (``round``, ``randomness``, ``signature``), or
    ``None`` while it is not published. Raises ``ConnectionError`` when the relay cannot be
    reached."""
    if chain != CHAIN:
        raise ValueError(f"unknown drand chain {chain!r}")
    recorded = _recorded()
    if recorded is not None:
        return recorded.get(number)
    url = f"{current_app.config['AGORA_DRAND_URL'].rstrip('/')}/{CHAIN_HASH}/public/{number}"
    try:
        response = requests.get(url, timeout=10)
    except requests.RequestException as error:
        raise ConnectionError(str(error)) from error
    if response.status_code in (404, 425):
        return None
    response.raise_for_status()
    beacon: dict[str, Any] = response.json()
    return beacon


def published_beacon(named: Mapping[str, Any], waiting: str) -> dict[str, Any]:
    """The beacon of the committed round ``named`` (``chain``, ``round``, ``at``); refused
    (409, in the reader's language) while it is not out, ``waiting`` saying what waits."""
    try:
        beacon = fetch_beacon(named["chain"], int(named["round"]))
    except ConnectionError:
        raise Conflict(
            _("The drand relay cannot be reached at the moment: try again in a few minutes.")
        ) from None
    if beacon is None:
        raise Conflict(
            _(
                "Round %(round)s of drand is not published yet: it will be on %(when)s. "
                "%(waiting)s",
                round=named["round"],
                when=format_datetime(round_time(int(named["round"])), "d MMMM y, HH:mm:ss"),
                waiting=waiting,
            )
        )
    return beacon
