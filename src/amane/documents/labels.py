"""The fixed wording of printed documents, in Arabic, French and English.

Kept here rather than in the UI's ``i18n/*.yaml`` because a printed document is a legal text
whose wording changes rarely and must not follow a UI rewording by accident.
"""

from __future__ import annotations

LANGUAGES = ("ar", "fr", "en")

LABELS: dict[str, dict[str, str]] = {
    "kingdom": {"ar": "المملكة المغربية", "fr": "Royaume du Maroc", "en": "Kingdom of Morocco"},
    "incident_report": {"ar": "محضر واقعة", "fr": "Rapport d'incident (procès-verbal)", "en": "Incident report"},
    "case_summary": {"ar": "ملخص ملف القضية", "fr": "Résumé du dossier d'enquête", "en": "Case file summary"},
    "reference": {"ar": "المرجع", "fr": "Référence", "en": "Reference"},
    "version": {"ar": "الصيغة", "fr": "Version", "en": "Version"},
    "date": {"ar": "التاريخ", "fr": "Date", "en": "Date"},
    "printed_at": {"ar": "تاريخ الطبع", "fr": "Édité le", "en": "Printed on"},
    "state": {"ar": "الحالة", "fr": "État", "en": "Status"},
    "page": {"ar": "الصفحة", "fr": "page", "en": "page"},
    # "page 1 / 3": Arabic says "1 من 3", which reads right to left without a bidi ambiguity.
    "page_of": {"ar": "من", "fr": "/", "en": "/"},
    "author": {"ar": "المحرر", "fr": "Rédacteur", "en": "Author"},
    "offence": {"ar": "الجريمة أو المخالفة", "fr": "Infraction", "en": "Offence"},
    "place": {"ar": "المكان", "fr": "Lieu", "en": "Place"},
    "time_window": {"ar": "زمن الوقائع", "fr": "Date des faits", "en": "Time of the facts"},
    "from": {"ar": "من", "fr": "du", "en": "from"},
    "to": {"ar": "إلى", "fr": "au", "en": "to"},
    "reported_at": {"ar": "تاريخ التبليغ", "fr": "Date de la plainte", "en": "Reported on"},
    "narrative": {"ar": "الوقائع", "fr": "Exposé des faits", "en": "Narrative"},
    "persons": {"ar": "الأشخاص المعنيون", "fr": "Personnes concernées", "en": "Persons involved"},
    "role": {"ar": "الصفة", "fr": "Qualité", "en": "Role"},
    "name_ar": {"ar": "الاسم بالعربية", "fr": "Nom (arabe)", "en": "Name (Arabic)"},
    "name_latin": {"ar": "الاسم بالحروف اللاتينية", "fr": "Nom (latin)", "en": "Name (Latin)"},
    "birth_date": {"ar": "تاريخ الازدياد", "fr": "Né(e) le", "en": "Born"},
    "id_number": {"ar": "رقم الهوية", "fr": "N° d'identité", "en": "ID number"},
    "notes": {"ar": "ملاحظات", "fr": "Observations", "en": "Notes"},
    "objects": {"ar": "الأشياء والمحجوزات", "fr": "Objets et saisies", "en": "Objects"},
    "kind": {"ar": "النوع", "fr": "Nature", "en": "Kind"},
    "description": {"ar": "الوصف", "fr": "Description", "en": "Description"},
    "identifier": {"ar": "المعرف", "fr": "Identifiant", "en": "Identifier"},
    "approvals": {"ar": "المصادقة والتتبع", "fr": "Validation et suivi", "en": "Approval trail"},
    "action": {"ar": "الإجراء", "fr": "Action", "en": "Action"},
    "by": {"ar": "بواسطة", "fr": "Par", "en": "By"},
    "at": {"ar": "في", "fr": "Le", "en": "On"},
    "reason": {"ar": "السبب", "fr": "Motif", "en": "Reason"},
    "none": {"ar": "لا شيء", "fr": "Néant", "en": "None"},
    "title": {"ar": "العنوان", "fr": "Intitulé", "en": "Title"},
    "opened_at": {"ar": "تاريخ الفتح", "fr": "Ouvert le", "en": "Opened on"},
    "opened_by": {"ar": "فتح من طرف", "fr": "Ouvert par", "en": "Opened by"},
    "summary": {"ar": "ملخص", "fr": "Résumé", "en": "Summary"},
    "team": {"ar": "فريق البحث", "fr": "Équipe d'enquête", "en": "Investigation team"},
    "unit": {"ar": "الوحدة", "fr": "Unité", "en": "Unit"},
    "name": {"ar": "الاسم", "fr": "Nom", "en": "Name"},
    "incidents": {"ar": "الوقائع المرتبطة", "fr": "Incidents liés", "en": "Linked incidents"},
    "tasks": {"ar": "المهام", "fr": "Tâches", "en": "Tasks"},
    "assignee": {"ar": "المكلف", "fr": "Chargé(e)", "en": "Assignee"},
    "due": {"ar": "الأجل", "fr": "Échéance", "en": "Due"},
    "timeline": {"ar": "التسلسل الزمني", "fr": "Chronologie", "en": "Timeline"},
    "event": {"ar": "الحدث", "fr": "Événement", "en": "Event"},
    "signature": {"ar": "التوقيع", "fr": "Signature", "en": "Signature"},
    # CompStat
    "compstat": {"ar": "تقرير تتبع تطور الجريمة (CompStat)", "fr": "Tableau CompStat de la criminalité",
                 "en": "CompStat crime report"},
    "as_of": {"ar": "إلى غاية", "fr": "Arrêté au", "en": "As of"},
    "last_7_days": {"ar": "آخر 7 أيام", "fr": "7 derniers jours", "en": "Last 7 days"},
    "last_28_days": {"ar": "آخر 28 يوما", "fr": "28 derniers jours", "en": "Last 28 days"},
    "year_to_date": {"ar": "منذ بداية السنة", "fr": "Depuis le 1er janvier", "en": "Year to date"},
    "this_year": {"ar": "هذه السنة", "fr": "Cette année", "en": "This year"},
    "last_year": {"ar": "السنة الماضية", "fr": "Année précédente", "en": "Last year"},
    "change": {"ar": "التغير", "fr": "Évolution", "en": "Change"},
    "offence_category": {"ar": "صنف الجريمة", "fr": "Catégorie d'infraction", "en": "Offence category"},
    "total": {"ar": "المجموع", "fr": "Total", "en": "Total"},
    "compstat_note": {
        "ar": "الأرقام تشمل الوقائع المسجلة التي يخول لمستعمل التقرير الاطلاع عليها، "
              "ومقارنة بنفس الأيام من السنة الماضية.",
        "fr": "Faits enregistrés que l'éditeur du rapport est habilité à consulter, comparés aux mêmes jours de "
              "l'année précédente.",
        "en": "Recorded incidents the person who printed this report may see, against the same days a year earlier.",
    },
}

#: Values of workflow codes (states, roles, actions, classifications) shown on documents.
#: An unknown code is printed as it is, so a new state never breaks printing.
CODES: dict[str, dict[str, str]] = {
    # incident report states
    "draft": {"ar": "مسودة", "fr": "Brouillon", "en": "Draft"},
    "submitted": {"ar": "مقدم للمصادقة", "fr": "Soumis", "en": "Submitted"},
    "approved": {"ar": "مصادق عليه", "fr": "Approuvé", "en": "Approved"},
    "returned": {"ar": "مرجع لمحرره", "fr": "Renvoyé au rédacteur", "en": "Returned to the author"},
    "corrected": {"ar": "مصحح", "fr": "Rectifié", "en": "Corrected"},
    # case states
    "open": {"ar": "مفتوح", "fr": "Ouvert", "en": "Open"},
    "under_investigation": {"ar": "قيد البحث", "fr": "En cours d'enquête", "en": "Under investigation"},
    "referred": {"ar": "محال على النيابة العامة", "fr": "Transmis au parquet", "en": "Referred to the prosecutor"},
    "closed": {"ar": "مغلق", "fr": "Clos", "en": "Closed"},
    "archived": {"ar": "مؤرشف", "fr": "Archivé", "en": "Archived"},
    # task states
    "todo": {"ar": "للإنجاز", "fr": "À faire", "en": "To do"},
    "in_progress": {"ar": "قيد الإنجاز", "fr": "En cours", "en": "In progress"},
    "done": {"ar": "منجز", "fr": "Fait", "en": "Done"},
    "cancelled": {"ar": "ملغى", "fr": "Annulé", "en": "Cancelled"},
    # roles of persons in an incident
    "complainant": {"ar": "مشتك", "fr": "Plaignant(e)", "en": "Complainant"},
    "victim": {"ar": "ضحية", "fr": "Victime", "en": "Victim"},
    "suspect": {"ar": "مشتبه فيه", "fr": "Suspect(e)", "en": "Suspect"},
    "witness": {"ar": "شاهد", "fr": "Témoin", "en": "Witness"},
    "accused": {"ar": "متهم", "fr": "Mis(e) en cause", "en": "Accused"},
    "informant": {"ar": "مبلغ", "fr": "Informateur", "en": "Informant"},
    # roles in a case team
    "lead": {"ar": "المحقق الرئيسي", "fr": "Enquêteur principal", "en": "Lead investigator"},
    "member": {"ar": "عضو", "fr": "Membre", "en": "Member"},
    "supervisor": {"ar": "مشرف", "fr": "Superviseur", "en": "Supervisor"},
    # classifications
    "unclassified": {"ar": "غير مصنف", "fr": "Non classifié", "en": "Unclassified"},
    "restricted": {"ar": "محدود التداول", "fr": "Diffusion restreinte", "en": "Restricted"},
    "confidential": {"ar": "سري", "fr": "Confidentiel", "en": "Confidential"},
    "secret": {"ar": "سري للغاية", "fr": "Secret", "en": "Secret"},
}
