"""Texts the participants and facilitators see (German default, English with ``lang="en"``)."""

from __future__ import annotations

from typing import Any

__all__ = ["t"]

_TEXTS: dict[str, dict[str, str]] = {
    "language": {"de": "Sprache", "en": "Language"},
    "authority": {"de": "Ihre Behörde", "en": "Your authority"},
    "authority_pick": {"de": "Bitte wählen Sie Ihre Behörde", "en": "Please choose your authority"},
    "code_title": {"de": "Ihr persönlicher Code", "en": "Your personal code"},
    "questions_of": {"de": "Frage {i} von {n}", "en": "Question {i} of {n}"},
    "required_mark": {"de": "Pflichtangabe", "en": "required"},
    "optional": {"de": "freiwillig", "en": "optional"},
    "cannot_judge_hint": {"de": "Wenn Sie etwas nicht beurteilen können, wählen Sie „{label}“.", "en": "If you cannot judge something, choose “{label}”."},
    "level_pick": {"de": "bitte Stufe wählen", "en": "please choose a level"},
    "level_unset": {"de": "–", "en": "–"},
    "page_of": {"de": "Teil {i} von {n}", "en": "Part {i} of {n}"},
    "back": {"de": "Zurück", "en": "Back"},
    "next": {"de": "Weiter", "en": "Next"},
    "submit": {"de": "Antworten absenden", "en": "Submit answers"},
    "submitting": {"de": "Wird gespeichert …", "en": "Saving …"},
    "open_count": {"de": "Noch {n} Pflichtangaben offen", "en": "{n} required answers still open"},
    "open_count_one": {"de": "Noch 1 Pflichtangabe offen", "en": "1 required answer still open"},
    "all_done": {"de": "Alle Pflichtangaben sind beantwortet. Sie können absenden.", "en": "All required answers are given. You can submit."},
    "problems_title": {"de": "Bitte ergänzen Sie noch:", "en": "Please complete:"},
    "missing_code": {"de": "Code: {prompt}", "en": "Code: {prompt}"},
    "bad_day": {"de": "Code: Der Tag muss eine Zahl von 1 bis 31 sein", "en": "Code: the day must be a number from 1 to 31"},
    "too_long_code": {"de": "Code: {prompt} – höchstens {n} Zeichen", "en": "Code: {prompt} – at most {n} characters"},
    "too_long_text": {"de": "Frage {i}: Ihr Text hat {n} Zeichen, erlaubt sind {max}. Bitte kürzen Sie ihn.", "en": "Question {i}: your text has {n} characters, {max} are allowed. Please shorten it."},
    "too_long_free": {"de": "Weitere Gruppe {i}: {n} Zeichen, erlaubt sind {max}", "en": "Further group {i}: {n} characters, {max} are allowed"},
    "chars": {"de": "{n} von {max} Zeichen", "en": "{n} of {max} characters"},
    "chars_over": {"de": "{n} von {max} Zeichen – bitte kürzen", "en": "{n} of {max} characters – please shorten"},
    "missing_authority": {"de": "Ihre Behörde", "en": "Your authority"},
    "missing_item": {"de": "Frage {i}: {text}", "en": "Question {i}: {text}"},
    "missing_rating": {"de": "{stakeholder}: {role}", "en": "{stakeholder}: {role}"},
    "missing_stakeholder": {"de": "Mindestens eine Stakeholder-Gruppe einschätzen", "en": "Assess at least one stakeholder group"},
    "duplicate_free": {"de": "Die Gruppe „{name}“ steht doppelt in der Liste", "en": "The group “{name}” is listed twice"},
    "more": {"de": "… und {n} weitere", "en": "… and {n} more"},
    "thanks": {"de": "Vielen Dank! Ihre Antworten sind gespeichert.", "en": "Thank you! Your answers have been saved."},
    "thanks_kiosk": {
        "de": "Vielen Dank! Ihre Antworten sind gespeichert. Das Formular ist jetzt leer für die nächste Person.",
        "en": "Thank you! Your answers have been saved. The form is now empty for the next person.",
    },
    "thanks_correct": {
        "de": "Wenn Sie noch etwas ändern, können Sie erneut absenden; dann zählt Ihre letzte Antwort.",
        "en": "If you change something, you can submit again; your latest answers then count.",
    },
    "save_failed": {"de": "Speichern hat nicht geklappt: {reason}", "en": "Saving did not work: {reason}"},
    "busy": {"de": "Der Server ist gerade ausgelastet. Bitte in ein paar Sekunden erneut absenden.", "en": "The server is busy. Please submit again in a few seconds."},
    "show_profile": {"de": "Mein Profil im Vergleich zur Gruppe anzeigen", "en": "Show my profile next to the group"},
    "profile_own": {"de": "Ich", "en": "Me"},
    "profile_group": {"de": "Gruppe", "en": "Group"},
    "group_too_small": {
        "de": "Die Gruppe ist noch zu klein ({n} von mindestens {k} Antworten). Damit niemand erkennbar ist, zeigen wir den Gruppenwert erst ab {k} Antworten.",
        "en": "The group is still too small ({n} of at least {k} responses). So that nobody can be recognised, the group value is shown from {k} responses on.",
    },
    "no_profile": {"de": "Für diesen Fragebogen gibt es kein Profil.", "en": "This questionnaire has no profile."},
    "stakeholder_select": {"de": "Welche Gruppen möchten Sie einschätzen?", "en": "Which groups would you like to assess?"},
    "stakeholder_select_help": {
        "de": "Setzen Sie ein Häkchen bei den Gruppen, die für Ihr Vorhaben eine Rolle spielen und die Sie einschätzen können.",
        "en": "Tick the groups that play a role in your project and that you can assess.",
    },
    "free_entry": {"de": "Weitere Gruppe {i} (freiwillig)", "en": "Further group {i} (optional)"},
    "free_placeholder": {"de": "z. B. Landesbehörden", "en": "e.g. state authorities"},
    "rate_groups": {"de": "Ihre Einschätzung je Gruppe", "en": "Your assessment per group"},
    "group_done": {"de": "vollständig", "en": "complete"},
    "group_open": {"de": "{n} offen", "en": "{n} open"},
    "kiosk_badge": {"de": "Gemeinsames Gerät: Das Formular wird nach dem Absenden geleert.", "en": "Shared device: the form is cleared after submitting."},
    # joining and connection (workshop server)
    "join_title": {"de": "Teilnehmen", "en": "Join"},
    "join_prompt": {"de": "Bitte geben Sie den Teilnahme-Code ein, der in der Präsentation angezeigt wird.", "en": "Please enter the join code shown in the presentation."},
    "join_button": {"de": "Teilnehmen", "en": "Join"},
    "join_wrong": {"de": "Dieser Code stimmt nicht. Bitte prüfen Sie ihn und versuchen Sie es erneut.", "en": "This code is not right. Please check it and try again."},
    "join_locked": {"de": "Zu viele Versuche. Bitte warten Sie eine Minute.", "en": "Too many attempts. Please wait a minute."},
    "offline": {
        "de": "Keine Verbindung zum Server. Ihre Antworten bleiben erhalten; die Seite verbindet sich von selbst neu.",
        "en": "No connection to the server. Your answers are kept; the page reconnects by itself.",
    },
    "reload_needed": {
        "de": "Die Verbindung wurde neu aufgebaut. Die Seite wird neu geladen; Ihre Antworten bleiben erhalten.",
        "en": "The connection was re-established. The page reloads; your answers are kept.",
    },
    "restored": {"de": "Ihre bisherigen Antworten wurden wiederhergestellt.", "en": "Your answers so far have been restored."},
    # presenter view
    "pres_join": {"de": "Teilnehmen unter", "en": "Join at"},
    "pres_code": {"de": "Teilnahme-Code", "en": "Join code"},
    "measure_title": {"de": "Vereinbarte Maßnahmen", "en": "Agreed measures"},
    "measure_field": {"de": "Bereich", "en": "Field"},
    "measure_field_all": {"de": "allgemein", "en": "general"},
    "measure_what": {"de": "Was?", "en": "What?"},
    "measure_who": {"de": "Wer?", "en": "Who?"},
    "measure_due": {"de": "Bis wann?", "en": "By when?"},
    "measure_add": {"de": "Maßnahme festhalten", "en": "Record measure"},
    "measure_saved": {"de": "Maßnahme Nr. {id} gespeichert.", "en": "Measure no. {id} saved."},
    "measure_none": {"de": "Noch keine Maßnahmen festgehalten.", "en": "No measures recorded yet."},
    # dashboard
    "dash_title": {"de": "Live-Auswertung", "en": "Live results"},
    "dash_count": {"de": "{n} Antworten", "en": "{n} responses"},
    "dash_threshold": {"de": "Ergebnisse erscheinen ab {k} Antworten (Datenschutz).", "en": "Results appear from {k} responses on (privacy)."},
    "dash_waiting": {"de": "Noch {m} Antworten bis zur Anzeige.", "en": "{m} more responses until results are shown."},
    "dash_pause": {"de": "Pause", "en": "Pause"},
    "dash_resume": {"de": "Fortsetzen", "en": "Resume"},
    "dash_freeze": {"de": "Ergebnis festhalten", "en": "Freeze result"},
    "dash_frozen": {"de": "Ergebnis festgehalten (Nr. {id}, {n} Antworten).", "en": "Result frozen (no. {id}, {n} responses)."},
    "dash_nothing": {"de": "Noch nichts festzuhalten: zu wenige Antworten.", "en": "Nothing to freeze yet: too few responses."},
    "dash_updated": {"de": "aktualisiert {time}", "en": "updated {time}"},
    "dash_paused": {"de": "pausiert", "en": "paused"},
    "dash_profile": {"de": "Kompetenzprofil der Gruppe", "en": "Group competence profile"},
    "dash_gaps": {"de": "Ist, Soll und Entwicklungsbedarf", "en": "Current, required level and needs"},
    "dash_stakeholders": {"de": "Stakeholder-Landkarte", "en": "Stakeholder map"},
    "dash_readiness": {"de": "Startklarheit je Bereich", "en": "Readiness per area"},
    "dash_hidden_groups": {
        "de": "{n} weitere Gruppen haben zu wenige Einschätzungen und werden nicht gezeigt.",
        "en": "{n} further groups have too few assessments and are not shown.",
    },
    "dash_hidden_group_one": {
        "de": "1 weitere Gruppe hat zu wenige Einschätzungen und wird nicht gezeigt.",
        "en": "1 further group has too few assessments and is not shown.",
    },
    "dash_authority": {"de": "Behörde", "en": "Authority"},
    "dash_all": {"de": "alle", "en": "all"},
    "col_dimension": {"de": "Bereich", "en": "Area"},
    "col_n": {"de": "n", "en": "n"},
    "col_mean": {"de": "Mittelwert", "en": "Mean"},
    "col_ist": {"de": "Ist", "en": "Current"},
    "col_soll": {"de": "Soll", "en": "Required"},
    "col_gap": {"de": "Lücke", "en": "Gap"},
    "col_needs": {"de": "Bedarf", "en": "Needs"},
    "col_stakeholder": {"de": "Gruppe", "en": "Group"},
    "col_raters": {"de": "Einschätzungen", "en": "Raters"},
    "col_influence": {"de": "Einfluss", "en": "Influence"},
    "col_interest": {"de": "Interesse", "en": "Interest"},
    "col_attitude": {"de": "Haltung", "en": "Attitude"},
    "col_spread": {"de": "Streuung (IQR)", "en": "Spread (IQR)"},
    "col_flag": {"de": "Uneinig?", "en": "Disagreement?"},
    "col_strategy": {"de": "Strategie", "en": "Strategy"},
    "yes": {"de": "ja", "en": "yes"},
    "no": {"de": "nein", "en": "no"},
}


def t(key: str, lang: str = "de", **fmt: Any) -> str:
    """A UI text in ``lang`` with ``str.format`` fields filled.

    Example
    -------
    >>> t("dash_count", "en", n=3)
    '3 responses'
    """
    entry = _TEXTS[key]
    text = entry.get(lang) or entry["de"]
    return text.format(**fmt) if fmt else text
