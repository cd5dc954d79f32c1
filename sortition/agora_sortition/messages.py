"""Messages for people: the engine's errors and the command line's reports, in French or English.

The engine raises ``SortitionError``\\ s whose ``message`` is English and stable (tools and logs
read it, with ``code``, ``key`` and ``params``); ``render`` gives the same error for a reader,
in French (the default: Agora serves French town halls) or English. The language is, first, the
one asked for (``--lang`` on the command line), then the ``AGORA_LANG`` environment variable
(``fr`` or ``en``; ``LANG`` is not used: servers set it to English whatever their users read),
then French.

Standard library only (``verify`` must run on a bare Python).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from .errors import MalformedInput, SortitionError

LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"


def language(asked: str | None = None) -> str:
    """The language to speak: ``asked``, else ``AGORA_LANG``, else French."""
    for choice in (asked, os.environ.get("AGORA_LANG")):
        if choice:
            short = choice.strip().lower()[:2]
            if short in LANGUAGES:
                return short
    return DEFAULT_LANGUAGE


def number(value: float, lang: str, digits: int = 4) -> str:
    """``0.0737`` in English, ``0,0737`` in French."""
    text = f"{value:.{digits}f}"
    return text.replace(".", ",") if lang == "fr" else text


# --- the engine's errors in French (the English text is the error's own message) --------------

# Keyed problems of ``MalformedInput`` (the place, file/line/column, is added by ``render``).
PROBLEMS_FR: dict[str, str] = {
    "file_not_found": "fichier introuvable",
    "file_unreadable": "fichier illisible : {reason}",
    "output_folder_missing": "le dossier {folder} n'existe pas : créez-le ou choisissez un autre "
    "chemin pour le fichier de sortie",
    "output_unwritable": "impossible d'écrire le fichier : {reason}",
    "empty_file": "le fichier est vide (une ligne d'en-tête est attendue)",
    "spreadsheet": "c'est un classeur {kind}, pas un fichier CSV : ouvrez-le dans le tableur et "
    "enregistrez-le au format « CSV » (séparateur point-virgule ou virgule)",
    "utf16_without_bom": "le fichier semble encodé en UTF-16 sans marque d'ordre des octets "
    "(BOM) : réenregistrez-le en « CSV UTF-8 » (ou en « Texte Unicode », qui met la marque)",
    "binary": "le fichier contient des données binaires (octet {byte} en position {offset}) : "
    "ce n'est pas un fichier texte CSV",
    "undecodable": "octets illisibles ({byte}) : le fichier n'est ni en UTF-8 ni en "
    "Windows-1252 ; réenregistrez-le en « CSV UTF-8 »",
    "mixed_encoding": "octets {byte} qui ne sont pas de l'UTF-8, alors que des lignes "
    "précédentes sont en UTF-8 : le fichier mélange deux encodages",
    "broken_quoting": "guillemets mal fermés ou mal placés ({reason}) : un guillemet ouvre une "
    "cellule sans la refermer, ou apparaît au milieu d'une cellule",
    "cell_too_long": "une cellule de plus de {limit} caractères : sans doute un guillemet "
    "ouvert et jamais refermé",
    "bad_quotas_header": "l'en-tête doit contenir critere,valeur,min,max (ou "
    "feature,value,min,max) ; il contient {found} (séparateur détecté : {delimiter})",
    "missing_columns": "colonne(s) absente(s) : {missing} ; l'en-tête contient {found} "
    "(séparateur détecté : {delimiter})",
    "ambiguous_column": "la colonne {column!r} peut désigner plusieurs colonnes de l'en-tête : "
    "{candidates}",
    "wrong_width": "{found} cellules alors que l'en-tête en a {expected} (séparateur détecté : "
    "{delimiter})",
    "short_row": "une ligne a {found} cellules, l'en-tête {expected}",
    "empty_cell": "cellule vide",
    "empty_id": "identifiant vide",
    "duplicate_quota": "quota en double pour {feature}={value} (déjà ligne {first})",
    "duplicate_id": "identifiant {id!r} en double (déjà ligne {first})",
    "not_integer": "nombre entier attendu, trouvé {text!r}",
    "negative": "nombre positif ou nul attendu, trouvé {value}",
    "min_above_max": "le minimum {low} dépasse le maximum {high}",
    "no_quotas": "aucun quota dans le fichier",
    "unknown_value": "la valeur {value!r} n'a pas de quota (valeurs connues : {known})",
    "oversized_pool": "le fichier fait {megabytes} Mo, plus que les {limit} Mo qu'un fichier de "
    "volontaires peut faire : est-ce le registre entier ? (le tirage des invitations, c'est "
    "« invite »)",
    "fixed_line": "ligne « strate,nombre » attendue, trouvé {text!r}",
    "negative_invitations": "le nombre d'invitations ne peut pas être négatif",
    "fixed_needs_stratum": "une répartition fixe demande une colonne de stratification",
    "exclude_needs_id": "une liste d'exclusion demande la colonne d'identifiant",
    "record_unreadable": "le relevé n'est pas un JSON lisible : {reason}",
    "lottery_needs_solver": "--record demande une loterie : utilisez leximin ou maximin",
}

# Known English reasons of other errors, turned into French (others are shown as they are).
_REASONS_FR: tuple[tuple[str, str], ...] = (
    (r"only (\d+) households for a panel of (\d+)", r"seulement \1 foyers pour un panel de \2"),
    (r"no panel of this size exists", "aucun panel de cette taille n'existe"),
    (
        r"panel size (-?\d+) must be between 1 and the pool size (\d+)",
        r"la taille du panel (\1) doit être comprise entre 1 et le nombre de volontaires (\2)",
    ),
    (
        r"the household constraint needs a household column",
        "la contrainte « un par foyer » demande une colonne de foyer",
    ),
    (r"'(.*)' is not on the panel", r"« \1 » n'est pas membre du panel"),
    (
        r"the record has no revealed panel yet: reveal it first",
        "le relevé n'a pas encore de panel révélé : révélez-le d'abord (reveal)",
    ),
    (
        r"a random value or a drand beacon is needed",
        "il faut une valeur aléatoire (--random-value) ou une balise drand (--drand-beacon)",
    ),
    (
        r"a drand beacon was given, but the commitment names no drand round",
        "une balise drand est donnée, mais l'engagement ne nomme aucune ronde drand",
    ),
    (
        r"the commitment names no beacon or another round: (.*)",
        r"l'engagement ne nomme pas de balise drand, ou une autre ronde : \1",
    ),
    # details of failed verifications
    (
        r"the commitment does not hash to commitment_sha256",
        "l'engagement n'a pas pour empreinte commitment_sha256",
    ),
    (
        r"the (pool|quotas|lottery) (?:does|do) not hash to the committed (\w+)",
        r"l'empreinte de « \1 » n'est pas celle de l'engagement (\2)",
    ),
    (
        r"the given people file does not match the committed pool",
        "le fichier de volontaires donné n'est pas celui de l'engagement",
    ),
    (
        r"the given quota file does not match the committed quotas",
        "le fichier de quotas donné n'est pas celui de l'engagement",
    ),
    (r"panel (\d+) breaks quotas: (.*)", r"le panel \1 ne respecte pas les quotas : \2"),
    (
        r"the random value gives panel (\d+), not (\d+)",
        r"la valeur aléatoire désigne le panel \1, pas le \2",
    ),
    (
        r"the selected panel is not panel (\d+) of the lottery",
        r"le panel retenu n'est pas le panel \1 de la loterie",
    ),
    (
        r"the reserve list is not in the order given by the random value",
        "la liste de réserve n'est pas dans l'ordre que donne la valeur aléatoire",
    ),
    (
        r"the lottery moves a probability by (\S+), more than recorded",
        r"la loterie déplace une probabilité de \1, plus que ce qui est enregistré",
    ),
)


def _french_reason(text: str) -> str:
    for pattern, replacement in _REASONS_FR:
        if re.fullmatch(pattern, text):
            return re.sub(pattern, replacement, text)
    return text


def _where(params: Mapping[str, Any], lang: str) -> str:
    file, line, column = params.get("file"), params.get("line"), params.get("column")
    if lang == "en":
        parts = [file and f"file {file}", line is not None and f"line {line}"]
        parts.append(column is not None and f"column {column!r}")
    else:
        parts = [file and f"fichier {file}", line is not None and f"ligne {line}"]
        parts.append(column is not None and f"colonne « {column} »")
    return ", ".join(str(p) for p in parts if p)


def render(error: SortitionError, lang: str | None = None) -> str:
    """The error as a sentence for a person, in ``lang`` (see ``language``); the English
    message when the French one lacks a parameter (a message is never lost to a typo)."""
    lang = language(lang)
    if lang == "en":
        return error.message
    try:
        return _french(error)
    except (KeyError, IndexError, ValueError):
        return error.message


def _french(error: SortitionError) -> str:
    lang = "fr"
    params = dict(error.params)
    if isinstance(error, MalformedInput):
        template = PROBLEMS_FR.get(error.key)
        problem = (
            template.format(**params)
            if template
            else _french_reason(str(params.get("problem", "")))
        )
        where = _where(params, lang)
        return f"{where} : {problem}" if where else problem
    if error.code == "infeasible_quotas":
        text = "quotas impossibles à respecter"
        if params.get("reason"):
            text += f" : {_french_reason(str(params['reason']))}"
        if params.get("named"):
            text += f" ; quotas en conflit : {params['named']}"
        if params.get("relaxed"):
            text += f" ; plus petit assouplissement : {params['relaxed']}"
        return text
    if error.code == "legacy_method_stuck":
        return (
            f"la méthode historique (gloutonne) s'est bloquée {params['attempts']} fois de suite : "
            "les quotas sont pourtant réalisables (un panel qui les respecte existe), mais cette "
            "méthode choisit les personnes une à une et, sur des quotas serrés, finit presque "
            "toujours dans une impasse ; utilisez leximin ou maximin"
        )
    if error.code == "no_fitting_replacement":
        return (
            f"personne ne peut remplacer {params['withdrawn']!r} dans le respect des quotas ; "
            f"quota dépassé : {params.get('named', '')} (--allow-drift prend le remplaçant qui "
            "s'en écarte le moins)"
        )
    if error.code == "verification_failed":
        detail = VERIFY_FR.get(error.key)
        text = detail.format(**params) if detail else _french_reason(str(params.get("detail")))
        return f"vérification échouée [{check_name(str(params.get('check')), lang)}] : {text}"
    if error.code == "solver_failure":
        return f"le solveur a échoué sur {params.get('what')} : {params.get('status')}"
    return error.message


# The checks ``audit.verify`` lists, in French (others, such as NOT CHECKED lines, as they are).
CHECKS_FR: dict[str, str] = {
    "format": "format",
    "commitment": "engagement",
    "published commitment": "engagement publié",
    "commitment, the one published": "engagement, celui qui a été publié",
    "pool": "volontaires",
    "quotas": "quotas",
    "pool and quotas": "volontaires et quotas",
    "lottery": "loterie",
    "lottery panels meet the quotas": "les panels de la loterie respectent les quotas",
    "probabilities": "probabilités",
    "reveal": "révélation",
    "panel": "panel",
    "reserve": "réserve",
    "random value": "valeur aléatoire",
    "panel and reserve follow the random value": "le panel et la réserve suivent la valeur "
    "aléatoire",
    "replacements": "remplacements",
    "replacements are the first reserves who fit": "chaque remplaçant est le premier de la "
    "réserve qui convient",
}


_CHECKS_FR: tuple[tuple[str, str], ...] = (
    (
        r"random value is the randomness of drand (\S+) round (\d+), SHA-256 of its signature",
        r"la valeur aléatoire est l'aléa de drand \1, ronde \2 (SHA-256 de sa signature)",
    ),
    (
        r"the BLS signature of drand (\S+) round (\d+) verifies against the League of Entropy "
        r"public key of (\S+) \((.*)\)",
        r"la signature BLS de drand \1, ronde \2, est valide pour la clé publique de la League "
        r"of Entropy de \3 (\4)",
    ),
)


def check_name(check: str, lang: str) -> str:
    """A check of ``audit.verify`` in ``lang``."""
    if lang != "fr":
        return check
    if check in CHECKS_FR:
        return CHECKS_FR[check]
    for pattern, replacement in _CHECKS_FR:
        if re.fullmatch(pattern, check):
            return re.sub(pattern, replacement, check)
    return check


# Keyed details of ``VerificationFailed`` in French.
VERIFY_FR: dict[str, str] = {
    "commitment_mismatch": "l'engagement du relevé ({recorded}) n'est pas celui qui a été publié "
    "({published}) : ce relevé n'est pas celui du tirage annoncé (il a été refait, ou ce n'est "
    "pas le bon fichier)",
}


# --- the command line's own reports ---------------------------------------------------------

REPORTS: dict[str, tuple[str, str]] = {
    "selected": (
        "Panel of {k} people selected from {n} volunteers ({algorithm}) in {seconds} s.",
        "Panel de {k} personnes tiré parmi {n} volontaires ({algorithm}) en {seconds} s.",
    ),
    "minimum_exact": (
        "Minimum selection probability: {exact} (exact, from the optimiser)",
        "Probabilité minimale d'être tiré : {exact} (exacte, calculée par l'optimiseur)",
    ),
    "minimum_rounded": (
        "  drawn from a lottery of {size} equally likely panels: minimum {rounded}; rounding "
        "moves no probability by more than {deviation} (tolerance {tolerance}: {verdict})",
        "  tirage dans une loterie de {size} panels équiprobables : minimum {rounded} ; "
        "l'arrondi ne déplace aucune probabilité de plus de {deviation} (tolérance "
        "{tolerance} : {verdict})",
    ),
    "within": ("met", "respectée"),
    "beyond": (
        "NOT met, even by the largest lottery tried",
        "NON respectée, même par la plus grande loterie essayée",
    ),
    "beyond_given": (
        "NOT met at this --lottery-size; without it the size is chosen to meet it",
        "NON respectée avec ce --lottery-size ; sans lui, la taille est choisie pour la respecter",
    ),
    "legacy_minimum": (
        "Minimum selection probability: {estimate} (estimated over {runs} runs of the legacy "
        "method)",
        "Probabilité minimale d'être tiré : {estimate} (estimée sur {runs} tirages de la "
        "méthode historique)",
    ),
    "panel_index": (
        "Panel number {index} of the lottery, chosen by the random value {value}",
        "Panel n° {index} de la loterie, désigné par la valeur aléatoire {value}",
    ),
    "written": ("Written: {files}", "Écrit : {files}"),
    "record_commitment": (
        "Commitment of the record (SHA-256): {sha}",
        "Engagement du relevé (SHA-256) : {sha}",
    ),
    "published_matches": (
        "It is the published commitment.",
        "C'est l'engagement publié.",
    ),
    "published_unknown": (
        "Compare it with the commitment published before the draw (verify --commitment SHA "
        "does so).",
        "Comparez-le à l'engagement publié avant le tirage (verify --commitment SHA le fait).",
    ),
    "failed": ("FAILED: {reason}", "ÉCHEC : {reason}"),
    "ok": ("ok: {check}", "ok : {check}"),
    "verified": ("verified", "vérifié"),
    "verified_commitment_only": (
        "verified (commitment only, not revealed)",
        "vérifié (engagement seulement, pas encore révélé)",
    ),
    "verified_except": (
        "verified, except what is NOT CHECKED above (--require-signature refuses that)",
        "vérifié, sauf ce qui est marqué NOT CHECKED ci-dessus (--require-signature le refuse)",
    ),
    "signature_checked": ("drand signature checked ({how})", "signature drand vérifiée ({how})"),
    "invited": (
        "{invited} invitations drawn ({strata} strata); written: {out}",
        "{invited} invitations tirées ({strata} strates) ; écrit : {out}",
    ),
    "committed": (
        "Commitment written to {record}; publish its SHA-256 before the draw:",
        "Engagement écrit dans {record} ; publiez son SHA-256 avant le tirage :",
    ),
    "file_read": (
        "{file}: {encoding}, separator {delimiter}",
        "{file} : {encoding}, séparateur {delimiter}",
    ),
}


def report(key: str, lang: str, **params: Any) -> str:
    """One line of the command line's report, in ``lang``."""
    english, french = REPORTS[key]
    return (english if lang == "en" else french).format(**params)
