"""Report wording in German (default) and English.

Example
-------
>>> tr("participation", "de")
'Beteiligung'
>>> tr("threshold_text", "en", k=5)
'5 (values from fewer responses are not shown)'
"""

from __future__ import annotations

from typing import Any

__all__ = ["tr", "TEXTS"]

TEXTS: dict[str, tuple[str, str]] = {
    # cover
    "authority_report_title": ("Bericht zur Kompetenzreflexion und Projektsituation", "Report on competence reflection and project situation"),
    "cohort_report_title": ("Kohortenbericht für die Programmkoordination", "Cohort report for programme coordination"),
    "authority": ("Behörde", "Authority"),
    "ministry": ("Ressort", "Ministry"),
    "cohort": ("Kohorte", "Cohort"),
    "waves": ("Befragungswellen", "Survey waves"),
    "participants_per_wave": ("Teilnehmende je Welle (Kompetenzreflexion)", "Participants per wave (competence reflection)"),
    "data_date": ("Datenstand", "Data as of"),
    "generated": ("Erstellt am", "Generated on"),
    "threshold": ("Mindestgruppengröße", "Minimum group size"),
    "threshold_text": ("{k} (Werte aus weniger Antworten werden nicht angezeigt)", "{k} (values from fewer responses are not shown)"),
    "instruments": ("Eingesetzte Instrumente", "Instruments used"),
    "instrument": ("Instrument", "Instrument"),
    "version": ("Version", "Version"),
    "hash": ("Prüfsumme", "Hash"),
    "reading_guide": (
        "Der Bericht fasst die Selbsteinschätzungen der Teilnehmenden Ihrer Behörde zusammen und stellt sie dem Ressort und der "
        "gesamten Kohorte gegenüber. Alle Angaben sind pseudonym; Gruppen mit zu wenigen Antworten werden nicht dargestellt.",
        "This report summarises the self-assessments of your authority's participants and compares them with the ministry and "
        "the whole cohort. All data are pseudonymous; groups with too few responses are not shown.",
    ),
    # sections
    "participation": ("Beteiligung", "Participation"),
    "profile": ("Kompetenzprofil", "Competence profile"),
    "needs": ("Ist, Soll und Entwicklungsbedarf", "Current and required level, development needs"),
    "items": ("Antworten im Einzelnen", "Item distributions"),
    "change": ("Veränderung über die Wellen", "Change across waves"),
    "stakeholders": ("Stakeholder-Analyse", "Stakeholder analysis"),
    "readiness": ("Reality-Check: Projektreife", "Reality check: project readiness"),
    "texts": ("Freitextantworten", "Free-text answers"),
    "texts_intro": (
        "Antworten auf die offenen Fragen der letzten Welle, alphabetisch sortiert und unverändert wiedergegeben; "
        "sie erscheinen nur, wenn mindestens {k} Personen der Behörde in dieser Welle geantwortet haben.",
        "Answers to the open questions of the latest wave, sorted alphabetically and shown as written; "
        "they appear only when at least {k} people of the authority answered in that wave.",
    ),
    "no_texts": ("Es liegen keine Freitextantworten vor.", "There are no free-text answers."),
    "methods": ("Methodischer Anhang", "Methods appendix"),
    "heatmap": ("Kompetenzen nach Behörde", "Competences by authority"),
    "ministries": ("Ressortvergleich", "Ministry comparison"),
    "reliability": ("Reliabilität der Skalen", "Scale reliability"),
    "stakeholder_patterns": ("Stakeholder-Muster über die Behörden", "Stakeholder patterns across authorities"),
    "participants_by_wave": ("Teilnehmende nach Instrument und Welle", "Participants by instrument and wave"),
    "linked_people": ("Personen in beiden Wellen", "People in both waves"),
    "linked_caption": ("Über die Wellen verknüpfte Teilnehmende (pseudonyme Codes)", "Participants linked across waves (pseudonymous codes)"),
    "no_data": ("Für diesen Abschnitt liegen keine Antworten vor.", "There are no responses for this section."),
    # profile
    "dimension": ("Kompetenzfeld", "Dimension"),
    "area": ("Bereich", "Area"),
    "mean_ci": ("Mittelwert [95 %-KI]", "Mean [95 % CI]"),
    "percentile": ("Perzentilrang unter den Behörden", "Percentile rank among authorities"),
    "profile_intro": (
        "Mittelwerte der Selbsteinschätzung (1 = trifft gar nicht zu … 5 = trifft voll zu) in Welle {wave}: Ihre Behörde "
        "(n = {n}) im Vergleich mit dem Ressort und der gesamten Kohorte.",
        "Mean self-assessment (1 = strongly disagree … 5 = strongly agree) in wave {wave}: your authority (n = {n}) "
        "compared with the ministry and the whole cohort.",
    ),
    "profile_caption": ("Kompetenzprofil in Welle {wave}", "Competence profile in wave {wave}"),
    # needs
    "needs_intro": (
        "Ist = aktueller, Soll = für das Vorhaben erforderlicher Stand (je 1–5); Lücke = Soll − Ist; "
        "Bedarfsindex = Wichtigkeit × positive Lücke. Rang 1 = größter Entwicklungsbedarf (Welle {wave}, n = {n}).",
        "Current and required level (1–5 each); gap = required − current; needs index = importance × positive gap. "
        "Rank 1 = largest development need (wave {wave}, n = {n}).",
    ),
    "rank": ("Rang", "Rank"),
    "ist": ("Ist", "Current"),
    "soll": ("Soll", "Required"),
    "gap": ("Lücke", "Gap"),
    "importance": ("Wichtigkeit", "Importance"),
    "needs_index": ("Bedarfsindex", "Needs index"),
    "needs_caption": ("Entwicklungsbedarf nach Kompetenzfeld (Welle {wave})", "Development needs by dimension (wave {wave})"),
    "items_intro": ("Verteilung der Antworten je Aussage in Welle {wave} (n = {n}); umgepolte Aussagen sind so dargestellt, wie sie gefragt wurden.",
                    "Distribution of answers per statement in wave {wave} (n = {n}); reverse-keyed statements are shown as asked."),
    "items_caption": ("Antwortverteilung je Aussage (Welle {wave})", "Answer distribution per statement (wave {wave})"),
    # change
    "change_intro": (
        "Veränderung derselben Personen zwischen zwei Wellen (verknüpft über die pseudonymen Codes). Als „deutliche Verbesserung“ "
        "gilt eine Veränderung nur, wenn das 95 %-Konfidenzintervall ganz über null liegt, der Holm-korrigierte p-Wert unter 0,05 "
        "liegt und die Effektstärke mindestens mittel ist (d_z ≥ 0,5).",
        "Change of the same people between two waves (linked through their pseudonymous codes). A change counts as a "
        "\"clear improvement\" only if the 95 % confidence interval lies entirely above zero, the Holm-adjusted p-value is "
        "below 0.05 and the effect is at least medium (d_z ≥ 0.5).",
    ),
    "pairs": ("Paare", "Pairs"),
    "before": ("vorher", "before"),
    "after": ("nachher", "after"),
    "diff_ci": ("Differenz [95 %-KI]", "Difference [95 % CI]"),
    "p_holm": ("p (Holm)", "p (Holm)"),
    "assessment": ("Einschätzung", "Assessment"),
    "change_caption": ("Mittelwerte je Welle mit 95 %-Konfidenzintervall", "Means per wave with 95 % confidence interval"),
    "change_table": ("Veränderung {a} → {b}", "Change {a} → {b}"),
    "clear_up": ("deutliche Verbesserung", "clear improvement"),
    "up": ("Verbesserung (gering, aber gesichert)", "improvement (small but supported)"),
    "clear_down": ("deutliche Verschlechterung", "clear decline"),
    "down": ("Verschlechterung (gering, aber gesichert)", "decline (small but supported)"),
    "no_change": ("keine gesicherte Veränderung", "no supported change"),
    "too_few_pairs": ("zu wenige Paare", "too few pairs"),
    "one_wave": ("Bisher liegt nur eine Welle vor; Veränderungen können erst nach der nächsten Befragung berichtet werden.",
                 "Only one wave so far; change can be reported after the next survey."),
    # stakeholders
    "stakeholder": ("Stakeholder", "Stakeholder"),
    "strategy": ("Empfohlene Strategie", "Recommended strategy"),
    "influence": ("Einfluss", "Influence"),
    "interest": ("Interesse", "Interest"),
    "attitude": ("Haltung (Spanne)", "Attitude (range)"),
    "engagement": ("Einbindung Ist → Soll", "Engagement current → desired"),
    "disagreement": ("Uneinigkeit im Team", "Disagreement in the team"),
    "stakeholder_intro": (
        "Einschätzungen von {n} Personen aus dem Projektteam (Welle {wave}); Werte sind Mediane über die Einschätzenden. "
        "Markiert sind Gruppen, bei denen das Team uneinig ist: Dort lohnt ein Gespräch, bevor gehandelt wird.",
        "Ratings by {n} members of the project team (wave {wave}); values are medians across raters. Groups on which the "
        "team disagrees are flagged: talk about them before acting.",
    ),
    "stakeholder_caption": ("Einfluss-Interesse-Matrix (Mendelow)", "Power-interest grid (Mendelow)"),
    "free_entry": ("eigene Ergänzung", "own entry"),
    "priority_list": ("Stakeholder nach Priorität", "Stakeholders by priority"),
    # readiness
    "readiness_intro": ("Anteil der erfüllten Punkte je Bereich (ja = 1, teilweise = ½, nein = 0), gemittelt über {n} Antwortende (Welle {wave}).",
                        "Share of points fulfilled per area (yes = 1, partly = ½, no = 0), averaged over {n} respondents (wave {wave})."),
    "readiness_share": ("erfüllt", "fulfilled"),
    "overall": ("Gesamt", "Overall"),
    # methods
    "reliability_intro": ("Cronbachs α mit 95 %-Konfidenzintervall (Feldt) und McDonalds ω (gesamt), berechnet über die gesamte Kohorte in Welle {wave}.",
                          "Cronbach's α with 95 % confidence interval (Feldt) and McDonald's ω (total), computed over the whole cohort in wave {wave}."),
    "items_n": ("Items", "Items"),
    "methods_scores": (
        "Skalenwerte: Mittelwert der gültigen Aussagen eines Kompetenzfelds; umgepolte Aussagen gehen als (Minimum + Maximum) − Wert ein; "
        "„kann ich nicht beurteilen“ zählt als fehlend; ein Skalenwert braucht die im Instrument festgelegte Mindestzahl gültiger Aussagen.",
        "Scale scores: mean of the valid statements of a dimension; reverse-keyed statements enter as (minimum + maximum) − value; "
        "\"cannot judge\" counts as missing; a score needs the minimum number of valid statements set in the instrument.",
    ),
    "methods_change": (
        "Veränderung: gepaarter t-Test mit 95 %-Konfidenzintervall der mittleren Differenz und Effektstärke d_z; zusätzlich "
        "Wilcoxon-Vorzeichen-Rang-Test mit Rangbiserial-Korrelation r; p-Werte Holm-korrigiert über die Kompetenzfelder.",
        "Change: paired t-test with a 95 % confidence interval of the mean difference and effect size d_z; additionally the "
        "Wilcoxon signed-rank test with rank-biserial correlation r; p-values Holm-adjusted across dimensions.",
    ),
    "methods_stakeholders": (
        "Stakeholder: Mediane und Quartilsabstände über die Einschätzenden; Einigkeit als r_wg; Quadrant nach Mendelow "
        "(Einfluss × Interesse), Salienz nach Mitchell, Agle & Wood; Einbindungslücke = gewünschte − aktuelle Einbindung.",
        "Stakeholders: medians and interquartile ranges across raters; agreement as r_wg; quadrant after Mendelow "
        "(influence × interest), salience after Mitchell, Agle & Wood; engagement gap = desired − current engagement.",
    ),
    "methods_privacy": (
        "Datenschutz: Teilnehmende sind nur über selbst erzeugte, verschlüsselt gespeicherte Codes bekannt. Jeder gezeigte Wert "
        "stammt aus mindestens {k} Personen, auch die Antwortverteilung einer einzelnen Aussage. Ressort- und Kohortenwerte neben "
        "einer Behörde werden nur über die Behörden berechnet, die selbst gezeigt werden (ohne Behörden unter {k}); so lässt sich "
        "keine kleine Behörde herausrechnen. Veränderungen erscheinen ab {k} Paaren (Personen mit Antworten in beiden Wellen), "
        "außer wenn sie zusammen mit den Wellenwerten die Werte von weniger als {k} Personen verraten würden; die Vorher- und "
        "Nachher-Mittelwerte der Paare erscheinen nur, wenn auch das ausgeschlossen ist. Ränge und Perzentile werden nur über "
        "gezeigte Werte gebildet. Freitexte erscheinen nur für Gruppen ab {k} Antwortenden. Jeder verborgene Wert nennt seinen "
        "Grund. Vor dem Versand werden alle Berichte der Kohorte gemeinsam geprüft: Keine Kombination gezeigter Werte ergibt "
        "eine Gruppe von weniger als {k} Personen.",
        "Privacy: participants are known only by self-generated codes stored as keyed hashes. Every value shown comes from at "
        "least {k} people, the answer distribution of a single statement included. Ministry and cohort values beside an "
        "authority are computed over the authorities that are shown themselves (without authorities below {k}), so no small "
        "authority can be subtracted out. Change is shown from {k} pairs (people who answered both waves) unless, together "
        "with the wave values, it would reveal the values of fewer than {k} people; the pairs' before and after means appear "
        "only where that is ruled out too. Ranks and percentiles are formed over shown values only. Free text appears only "
        "for groups of at least {k} respondents. Every hidden value states its reason. Before sending, all reports of the "
        "cohort are checked together: no combination of shown values yields a group of fewer than {k} people.",
    ),
    "group_ministry_shown": ("Ressort, ohne Behörden unter {k}", "Ministry, without authorities below {k}"),
    "group_cohort_shown": ("Kohorte, ohne Behörden unter {k}", "Cohort, without authorities below {k}"),
    "hidden_because": ("Nicht gezeigt", "Not shown"),
    "below_k_authorities": ("Behörden unter {k} Antworten (ohne Werte, nicht in den Vergleichswerten)",
                            "Authorities below {k} responses (no values, not in the comparison values)"),
    "rater_reliability": ("Übereinstimmung der Einschätzenden (ICC(2,1), ICC(2,k), Krippendorffs α)", "Rater agreement (ICC(2,1), ICC(2,k), Krippendorff's α)"),
    "role": ("Merkmal", "Rating"),
    "raters": ("Einschätzende", "Raters"),
    "stakeholders_n": ("Stakeholder", "Stakeholders"),
    "footer": ("Erstellt mit upo-toolkit {version} · {cohort} · Mindestgruppengröße {k}",
               "Generated with upo-toolkit {version} · {cohort} · minimum group size {k}"),
    # index key figures
    "headline_score": ("Kompetenz Ø", "Competence mean"),
    "headline_need": ("Größter Bedarf", "Largest need"),
    "group_authority": ("Behörde", "Authority"),
    "group_ministry": ("Ressort", "Ministry"),
    "group_cohort": ("Kohorte", "Cohort"),
}


def tr(key: str, lang: str = "de", **kw: Any) -> str:
    """The text ``key`` in ``lang`` (German by default), formatted with ``kw``."""
    de, en = TEXTS[key]
    text = en if lang == "en" else de
    return text.format(**kw) if kw else text
