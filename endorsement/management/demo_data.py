"""What `manage.py seed_demo` creates: people, member organisations and programmes, and the state
each programme's application is walked to. Plain data; the command feeds it to the services."""

from __future__ import annotations

from typing import Any

# Every demo login shares this password (printed by seed_demo, documented in the README).
DEMO_PASSWORD = "endorse-demo-2025"  # noqa: S105 - a published demo password, never for production

ADMIN = {"username": "admin", "email": "admin@body.example.org"}

# The certification body's own staff (added by `admin` through institutions.services.staff_add).
BODY_STAFF = [
    {"username": "manager", "email": "manager@body.example.org", "role": "manager"},
    {"username": "reviewer", "email": "reviewer@body.example.org", "role": "reviewer"},
    {"username": "reviewer2", "email": "reviewer2@body.example.org", "role": "reviewer"},
]

# Member organisations: `owner` applies with the organisation; `staff` are added by the owner once
# the body approved the membership. `approve: False` leaves the application pending.
ORGANISATIONS: list[dict[str, Any]] = [
    {
        "data": {
            "slug": "minato-university", "name": "Minato University", "name_ja": "港大学", "kind": "university",
            "description": "A private university in Tokyo with faculties of economics, informatics and "
                           "global studies, offering short programmes for working adults.",
            "website": "https://www.minato-u.example.jp", "country": "JP",
            "contact_name": "Keiko Tanaka", "contact_email": "recurrent@minato-u.example.jp",
            "contact_phone": "+81 3-0000-1234",
        },
        "owner": {"username": "owner", "email": "owner@minato-u.example.jp"},
        "staff": [
            {"username": "editor", "email": "editor@minato-u.example.jp", "role": "editor"},
            {"username": "issuer", "email": "issuer@minato-u.example.jp", "role": "issuer"},
        ],
        "approve": True,
    },
    {
        "data": {
            "slug": "sakura-nursing-college", "name": "Sakura Nursing College", "name_ja": "さくら看護専門学校",
            "kind": "college",
            "description": "A nursing college in Osaka with a simulation centre used for continuing "
                           "education of registered nurses.",
            "website": "https://www.sakura-nursing.example.jp", "country": "JP",
            "contact_name": "Michiko Sato", "contact_email": "office@sakura-nursing.example.jp",
        },
        "owner": {"username": "sakura-owner", "email": "owner@sakura-nursing.example.jp"},
        "staff": [{"username": "sakura-editor", "email": "editor@sakura-nursing.example.jp", "role": "editor"}],
        "approve": True,
    },
    {
        "data": {
            "slug": "kitakyushu-heavy-industries", "name": "Kitakyushu Heavy Industries Co., Ltd.",
            "name_ja": "北九州重工業株式会社", "kind": "company",
            "description": "A shipbuilding and steel-structure manufacturer running an in-house training "
                           "centre for its own staff and its suppliers.",
            "website": "https://www.khi-kitakyushu.example.co.jp", "country": "JP",
            "contact_name": "Daisuke Ogawa", "contact_email": "training@khi-kitakyushu.example.co.jp",
        },
        "owner": {"username": "kitakyushu-owner", "email": "owner@khi-kitakyushu.example.co.jp"},
        "staff": [],
        "approve": True,
    },
    {
        "data": {
            "slug": "hokuriku-language-academy", "name": "Hokuriku Language Academy",
            "name_ja": "北陸ランゲージアカデミー", "kind": "training_provider",
            "description": "A language school in Kanazawa teaching Japanese to engineers recruited abroad.",
            "website": "https://www.hokuriku-lang.example.jp", "country": "JP",
            "contact_name": "Anna Schmidt", "contact_email": "info@hokuriku-lang.example.jp",
        },
        "owner": {"username": "hokuriku-owner", "email": "owner@hokuriku-lang.example.jp"},
        "staff": [],
        "approve": False,
    },
]

# A reviewer's declared conflict of interest (the reviewer is never assigned to that organisation).
CONFLICTS = [
    {"reviewer": "reviewer2", "organisation": "kitakyushu-heavy-industries",
     "reason": "Worked at Kitakyushu Heavy Industries' training centre until 2023."},
]

_OPTIONAL_NA = {"PATHWAY": "not_applicable"}

# Each programme: its organisation, the editor who writes it, its content, and where its
# application goes ("walk"): a target state, the reviewers, their verdicts and the messages.
PROGRAMMES: list[dict[str, Any]] = [
    {
        "organisation": "minato-university", "editor": "editor",
        "walk": {"to": "published", "reviewers": ["reviewer", "reviewer2"],
                 "summary": "Clear outcomes, assessed by authentic tasks.",
                 "decision": "Meets every required criterion of the default table."},
        "data": {
            "slug": "data-literacy-for-business",
            "name_en": "Data Literacy for Business", "name_ja": "ビジネスのためのデータリテラシー",
            "description_en": "Working adults learn to read, clean, analyse and present business data with "
                              "spreadsheets and a notebook tool, and to question the numbers they are shown.",
            "description_ja": "社会人がスプレッドシートとノートブックを用いてビジネスデータを読み取り、整形・分析し、"
                              "提示する力、そして示された数字を批判的に吟味する力を身につける。",
            "criteria_narrative": "Awarded to learners who pass all three assessed assignments with at least "
                                  "60% and the final supervised online test.",
            "learning_outcomes": [
                "Clean and document a tabular data set of at least 10,000 rows",
                "Choose a chart that fits the question and the data, and justify the choice",
                "Explain a trend and its uncertainty to a non-specialist audience",
                "Identify misleading statistics in a business report",
            ],
            "learning_hours": "30.0", "level": "EQF 5", "level_framework": "European Qualifications Framework",
            "field_of_study": "Data analysis",
            "assessment_method": "Three graded assignments on real company data and a supervised online test "
                                 "(proctored, identity checked).",
            "assessment_supervised": True, "identity_verified": True,
            "evidence_policy": "Graded assignments are kept for five years and linked from each badge.",
            "credential_pattern": "modular", "achievement_type": "MicroCredential",
            "alignments": [{"name": "Information and data literacy", "framework": "DigComp 2.2",
                            "url": "https://joint-research-centre.ec.europa.eu/digcomp_en"}],
            "tags": ["data", "business", "statistics"], "language": "ja", "validity_months": 36,
            "participation_form": "online",
            "quality_assurance": "Reviewed every academic year by the Recurrent Education Committee, "
                                 "with an external employer member.",
            "prerequisites": "Basic spreadsheet skills.",
            "stackability": "Counts as 2 credits towards the university's Certificate in Business Analytics.",
            "responsible_person": "Prof. Taro Suzuki",
        },
    },
    {
        "organisation": "minato-university", "editor": "editor",
        "walk": {"to": "published", "reviewers": ["reviewer"],
                 "summary": "Well-designed role plays; optional pathway not stated.",
                 "verdicts": _OPTIONAL_NA,
                 "decision": "Endorsed. Consider stating a pathway to the JLPT-aligned certificate."},
        "data": {
            "slug": "japanese-business-communication",
            "name_en": "Japanese Business Communication (Intermediate)",
            "name_ja": "ビジネス日本語コミュニケーション（中級）",
            "description_en": "For international staff working in Japanese companies: meetings, e-mail, "
                              "keigo and reporting to a manager (hōrensō).",
            "description_ja": "日本企業で働く外国人社員のための、会議・メール・敬語・報連相の実践講座。",
            "criteria_narrative": "Awarded after a recorded role-play assessment and two written tasks, each "
                                  "judged against a published rubric at level 3 of 4 or above.",
            "learning_outcomes": [
                "Write a business e-mail in appropriate keigo",
                "Report progress and problems to a manager using hōrensō",
                "Take part in and summarise a meeting held in Japanese",
            ],
            "learning_hours": "45.0", "level": "CEFR B1–B2", "level_framework": "CEFR",
            "field_of_study": "Business Japanese",
            "assessment_method": "Recorded role play marked by two assessors against a rubric, plus two "
                                 "written tasks.",
            "assessment_supervised": True, "identity_verified": True,
            "evidence_policy": "Recordings and marked rubrics are kept for three years.",
            "credential_pattern": "modular", "achievement_type": "Course",
            "alignments": [{"name": "Can-do statements for business Japanese", "framework": "CEFR",
                            "url": "https://www.coe.int/en/web/common-european-framework-reference-languages"}],
            "tags": ["japanese", "communication", "business"], "language": "ja", "validity_months": None,
            "participation_form": "blended",
            "quality_assurance": "Course team review each term; learner and employer surveys.",
            "prerequisites": "JLPT N3 or equivalent.",
            "stackability": "",
            "responsible_person": "Assoc. Prof. Yuki Nakamura",
        },
    },
    {
        "organisation": "sakura-nursing-college", "editor": "sakura-editor",
        "walk": {"to": "published", "reviewers": ["reviewer", "reviewer2"],
                 "summary": "Simulation scenarios and debriefing meet the standard.",
                 "decision": "Endorsed for three years."},
        "data": {
            "slug": "acute-care-simulation",
            "name_en": "Clinical Simulation: Recognising the Deteriorating Patient",
            "name_ja": "臨床シミュレーション：急変の予兆を捉える看護",
            "description_en": "Registered nurses practise recognising and responding to a deteriorating "
                              "patient in high-fidelity simulation, with structured debriefing.",
            "description_ja": "看護師が高機能シミュレーターを用いて患者の急変の予兆を捉え対応する訓練を行い、"
                              "構造化されたデブリーフィングで振り返る。",
            "criteria_narrative": "Awarded after completing four scenarios and passing the observed "
                                  "structured clinical examination (OSCE) station.",
            "learning_outcomes": [
                "Assess a patient with the ABCDE approach",
                "Calculate an early warning score and escalate accordingly",
                "Hand over using SBAR",
            ],
            "learning_hours": "16.0", "level": "Continuing professional development",
            "level_framework": "Japanese Nursing Association clinical ladder",
            "assessment_method": "Observed OSCE station marked by two faculty against a checklist.",
            "assessment_supervised": True, "identity_verified": True,
            "evidence_policy": "OSCE checklists are kept for five years; video is deleted after debriefing.",
            "credential_pattern": "modular", "achievement_type": "MicroCredential",
            "alignments": [], "tags": ["nursing", "simulation", "patient safety"], "language": "ja",
            "validity_months": 24, "participation_form": "on_site",
            "quality_assurance": "Scenario review by the simulation committee twice a year.",
            "prerequisites": "Registered nurse licence.",
            "stackability": "One of three modules of the college's acute care certificate.",
            "responsible_person": "Michiko Sato, RN, PhD",
        },
    },
    {
        "organisation": "kitakyushu-heavy-industries", "editor": "kitakyushu-owner",
        "walk": {"to": "endorsed", "reviewers": ["reviewer"],
                 "summary": "Practical assessment well documented.",
                 "decision": "Endorsed; publication pending the company's go-ahead."},
        "data": {
            "slug": "welding-safety-fundamentals",
            "name_en": "Welding Safety Fundamentals", "name_ja": "溶接作業の安全基礎",
            "description_en": "Safe arc and gas welding on shipbuilding sites: fumes, fire, electric shock, "
                              "confined spaces and personal protective equipment.",
            "description_ja": "造船現場におけるアーク溶接・ガス溶接の安全：ヒューム、火災、感電、"
                              "閉所作業、保護具。",
            "criteria_narrative": "Awarded after a written test (80% or more) and a supervised practical "
                                  "check of a hot-work permit and workstation set-up.",
            "learning_outcomes": [
                "Prepare a hot-work permit and fire watch",
                "Select and inspect personal protective equipment",
                "Ventilate a confined space and measure its atmosphere before work",
            ],
            "learning_hours": "12.0", "level": "Entry", "level_framework": "Company skills ladder",
            "assessment_method": "Written test and a practical check observed by a certified instructor.",
            "assessment_supervised": True, "identity_verified": True,
            "evidence_policy": "Test papers and practical checklists are kept for the badge's validity.",
            "credential_pattern": "modular", "achievement_type": "Certificate",
            "alignments": [], "tags": ["welding", "safety", "manufacturing"], "language": "ja",
            "validity_months": 36, "participation_form": "on_site",
            "quality_assurance": "Annual review with the site safety committee.",
            "prerequisites": "", "stackability": "",
            "responsible_person": "Daisuke Ogawa, safety manager",
        },
    },
    {
        "organisation": "minato-university", "editor": "editor",
        "walk": {"to": "in_review", "reviewers": ["reviewer", "reviewer2"],
                 "partial": {"reviewer": {"LO": "met", "TIME": "met", "ASSESS": "partially_met"}}},
        "data": {
            "slug": "generative-ai-ethics",
            "name_en": "Generative AI in the Workplace: Ethics and Practice",
            "name_ja": "職場における生成AI：倫理と実践",
            "description_en": "What generative AI can and cannot do, copyright and privacy, and rules for "
                              "using it at work.",
            "description_ja": "生成AIにできること・できないこと、著作権とプライバシー、職場での利用ルール。",
            "criteria_narrative": "Awarded after a case-study report graded pass by two markers.",
            "learning_outcomes": [
                "Explain the limits of large language models to a colleague",
                "Draft an acceptable-use policy for a team",
            ],
            "learning_hours": "10.0", "level": "EQF 5", "level_framework": "European Qualifications Framework",
            "assessment_method": "Case-study report, double marked.",
            "evidence_policy": "Reports are kept for three years.",
            "credential_pattern": "modular", "achievement_type": "MicroCredential",
            "tags": ["AI", "ethics"], "language": "ja", "participation_form": "online",
            "quality_assurance": "Reviewed each term by the informatics faculty.",
            "responsible_person": "Dr. Kenji Watanabe",
        },
    },
    {
        "organisation": "sakura-nursing-college", "editor": "sakura-editor",
        "walk": {"to": "changes_requested", "reviewers": ["reviewer2"],
                 "verdicts": {"ASSESS": "partially_met", "EVIDENCE": "not_met"},
                 "summary": "Assessment relies on attendance; no evidence is kept.",
                 "message": "Please describe how each outcome is assessed (not attendance) and what "
                            "evidence of achievement you keep, and for how long."},
        "data": {
            "slug": "infection-prevention",
            "name_en": "Infection Prevention and Control in Home Care",
            "name_ja": "在宅ケアにおける感染予防と管理",
            "description_en": "Standard and transmission-based precautions for nurses and care workers "
                              "visiting patients at home.",
            "description_ja": "訪問看護・介護従事者のための標準予防策と感染経路別予防策。",
            "criteria_narrative": "Awarded on attendance of all six sessions.",
            "learning_outcomes": ["Apply standard precautions during a home visit",
                                  "Choose and don personal protective equipment in the right order"],
            "learning_hours": "8.0", "level": "Continuing professional development",
            "level_framework": "Japanese Nursing Association clinical ladder",
            "assessment_method": "Attendance register.",
            "evidence_policy": "Attendance registers are kept for one year.",
            "credential_pattern": "modular", "achievement_type": "CertificateOfCompletion",
            "tags": ["nursing", "infection control", "home care"], "language": "ja",
            "participation_form": "blended",
            "quality_assurance": "Reviewed by the infection control team.",
            "responsible_person": "Hiroshi Kato, RN",
        },
    },
    {
        "organisation": "sakura-nursing-college", "editor": "sakura-editor",
        "walk": {"to": "submitted", "reviewers": []},
        "data": {
            "slug": "dementia-care-communication",
            "name_en": "Communication in Dementia Care", "name_ja": "認知症ケアのコミュニケーション",
            "description_en": "Person-centred communication with people living with dementia and their "
                              "families, practised with simulated patients.",
            "description_ja": "認知症の人とその家族とのパーソン・センタード・コミュニケーションを、"
                              "模擬患者との演習で身につける。",
            "criteria_narrative": "Awarded after two observed conversations with simulated patients rated "
                                  "competent on the college's rubric.",
            "learning_outcomes": ["Use validation techniques in conversation",
                                  "Involve family members in care decisions"],
            "learning_hours": "14.0", "level": "Continuing professional development",
            "level_framework": "Japanese Nursing Association clinical ladder",
            "assessment_method": "Two observed conversations with simulated patients, rubric-rated.",
            "assessment_supervised": True, "evidence_policy": "Rubrics are kept for five years.",
            "credential_pattern": "modular", "achievement_type": "MicroCredential",
            "tags": ["nursing", "dementia", "communication"], "language": "ja", "participation_form": "on_site",
            "quality_assurance": "Reviewed annually with the regional dementia care network.",
            "responsible_person": "Michiko Sato, RN, PhD",
        },
    },
    {
        "organisation": "kitakyushu-heavy-industries", "editor": "kitakyushu-owner",
        "walk": {"to": "rejected", "reviewers": ["reviewer"],
                 "verdicts": {"GRAIN": "not_met", "CRITERIA": "partially_met"},
                 "summary": "A one-hour briefing, not a unit of learning.",
                 "decision": "Rejected: a one-hour safety briefing is below the granularity the body "
                             "endorses; consider folding it into the welding safety programme."},
        "data": {
            "slug": "site-induction-briefing",
            "name_en": "Shipyard Site Induction Briefing", "name_ja": "造船所 入構時安全説明",
            "description_en": "The one-hour briefing every visitor and new worker attends before entering "
                              "the shipyard.",
            "description_ja": "造船所に入構するすべての来訪者・新規作業者が受ける1時間の安全説明。",
            "criteria_narrative": "Attendance.",
            "learning_outcomes": ["Know the assembly points"],
            "learning_hours": "1.0", "assessment_method": "None beyond attendance.",
            "evidence_policy": "Sign-in sheet.", "credential_pattern": "modular",
            "achievement_type": "CertificateOfCompletion", "tags": ["safety"], "language": "ja",
            "participation_form": "on_site", "quality_assurance": "Yearly update by the safety office.",
            "responsible_person": "Daisuke Ogawa, safety manager",
        },
    },
    {
        "organisation": "minato-university", "editor": "editor",
        "walk": {"to": "withdrawn", "reviewers": [],
                 "comment": "Withdrawn: the course is being redesigned for next academic year."},
        "data": {
            "slug": "academic-writing-in-english",
            "name_en": "Academic Writing in English", "name_ja": "英語アカデミック・ライティング",
            "description_en": "Structuring and writing a short research paper in English.",
            "description_ja": "英語による短い研究論文の構成と執筆。",
            "criteria_narrative": "Awarded for a paper graded B or above.",
            "learning_outcomes": ["Write a structured abstract", "Cite sources in APA style"],
            "learning_hours": "20.0", "assessment_method": "Graded paper.",
            "evidence_policy": "Papers are kept for three years.", "tags": ["english", "writing"],
            "language": "en", "participation_form": "online",
            "quality_assurance": "Faculty review each year.", "responsible_person": "Dr. Emily Clarke",
        },
    },
    {
        "organisation": "minato-university", "editor": "editor",
        "walk": {"to": "draft", "reviewers": []},
        "data": {
            "slug": "python-foundations",
            "name_en": "Python Programming Foundations", "name_ja": "Pythonプログラミング基礎",
            "description_en": "Variables, control flow, functions and files, for staff automating "
                              "office tasks.",
            "learning_outcomes": ["Write a script that renames and sorts files",
                                  "Read and summarise a CSV file"],
            "learning_hours": "24.0", "tags": ["programming", "python"], "language": "ja",
            "participation_form": "online",
        },
    },
]
