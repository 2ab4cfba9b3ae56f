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
    # summary (first page) and next steps
    "summary": ("Auf einen Blick", "At a glance"),
    "about_report": ("Angaben zum Bericht", "About this report"),
    "sum_participants": ("Teilnehmende an der Kompetenzreflexion je Welle", "Participants in the competence reflection per wave"),
    "sum_strengths": ("Drei Stärken (Welle {wave})", "Three strengths (wave {wave})"),
    "sum_needs": ("Drei größte Entwicklungsbedarfe (Welle {wave})", "Three largest development needs (wave {wave})"),
    "sum_none": ("Keine Werte freigegeben.", "No values released."),
    "sum_no_needs": ("Kein Kompetenzfeld zeigt einen Entwicklungsbedarf (Soll nicht über Ist).",
                     "No dimension shows a development need (required level not above current level)."),
    "sum_scale": ("Mittelwert der Selbsteinschätzung, 1 = trifft gar nicht zu … 5 = trifft voll zu",
                  "Mean self-assessment, 1 = strongly disagree … 5 = strongly agree"),
    "reality_check": ("Reality-Check", "Reality check"),
    "open_points_rc": ("Offene Punkte im Reality-Check", "Open points in the reality check"),
    "open_point_line": ("„{text}“ ({n} von {of} Antworten nein oder teilweise)", "\"{text}\" ({n} of {of} answers no or partly)"),
    "sum_change": ("Was sich verändert hat", "What has changed"),
    "sum_change_hidden": ("Zu wenige Personen haben an beiden Wellen teilgenommen (weniger als {k} Paare), um Veränderungen anonym darzustellen.",
                          "Too few people took part in both waves (fewer than {k} pairs) to show change anonymously."),
    "sum_no_certain": ("Keine gesicherte Veränderung.", "No certain change."),
    "sum_uncertain": ("Nicht gesichert", "Not certain"),
    "sum_uncertain_n": ("In den übrigen {n} Feldern keine gesicherte Veränderung (Einzelheiten im Abschnitt „Veränderung über die Wellen“).",
                        "No certain change in the other {n} fields (details in the section \"Change across waves\")."),
    "sum_open_points": ("Reality-Check: „{text}“ ist offen ({n} von {of} Antworten nein oder teilweise).",
                        "Reality check: \"{text}\" is open ({n} of {of} answers no or partly)."),
    "sum_agree": ("Im Workshop Maßnahmen zu den größten Bedarfen vereinbaren und festhalten (Abschnitt „Nächste Schritte“).",
                  "Agree measures for the largest needs in the workshop and record them (section \"Next steps\")."),
    "next_steps": ("Nächste Schritte", "Next steps"),
    "next_steps_intro": (
        "Für die drei größten Entwicklungsbedarfe: Vorschläge, welche Art von Maßnahme helfen kann (aus dem Instrument), und "
        "die Maßnahmen, die Ihre Behörde vereinbart hat. Bei der nächsten Welle zeigt der Bericht sie neben der Veränderung im Feld.",
        "For the three largest development needs: suggestions for the kind of measure that can help (from the instrument), and "
        "the measures your authority agreed on. At the next wave the report shows them next to the change in the field.",
    ),
    "suggested_measures": ("Mögliche Maßnahmen", "Possible measures"),
    "agreed_measures": ("Vereinbarte Maßnahmen", "Agreed measures"),
    "no_measures_yet": ("Noch keine Maßnahmen festgehalten.", "No measures recorded yet."),
    "change_since": ("Veränderung seit {wave}", "change since {wave}"),
    "next_steps_small": ("Nächste Schritte werden aus den Bedarfen Ihrer Behörde abgeleitet; diese können erst ab der Mindestgruppengröße "
                         "gezeigt werden (siehe „Auf einen Blick“).",
                         "Next steps are derived from your authority's needs, which can only be shown from the minimum group size "
                         "(see \"At a glance\")."),
    "small_why": (
        "Aus Ihrer Behörde haben höchstens {n} Personen an der Kompetenzreflexion teilgenommen. Damit niemand aus den Ergebnissen auf einzelne Personen "
        "schließen kann, zeigt der Bericht Werte nur, wenn mindestens {k} Personen geantwortet haben. Deshalb sehen Sie hier "
        "die Beteiligung und das Profil der gesamten Kohorte als Vergleich, aber keine Kompetenzwerte Ihrer Behörde.",
        "At most {n} people from your authority took part in the competence reflection. So that no one can infer individual answers from the results, the "
        "report shows values only when at least {k} people answered. You therefore see participation and the whole cohort's "
        "profile for reference here, but no competence values of your authority.",
    ),
    "small_reference": ("Referenzprofil der Kohorte (Welle {wave})", "The cohort's reference profile (wave {wave})"),
    "small_reference_intro": ("Mittelwerte aller teilnehmenden Behörden (1 = trifft gar nicht zu … 5 = trifft voll zu); "
                              "Ihr Team kann sich im Workshop daran einordnen.",
                              "Means of all participating authorities (1 = strongly disagree … 5 = strongly agree); "
                              "your team can place itself against them in the workshop."),
    "small_what": ("Was Sie tun können", "What you can do"),
    "small_steps": (
        "Bei der nächsten Welle mehr Beschäftigte zur Teilnahme einladen (mindestens {k} Antworten).\n"
        "Sich mit einer benachbarten oder fachlich verwandten Behörde zusammenschließen und gemeinsam auswerten lassen.\n"
        "Das Referenzprofil der Kohorte im Workshop als Gesprächsgrundlage nutzen und Maßnahmen gemeinsam festhalten.",
        "Invite more staff to take part in the next wave (at least {k} answers).\n"
        "Join with a neighbouring or related authority and have the results evaluated together.\n"
        "Use the cohort's reference profile as a basis for discussion in the workshop and record measures together.",
    ),
    # cohort summary and overviews
    "csum_authorities": ("{a} Behörden aus {m} Ressorts", "{a} authorities from {m} ministries"),
    "csum_small": ("Unter der Mindestgruppengröße {k} in Welle {wave} ({n} Behörden, Werte nicht gezeigt)",
                   "Below the minimum group size {k} in wave {wave} ({n} authorities, values not shown)"),
    "csum_stands": ("Wo die Kohorte steht (Welle {wave})", "Where the cohort stands (wave {wave})"),
    "csum_high": ("Am stärksten", "Strongest"),
    "csum_low": ("Am schwächsten", "Weakest"),
    "csum_moved": ("Welche Felder sich bewegt haben", "Which fields moved"),
    "csum_needs": ("Größte Entwicklungsbedarfe (Welle {wave})", "Largest development needs (wave {wave})"),
    "csum_top3": ("in {n} Behörden unter den drei größten", "among the three largest in {n} authorities"),
    "csum_top3_head": ("unter den drei größten (Behörden)", "among the three largest (authorities)"),
    "csum_ministries": ("Welche Ressorts sich unterscheiden (Welle {wave})", "Which ministries differ (wave {wave})"),
    "csum_min_rule": ("Ein Ressort unterscheidet sich, wenn der Kohortenmittelwert außerhalb des 95 %-Konfidenzintervalls des Ressorts liegt.",
                      "A ministry differs where the cohort mean lies outside the ministry's 95 % confidence interval."),
    "csum_min_above": ("{ministry}: {dim} über der Kohorte ({mean} gegenüber {cohort})", "{ministry}: {dim} above the cohort ({mean} vs {cohort})"),
    "csum_min_below": ("{ministry}: {dim} unter der Kohorte ({mean} gegenüber {cohort})", "{ministry}: {dim} below the cohort ({mean} vs {cohort})"),
    "csum_min_more": ("… und {n} weitere Unterschiede (siehe Ressortvergleich).", "… and {n} more differences (see the ministry comparison)."),
    "csum_min_none": ("Kein Ressort unterscheidet sich deutlich von der Kohorte.", "No ministry differs clearly from the cohort."),
    "needs_overview": ("Entwicklungsbedarfe der Kohorte", "Development needs of the cohort"),
    "needs_overview_intro": (
        "Mittlere Lücke (Soll − Ist) und mittlerer Bedarfsindex der ganzen Kohorte in Welle {wave}, und in wie vielen Behörden "
        "das Feld zu den drei größten Bedarfen gehört (gezählt über die Behörden mit mindestens {k} Antworten).",
        "Mean gap (required − current) and mean needs index of the whole cohort in wave {wave}, and in how many authorities the "
        "field is among the three largest needs (counted over the authorities with at least {k} answers).",
    ),
    "readiness_overview": ("Reality-Check der Kohorte", "Reality check of the cohort"),
    "readiness_overview_intro": (
        "Anteil der erfüllten Punkte je Bereich über alle Antwortenden (Welle {wave}), und wie viele der Behörden mit mindestens "
        "{k} Antwortenden unter der Hälfte liegen.",
        "Share of points fulfilled per area across all respondents (wave {wave}), and how many of the authorities with at least "
        "{k} respondents are below half.",
    ),
    "csum_below_half": ("Behörden unter 50 %", "Authorities below 50 %"),
    "csum_open_points": ("Am häufigsten offene Punkte", "Points most often open"),
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
        "Veränderung derselben Personen zwischen zwei Wellen (verknüpft über die pseudonymen Codes).",
        "Change of the same people between two waves (linked through their pseudonymous codes).",
    ),
    "pairs": ("Paare", "Pairs"),
    "before": ("vorher", "before"),
    "after": ("nachher", "after"),
    "diff_ci": ("Differenz [95 %-KI]", "Difference [95 % CI]"),
    "p_holm": ("p (Holm)", "p (Holm)"),
    "assessment": ("Einschätzung", "Assessment"),
    "change_caption": ("Mittelwerte je Welle mit 95 %-Konfidenzintervall", "Means per wave with 95 % confidence interval"),
    "change_table": ("Veränderung {a} → {b}", "Change {a} → {b}"),
    # change verdicts (toolkit.stats.verdict decides, these words say it)
    "verdict_up_certain": ("gesicherte Verbesserung ({band} Effekt)", "certain improvement ({band} effect)"),
    "verdict_down_certain": ("gesicherte Verschlechterung ({band} Effekt)", "certain decline ({band} effect)"),
    "verdict_up_uncertain": ("nicht gesichert (Tendenz zur Verbesserung, {band} Effekt)", "not certain (tendency to improve, {band} effect)"),
    "verdict_down_uncertain": ("nicht gesichert (Tendenz zur Verschlechterung, {band} Effekt)", "not certain (tendency to decline, {band} effect)"),
    "no_change": ("keine gesicherte Veränderung", "no certain change"),
    "band_negligible": ("vernachlässigbarer", "negligible"),
    "band_small": ("kleiner", "small"),
    "band_medium": ("mittlerer", "medium"),
    "band_large": ("großer", "large"),
    "verdict_rule": (
        "Gesichert heißt: Das 95 %-Konfidenzintervall der Differenz schließt null nicht ein und der Holm-korrigierte p-Wert liegt "
        "unter 0,05. Die Effektstärke d_z gilt als vernachlässigbar unter 0,2, als klein ab 0,2, als mittel ab 0,5 und als groß ab 0,8.",
        "Certain means: the 95 % confidence interval of the difference excludes zero and the Holm-adjusted p-value is below 0.05. "
        "The effect size d_z counts as negligible below 0.2, small from 0.2, medium from 0.5 and large from 0.8.",
    ),
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
    "influence_interest": ("Einfluss / Interesse", "Influence / interest"),
    "legitimacy_urgency": ("Legitimität / Dringlichkeit", "Legitimacy / urgency"),
    "priority": ("Priorität", "Priority"),
    "priority_basis": (
        "Geordnet nach Quadrant, darin nach Priorität (0–10): Quadrant (eng einbinden 3, zufriedenstellen 2, informieren 1, "
        "beobachten 0) + Zahl der Merkmale Macht (Einfluss), Legitimität und Dringlichkeit mit Median ab 4 + positive "
        "Einbindungslücke (gewünscht − aktuell). Alle Werte sind Mediane (1–5); die Nummern entsprechen der Matrix.",
        "Ordered by quadrant, within it by priority (0–10): quadrant (manage closely 3, keep satisfied 2, keep informed 1, "
        "monitor 0) + number of the attributes power (influence), legitimacy and urgency with a median of at least 4 + "
        "positive engagement gap (desired − current). All values are medians (1–5); the numbers match the grid.",
    ),
    "stakeholders_not_shown": (
        "{n} weitere Stakeholder wurden von weniger als {k} Personen eingeschätzt und werden deshalb nicht gezeigt, "
        "damit sich keine Einschätzung einer einzelnen Person ablesen lässt.",
        "{n} more stakeholders were rated by fewer than {k} people and are therefore not shown, so that no single "
        "person's rating can be read off.",
    ),
    # readiness
    "readiness_intro": ("Anteil der erfüllten Punkte je Bereich (ja = 1, teilweise = ½, nein = 0), gemittelt über {n} Antwortende (Welle {wave}).",
                        "Share of points fulfilled per area (yes = 1, partly = ½, no = 0), averaged over {n} respondents (wave {wave})."),
    "readiness_share": ("erfüllt", "fulfilled"),
    "overall": ("Gesamt", "Overall"),
    "open_points": ("Offene Punkte", "Open points"),
    "open_points_intro": (
        "Punkte, die mindestens eine Person mit „nein“ oder „teilweise“ beantwortet hat, die offensten zuerst; "
        "aufgeführt nur bei mindestens {k} gültigen Antworten („weiß nicht“ zählt nicht).",
        "Points that at least one person answered with \"no\" or \"partly\", the most open first; listed only with at "
        "least {k} valid answers (\"don't know\" does not count).",
    ),
    "open_points_none": ("Keine offenen Punkte: Alle ausreichend beantworteten Punkte wurden mit „ja“ beantwortet.",
                         "No open points: every sufficiently answered point was answered \"yes\"."),
    "open_point": ("Punkt", "Point"),
    "answer_no": ("nein", "no"),
    "answer_partly": ("teilweise", "partly"),
    "open_of_valid": ("offen / gültig", "open / valid"),
    "open_points_more": ("… und {n} weitere Punkte mit einzelnen Antworten „nein“ oder „teilweise“.",
                         "… and {n} more points with some \"no\" or \"partly\" answers."),
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
        "Datenschutz: Teilnehmende sind nur über selbst erzeugte, verschlüsselt gespeicherte Codes bekannt. Jeder Wert, der "
        "aus weniger als {k} Antworten (bei Veränderungen: Paaren) stammt, wird unterdrückt; im Kohortenbericht wird zusätzlich "
        "sekundär unterdrückt, damit ausgeblendete Werte nicht aus Summen zurückgerechnet werden können. Freitexte erscheinen nur "
        "für Gruppen ab {k} Antwortenden.",
        "Privacy: participants are known only by self-generated codes stored as keyed hashes. Any value based on fewer than {k} "
        "responses (for change: pairs) is suppressed; the cohort report also applies secondary suppression so hidden values "
        "cannot be recovered from totals. Free text appears only for groups of at least {k} respondents.",
    ),
    "rater_reliability": ("Übereinstimmung der Einschätzenden (ICC(2,1), ICC(2,k), Krippendorffs α)", "Rater agreement (ICC(2,1), ICC(2,k), Krippendorff's α)"),
    "role": ("Merkmal", "Rating"),
    "raters": ("Einschätzende", "Raters"),
    "stakeholders_n": ("Stakeholder", "Stakeholders"),
    "footer": ("Erstellt mit upo-toolkit {version} · {cohort} · Mindestgruppengröße {k}",
               "Generated with upo-toolkit {version} · {cohort} · minimum group size {k}"),
    # index key figures
    "headline_score": ("Kompetenz Ø ({wave})", "Competence mean ({wave})"),
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
