"""The page chrome (headings, navigation, labels) in English and German, and the locale choice.

Only the example's own words live here. What the library writes (explanations, action labels,
reason sentences) comes from the session, which renders it in the locale the session was opened
with; the host chooses that locale once per request, here, and hands it to ``open_session``.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import Request

DEFAULT_LOCALE = "en"
LOCALE_COOKIE = "lang"

CHROME: Mapping[str, Mapping[str, str]] = {
    "en": {
        "title": "Operations",
        "nav.dashboard": "Dashboard",
        "nav.runs": "Operations",
        "nav.actor": "Signed in as",
        "nav.switch": "Switch actor",
        "dashboard.heading": "Needs attention",
        "dashboard.attention": "runs need attention now",
        "dashboard.by_status": "By current actionability",
        "dashboard.by_family": "By family",
        "dashboard.by_environment": "By environment",
        "dashboard.top": "Top runs needing attention",
        "dashboard.nothing": "Nothing needs attention.",
        "dashboard.active": "In progress (not counted as needing attention)",
        "dashboard.queued": "queued",
        "dashboard.running": "running",
        "changes.heading": "Changed since your last visit",
        "changes.first": "Your first visit: from the next one, what changed is listed here.",
        "changes.none": "Nothing changed since your last visit.",
        "changes.more": "More changed than is shown here.",
        "changes.capped": "Your last visit was more than {days} days ago: these are the changes "
        "of the last {days} days.",
        "col.before": "Before",
        "col.after": "Now",
        "col.cause": "Cause",
        "col.when": "When (UTC)",
        "runs.heading": "Operations",
        "runs.view.current_follow_up": "Current follow-up",
        "runs.view.history": "History",
        "runs.view.all": "All runs",
        "runs.next": "Next page",
        "runs.first": "First page",
        "runs.empty": "No runs on this page.",
        "run.heading": "Run",
        "run.history": "Historical record",
        "run.current": "Current actionability",
        "run.proof": "Proof",
        "run.no_proof": "none",
        "run.would_change": "What would change it",
        "run.family": "Family",
        "run.risk": "risk",
        "run.reason": "Reason",
        "run.explanation": "Why",
        "run.context": "Context",
        "run.action_stub": "This example performs no action; a host would now",
        "col.run": "Run",
        "col.type": "Type",
        "col.scope": "Scope",
        "col.created": "Created (UTC)",
        "col.started": "Started (UTC)",
        "col.completed": "Completed (UTC)",
        "col.historical": "Historical status",
        "col.current": "Current actionability",
        "col.action": "Primary action",
        "col.count": "Runs",
        "col.attention": "Need attention",
        "col.status": "Status",
        "col.outcome": "Outcome",
        "col.name": "Name",
        "proof.run": "later successful run",
        "proof.state": "current state",
        "proof.proven": "proven",
        "login.heading": "Sign in (stub)",
        "login.sees": "sees",
        "login.every": "every workspace",
        "login.submit": "Sign in",
        "not_found.heading": "Not found",
        "not_found.body": "There is no such run.",
        "as_of": "as of",
        "language": "Language",
    },
    "de": {
        "title": "Betrieb",
        "nav.dashboard": "Übersicht",
        "nav.runs": "Vorgänge",
        "nav.actor": "Angemeldet als",
        "nav.switch": "Benutzer wechseln",
        "dashboard.heading": "Handlungsbedarf",
        "dashboard.attention": "Läufe brauchen jetzt Aufmerksamkeit",
        "dashboard.by_status": "Nach aktuellem Handlungsbedarf",
        "dashboard.by_family": "Nach Familie",
        "dashboard.by_environment": "Nach Umgebung",
        "dashboard.top": "Wichtigste Läufe mit Handlungsbedarf",
        "dashboard.nothing": "Nichts braucht Aufmerksamkeit.",
        "dashboard.active": "In Arbeit (zählt nicht als Handlungsbedarf)",
        "dashboard.queued": "wartend",
        "dashboard.running": "laufend",
        "changes.heading": "Geändert seit Ihrem letzten Besuch",
        "changes.first": "Ihr erster Besuch: ab dem nächsten steht hier, was sich geändert hat.",
        "changes.none": "Seit Ihrem letzten Besuch hat sich nichts geändert.",
        "changes.more": "Es hat sich mehr geändert, als hier steht.",
        "changes.capped": "Ihr letzter Besuch liegt mehr als {days} Tage zurück: hier stehen "
        "die Änderungen der letzten {days} Tage.",
        "col.before": "Vorher",
        "col.after": "Jetzt",
        "col.cause": "Ursache",
        "col.when": "Wann (UTC)",
        "runs.heading": "Vorgänge",
        "runs.view.current_follow_up": "Aktuelle Nacharbeit",
        "runs.view.history": "Verlauf",
        "runs.view.all": "Alle Läufe",
        "runs.next": "Nächste Seite",
        "runs.first": "Erste Seite",
        "runs.empty": "Keine Läufe auf dieser Seite.",
        "run.heading": "Lauf",
        "run.history": "Historischer Eintrag",
        "run.current": "Aktueller Handlungsbedarf",
        "run.proof": "Nachweis",
        "run.no_proof": "keiner",
        "run.would_change": "Was es ändern würde",
        "run.family": "Familie",
        "run.risk": "Risiko",
        "run.reason": "Grund",
        "run.explanation": "Warum",
        "run.context": "Kontext",
        "run.action_stub": "Dieses Beispiel führt keine Aktion aus; ein Host würde jetzt",
        "col.run": "Lauf",
        "col.type": "Typ",
        "col.scope": "Bereich",
        "col.created": "Erstellt (UTC)",
        "col.started": "Gestartet (UTC)",
        "col.completed": "Beendet (UTC)",
        "col.historical": "Historischer Status",
        "col.current": "Aktueller Handlungsbedarf",
        "col.action": "Hauptaktion",
        "col.count": "Läufe",
        "col.attention": "Mit Handlungsbedarf",
        "col.status": "Status",
        "col.outcome": "Ergebnis",
        "col.name": "Name",
        "proof.run": "späterer erfolgreicher Lauf",
        "proof.state": "aktueller Zustand",
        "proof.proven": "nachgewiesen",
        "login.heading": "Anmelden (Platzhalter)",
        "login.sees": "sieht",
        "login.every": "alle Arbeitsbereiche",
        "login.submit": "Anmelden",
        "not_found.heading": "Nicht gefunden",
        "not_found.body": "Diesen Lauf gibt es nicht.",
        "as_of": "Stand",
        "language": "Sprache",
    },
}


def choose_locale(request: Request) -> str:
    """``?lang=``, else the cookie an earlier ``?lang=`` set, else Accept-Language, else English."""
    for candidate in (request.query_params.get("lang"), request.cookies.get(LOCALE_COOKIE)):
        if candidate is not None and candidate in CHROME:
            return candidate
    return _accepted(request.headers.get("accept-language", ""))


def _accepted(header: str) -> str:
    # "de-AT,de;q=0.9,en;q=0.8": the best-weighted language the table has, by primary subtag.
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        weighted.append((-quality, position, tag.split("-")[0].lower()))
    for negative_quality, _, language in sorted(weighted):
        if negative_quality < 0 and language in CHROME:
            return language
    return DEFAULT_LOCALE
