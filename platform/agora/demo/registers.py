"""Registers for the demonstration, the end-to-end tests and the benchmark: plausible files in
the formats the communes receive, generated from a seed (the same seed, the same file).

- an address file (Base Adresse Nationale export, with the neighbourhood the commune adds),
  for a door-to-door draw;
- an electoral roll extract (``;``, French headers, birth dates, polling stations), for
  a panel drawn by letter;
- a volunteers' list and a census list of 16–17-year-olds, for further pools.

The people are invented; street names are common French ones, not a town's real streets.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from pathlib import Path

FIRST_NAMES_F = (
    "Léa", "Manon", "Camille", "Chloé", "Inès", "Sarah", "Jade", "Louise", "Emma", "Zoé",
    "Nathalie", "Isabelle", "Sylvie", "Christine", "Fatima", "Aïcha", "Mélanie", "Julie",
    "Monique", "Françoise", "Yasmine", "Océane", "Anaïs", "Claire", "Hélène", "Agnès",
)  # fmt: skip
FIRST_NAMES_M = (
    "Lucas", "Hugo", "Thomas", "Nathan", "Mathis", "Yanis", "Karim", "Mehdi", "Louis", "Jules",
    "Philippe", "Michel", "Alain", "Patrick", "Olivier", "Stéphane", "Mamadou", "Julien",
    "Bernard", "Jean", "Rémi", "Antoine", "Théo", "Gabriel", "Moussa", "Vincent",
)  # fmt: skip
LAST_NAMES = (
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David", "Bertrand", "Roux",
    "Vincent", "Fournier", "Morel", "Girard", "Andre", "Mercier", "Dupont", "Lambert", "Bonnet",
    "François", "Martinez", "Legrand", "Garnier", "Faure", "Rousseau", "Blanc", "Guerin",
    "Muller", "Henry", "Roussel", "Nicolas", "Perrin", "Diallo", "Nguyen", "Benali", "Traoré",
    "Da Silva", "Ferreira", "Haddad", "Kone", "Chevalier", "Gauthier",
)  # fmt: skip
STREET_KINDS = ("rue", "avenue", "boulevard", "place", "impasse", "allée", "chemin")
STREET_NAMES = (
    "de la République", "Victor-Hugo", "Jean-Jaurès", "Pasteur", "de la Paix", "des Écoles",
    "du Moulin", "de la Gare", "des Lilas", "Jules-Ferry", "du Marché", "Carnot", "Gambetta",
    "de l'Église", "des Tilleuls", "du Stade", "Émile-Zola", "Voltaire", "des Acacias",
    "de la Fontaine", "Louise-Michel", "Simone-Veil", "des Vignes", "du Château", "Lamartine",
    "George-Sand", "des Peupliers", "Pierre-Curie", "du Général-de-Gaulle", "Jean-Moulin",
)  # fmt: skip
REPETITIONS = ("", "", "", "", "", "", "", "bis", "ter")


def _streets(rng: random.Random, strata: Sequence[str], per_stratum: int) -> dict[str, list[str]]:
    names = [f"{kind} {name}" for kind in STREET_KINDS for name in STREET_NAMES]
    rng.shuffle(names)
    return {
        stratum: [names[(i * per_stratum + j) % len(names)] for j in range(per_stratum)]
        for i, stratum in enumerate(strata)
    }


def _weighted(
    rng: random.Random, strata: Sequence[str], weights: Sequence[float], n: int
) -> list[str]:
    return rng.choices(list(strata), weights=list(weights), k=n)


def address_file(
    path: Path,
    rows: int,
    *,
    insee_code: str,
    commune: str,
    postcode: str,
    strata: Sequence[str],
    weights: Sequence[float],
    seed: int = 1,
) -> Path:
    """A BAN export of ``rows`` addresses, with the commune's ``quartier`` column."""
    rng = random.Random(seed)  # noqa: S311 (invented people, reproducible)
    streets = _streets(rng, strata, 24)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("id;numero;rep;nom_voie;code_postal;code_insee;nom_commune;lon;lat;quartier\r\n")
        for i, stratum in enumerate(_weighted(rng, strata, weights, rows)):
            street = rng.choice(streets[stratum])
            out.write(
                f"{insee_code}_{i:07d};{rng.randint(1, 180)};{rng.choice(REPETITIONS)};{street};"
                f"{postcode};{insee_code};{commune};{rng.uniform(0.30, 0.40):.5f};"
                f"{rng.uniform(46.54, 46.62):.5f};{stratum}\r\n"
            )
    return path


def _birth(rng: random.Random, today: date, youngest: int, oldest: int) -> date:
    return today - timedelta(days=rng.randint(youngest * 365 + 1, oldest * 365))


def _people(
    rng: random.Random, rows: int, strata: Sequence[str], weights: Sequence[float]
) -> Iterator[tuple[str, str, str, str, str]]:
    """(sex, first name, last name, street address, stratum); about one person in four shares
    the previous person's address (a household)."""
    streets = _streets(rng, strata, 24)
    address, stratum = "", strata[0]
    for chosen in _weighted(rng, strata, weights, rows):
        if not address or rng.random() > 0.25:
            stratum = chosen
            address = f"{rng.randint(1, 180)} {rng.choice(streets[stratum])}"
        sex = rng.choice("FM")
        first = rng.choice(FIRST_NAMES_F if sex == "F" else FIRST_NAMES_M)
        yield sex, first, rng.choice(LAST_NAMES), address, stratum


def electoral_roll(
    path: Path,
    rows: int,
    *,
    postcode: str,
    strata: Sequence[str],
    weights: Sequence[float],
    today: date,
    seed: int = 2,
    encoding: str = "utf-8-sig",
) -> Path:
    """An electoral roll extract: ``ine;nom;prenoms;adresse;code_postal;bureau_de_vote;
    date_naissance;sexe`` (dates as ``dd/mm/yyyy``)."""
    rng = random.Random(seed)  # noqa: S311 (invented people, reproducible)
    with path.open("w", encoding=encoding, newline="") as out:
        out.write("ine;nom;prenoms;adresse;code_postal;bureau_de_vote;date_naissance;sexe\r\n")
        for i, (sex, first, last, address, stratum) in enumerate(
            _people(rng, rows, strata, weights)
        ):
            born = _birth(rng, today, 18, 95)
            out.write(
                f"{100000000 + i};{last};{first};{address};{postcode};{stratum};"
                f"{born:%d/%m/%Y};{sex}\r\n"
            )
    return path


def volunteers(
    path: Path,
    rows: int,
    *,
    strata: Sequence[str],
    weights: Sequence[float],
    age_bands: Sequence[str],
    seed: int = 3,
) -> Path:
    """A volunteers' list with the profile they declared: ``id;nom;prenom;courriel;
    telephone;secteur;genre;tranche_age``."""
    rng = random.Random(seed)  # noqa: S311 (invented people, reproducible)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("id;nom;prenom;courriel;telephone;secteur;genre;tranche_age\r\n")
        for i, (sex, first, last, _, stratum) in enumerate(_people(rng, rows, strata, weights)):
            email = f"{first}.{last}{i}".lower().replace(" ", "-")
            out.write(
                f"V{i + 1:05d};{last};{first};{email}@exemple.fr;"
                f"06{rng.randint(10000000, 99999999)};{stratum};{sex};{rng.choice(age_bands)}\r\n"
            )
    return path


def youth_census(
    path: Path,
    rows: int,
    *,
    postcode: str,
    strata: Sequence[str],
    weights: Sequence[float],
    today: date,
    seed: int = 4,
) -> Path:
    """The census of 16–17-year-olds (recensement citoyen): ``numero;nom;prenom;adresse;
    code_postal;secteur;date_naissance;sexe``."""
    rng = random.Random(seed)  # noqa: S311 (invented people, reproducible)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("numero;nom;prenom;adresse;code_postal;secteur;date_naissance;sexe\r\n")
        for i, (sex, first, last, address, stratum) in enumerate(
            _people(rng, rows, strata, weights)
        ):
            born = _birth(rng, today, 16, 17)
            out.write(
                f"RC{i + 1:06d};{last};{first};{address};{postcode};{stratum};"
                f"{born:%d/%m/%Y};{sex}\r\n"
            )
    return path
