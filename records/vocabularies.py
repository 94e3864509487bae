"""Controlled vocabularies shipped as data, each term with its definition.

A common definition is one of the main asks of the agencies: two agencies
meaning different things by the same word is a known source of harm. These
tuples are loaded into ``records.Term`` by a data migration; the record page
shows the definition beside each value.
"""

from __future__ import annotations

# vocabulary -> (description, [(code, label, definition), ...])
VOCABULARIES: dict[str, tuple[str, list[tuple[str, str, str]]]] = {
    "sex": (
        "Sex as recorded on the NHS record.",
        [
            ("female", "Female", "Recorded as female."),
            ("male", "Male", "Recorded as male."),
            ("indeterminate", "Indeterminate", "Unable to be classified as either male or female."),
            ("not_known", "Not known", "Not recorded or not known."),
        ],
    ),
    "risk_level": (
        "Levels of current risk, as assessed by the mental health team.",
        [
            (
                "low",
                "Low",
                "No current indicators of risk beyond those of the general population in the same setting; usual procedures are enough.",
            ),
            (
                "medium",
                "Medium",
                "Identifiable indicators of risk; harm is unlikely unless circumstances change (for example stopping medication, drug or alcohol use, loss of accommodation). Extra care and information sharing needed.",
            ),
            (
                "high",
                "High",
                "Identifiable indicators of risk of serious harm; the event could happen at any time and the impact would be serious. Act on the custody advice and crisis plan now.",
            ),
        ],
    ),
    "diagnosis_group": (
        "The broad group of the main diagnosis, in plain words.",
        [
            (
                "psychosis",
                "Psychosis",
                "Conditions in which the person may lose contact with reality, such as schizophrenia and delusional disorders (ICD-10 F20-F29).",
            ),
            ("bipolar", "Bipolar disorder", "Episodes of mania or hypomania and of depression (ICD-10 F30-F31)."),
            ("mood", "Depression and other mood disorders", "Persistent low mood or other disorders of mood (ICD-10 F32-F39)."),
            (
                "anxiety",
                "Anxiety and stress-related disorders",
                "Including post-traumatic stress disorder and obsessive-compulsive disorder (ICD-10 F40-F48).",
            ),
            (
                "personality",
                "Personality disorder",
                "Long-standing patterns of thinking, feeling and relating that cause distress or harm (ICD-10 F60-F69).",
            ),
            (
                "substance",
                "Mental and behavioural disorder due to substance use",
                "Including dependence and drug-induced psychosis (ICD-10 F10-F19).",
            ),
            (
                "neurodevelopmental",
                "Learning disability or neurodevelopmental condition",
                "Learning disability, autism, ADHD (ICD-10 F70-F90).",
            ),
            ("organic", "Organic disorder", "Including dementia and brain injury (ICD-10 F00-F09)."),
            ("other", "Other", "A diagnosis outside the groups above; see the ICD-10 codes."),
        ],
    ),
    "mha_status": (
        "Legal status under the Mental Health Act 1983.",
        [
            ("none", "None (informal)", "Not subject to any section of the Mental Health Act."),
            ("s2", "Section 2", "Detained in hospital for assessment, up to 28 days."),
            ("s3", "Section 3", "Detained in hospital for treatment, up to 6 months, renewable."),
            (
                "cto",
                "Community treatment order (s.17A)",
                "Living in the community on conditions after detention for treatment; can be recalled to hospital.",
            ),
            ("s17_leave", "Section 17 leave", "Detained but on authorised leave of absence from hospital."),
            ("guardianship", "Guardianship (s.7 / s.37)", "Under the guardianship of the local authority in the community."),
            ("s37", "Hospital order (s.37)", "Detained in hospital for treatment by a court instead of a prison sentence."),
            (
                "s37_41_cd",
                "Restricted patient, conditionally discharged (s.37/41)",
                "Discharged from a restricted hospital order with conditions; supervised by the Ministry of Justice and can be recalled.",
            ),
            ("s47_49", "Transferred prisoner (s.47/49)", "Transferred from prison to hospital with restrictions."),
            ("s136_recent", "Recent section 136", "Removed to a place of safety by police under section 136 within the last 6 months."),
        ],
    ),
    "mappa_category": (
        "Multi-Agency Public Protection Arrangements category.",
        [
            ("1", "Category 1", "Registered sexual offenders."),
            (
                "2",
                "Category 2",
                "Violent offenders sentenced to 12 months or more, and certain other sexual or violent offenders (including hospital orders).",
            ),
            ("3", "Category 3", "Other dangerous offenders who pose a risk of serious harm."),
            ("4", "Category 4", "Terrorist and terrorist-risk offenders."),
        ],
    ),
    "mappa_level": (
        "MAPPA level of management.",
        [
            ("1", "Level 1", "Ordinary agency management by the lead agency."),
            ("2", "Level 2", "Active multi-agency management through regular MAPPA meetings."),
            ("3", "Level 3", "As level 2, with senior representation and extra resources: the highest risk cases."),
        ],
    ),
    "warning_marker": (
        "Warning markers.",
        [
            ("violent", "Violent", "Has used or threatened violence."),
            ("weapons", "Weapons", "Has carried or used weapons."),
            ("self_harm", "Self-harm", "Known to self-harm or to have attempted suicide."),
            ("mental_health", "Mental health", "Has a mental health condition relevant to contact."),
            ("drugs", "Drugs", "Known to misuse or supply drugs."),
            ("escaper", "Escaper", "Has escaped or attempted to escape from lawful custody."),
            ("suicidal", "Suicidal", "Known suicidal ideation or intent."),
            ("contagious", "Contagious", "Has a contagious condition; take precautions."),
            ("ailment", "Ailment", "Has a physical condition relevant to detention."),
        ],
    ),
    "establishment": (
        "Releasing establishments (synthetic list of prisons).",
        [
            ("hmp_liverpool", "HMP Liverpool", "Category B local prison."),
            ("hmp_altcourse", "HMP Altcourse", "Category B local prison."),
            ("hmp_risley", "HMP Risley", "Category C training prison."),
            ("hmp_manchester", "HMP Manchester", "Category A/B prison."),
            ("hmp_styal", "HMP Styal", "Closed women's prison."),
            ("hmp_kirkham", "HMP Kirkham", "Category D open prison."),
            ("hmp_walton", "HMP Walton", "Local prison."),
            ("other", "Other establishment", "Any establishment not listed."),
        ],
    ),
    "offence_category": (
        "Index offence categories.",
        [
            ("violence_against_person", "Violence against the person", "Including homicide, wounding and assault."),
            ("sexual", "Sexual offences", "Any sexual offence."),
            ("robbery", "Robbery", "Theft with force or threat of force."),
            ("burglary", "Burglary", "Entering a building as a trespasser to steal or cause harm."),
            ("theft", "Theft and handling", "Theft, shoplifting and handling stolen goods."),
            ("criminal_damage", "Criminal damage and arson", "Including arson."),
            ("drugs", "Drug offences", "Possession or supply of controlled drugs."),
            ("weapons", "Possession of weapons", "Possession of an offensive weapon or firearm."),
            ("public_order", "Public order", "Public order offences."),
            ("fraud", "Fraud", "Fraud and forgery."),
            ("other", "Other", "Any other offence."),
        ],
    ),
    "custody_outcome": (
        "Outcomes of a police custody episode.",
        [
            ("nfa", "No further action", "Released without further action."),
            ("charged", "Charged", "Charged and bailed or remanded."),
            ("bail", "Released on bail", "Released on pre-charge bail."),
            ("rui", "Released under investigation", "Released under investigation without bail."),
            ("diverted", "Diverted", "Diverted to health or social care by liaison and diversion."),
            ("s136", "Section 136", "Taken to a place of safety under section 136."),
            ("hospital", "Transferred to hospital", "Transferred to hospital for physical or mental health care."),
        ],
    ),
    "access_reason": (
        "Reasons for consulting a record (DPA 2018 s.62 requires logs to show the justification).",
        [
            ("custody_detention", "Person in police custody", "The person is detained or about to be detained in police custody."),
            (
                "s136_place_of_safety",
                "Section 136 / place of safety",
                "Police are considering or using section 136 of the Mental Health Act.",
            ),
            (
                "welfare_concern",
                "Welfare or safety concern",
                "Police or another agency are responding to an immediate concern for the person's safety or another person's.",
            ),
            ("risk_assessment", "Risk assessment", "Assessing risk to the person, the public or staff for a planned contact."),
            ("care_planning", "Care planning", "Planning or reviewing the person's care or treatment."),
            ("court_liaison", "Court or liaison assessment", "Liaison and diversion or court assessment."),
            ("release_planning", "Release or resettlement planning", "Planning the person's release from prison or resettlement."),
            ("offender_management", "Offender management", "Supervision, licence or MAPPA management by probation."),
            ("safeguarding", "Safeguarding", "Responding to a safeguarding concern about a child or vulnerable adult."),
            ("data_quality", "Record maintenance", "Correcting or updating the record as its owner."),
            (
                "subject_access_request",
                "Subject access request or inspection",
                "An information governance officer answering a subject access request, a complaint or an inspection (auditors only).",
            ),
            ("other", "Other (explain)", "Any other reason; the explanation is required."),
            (
                "notification",
                "Change notification",
                "Set by the system when it tells someone who follows a record that a followed item changed; not chosen by users.",
            ),
        ],
    ),
    "lawful_basis": (
        "The lawful basis for sharing a person's information without their consent (UK GDPR and DPA 2018).",
        [
            (
                "public_task_health",
                "Public task: health and social care",
                "UK GDPR Art. 6(1)(e) public task with Art. 9(2)(h) health or social care, DPA 2018 Sch. 1 para 2: "
                "an NHS body providing care shares what partners need to care for the person safely.",
            ),
            (
                "safeguarding",
                "Public task: safeguarding individuals at risk",
                "UK GDPR Art. 6(1)(e) with Art. 9(2)(g) substantial public interest, DPA 2018 Sch. 1 para 18: "
                "protecting a person at risk of harm when consent cannot reasonably be sought or would put them at risk.",
            ),
            (
                "vital_interests",
                "Vital interests",
                "UK GDPR Art. 6(1)(d) and Art. 9(2)(c): sharing is necessary to protect someone's life and the person cannot consent.",
            ),
            (
                "criminal_offence_data",
                "Criminal offence data: preventing or detecting crime",
                "UK GDPR Art. 10 with DPA 2018 Sch. 1 para 10: criminal offence information shared to prevent or detect unlawful acts.",
            ),
            (
                "law_enforcement",
                "Law enforcement processing (DPA 2018 Part 3)",
                "Processing by a competent authority for a law enforcement purpose (DPA 2018 s.31, s.35), "
                "sensitive processing strictly necessary under Sch. 8.",
            ),
        ],
    ),
    "emergency_reason": (
        "Why emergency ('break-glass') access to a withheld record was needed.",
        [
            (
                "custody_risk",
                "Person in custody at risk",
                "The person is in police custody and there is a risk to their life or health that withheld information may help manage.",
            ),
            ("threat_to_life", "Threat to life", "There is an immediate threat to the person's life or someone else's."),
            ("medical_emergency", "Medical emergency", "A clinician needs the information to treat the person now."),
            ("missing_at_risk", "Missing person at risk", "The person is missing and believed to be at risk of serious harm."),
        ],
    ),
}

ICD10_F = [
    ("F00", "Dementia in Alzheimer's disease"),
    ("F01", "Vascular dementia"),
    ("F02", "Dementia in other diseases"),
    ("F03", "Unspecified dementia"),
    ("F04", "Organic amnesic syndrome"),
    ("F05", "Delirium, not induced by alcohol and other psychoactive substances"),
    ("F06", "Other mental disorders due to brain damage and dysfunction and to physical disease"),
    ("F07", "Personality and behavioural disorders due to brain disease, damage and dysfunction"),
    ("F09", "Unspecified organic or symptomatic mental disorder"),
    ("F10", "Mental and behavioural disorders due to use of alcohol"),
    ("F11", "Mental and behavioural disorders due to use of opioids"),
    ("F12", "Mental and behavioural disorders due to use of cannabinoids"),
    ("F13", "Mental and behavioural disorders due to use of sedatives or hypnotics"),
    ("F14", "Mental and behavioural disorders due to use of cocaine"),
    ("F15", "Mental and behavioural disorders due to use of other stimulants"),
    ("F16", "Mental and behavioural disorders due to use of hallucinogens"),
    ("F17", "Mental and behavioural disorders due to use of tobacco"),
    ("F18", "Mental and behavioural disorders due to use of volatile solvents"),
    ("F19", "Mental and behavioural disorders due to multiple drug use"),
    ("F20", "Schizophrenia"),
    ("F21", "Schizotypal disorder"),
    ("F22", "Persistent delusional disorders"),
    ("F23", "Acute and transient psychotic disorders"),
    ("F24", "Induced delusional disorder"),
    ("F25", "Schizoaffective disorders"),
    ("F28", "Other nonorganic psychotic disorders"),
    ("F29", "Unspecified nonorganic psychosis"),
    ("F30", "Manic episode"),
    ("F31", "Bipolar affective disorder"),
    ("F32", "Depressive episode"),
    ("F33", "Recurrent depressive disorder"),
    ("F34", "Persistent mood [affective] disorders"),
    ("F38", "Other mood [affective] disorders"),
    ("F39", "Unspecified mood [affective] disorder"),
    ("F40", "Phobic anxiety disorders"),
    ("F41", "Other anxiety disorders"),
    ("F42", "Obsessive-compulsive disorder"),
    ("F43", "Reaction to severe stress, and adjustment disorders"),
    ("F44", "Dissociative [conversion] disorders"),
    ("F45", "Somatoform disorders"),
    ("F48", "Other neurotic disorders"),
    ("F50", "Eating disorders"),
    ("F51", "Nonorganic sleep disorders"),
    ("F52", "Sexual dysfunction, not caused by organic disorder or disease"),
    ("F53", "Mental and behavioural disorders associated with the puerperium"),
    ("F54", "Psychological and behavioural factors associated with disorders or diseases classified elsewhere"),
    ("F55", "Abuse of non-dependence-producing substances"),
    ("F59", "Unspecified behavioural syndromes associated with physiological disturbances"),
    ("F60", "Specific personality disorders"),
    ("F61", "Mixed and other personality disorders"),
    ("F62", "Enduring personality changes, not attributable to brain damage and disease"),
    ("F63", "Habit and impulse disorders"),
    ("F64", "Gender identity disorders"),
    ("F65", "Disorders of sexual preference"),
    ("F66", "Psychological and behavioural disorders associated with sexual development and orientation"),
    ("F68", "Other disorders of adult personality and behaviour"),
    ("F69", "Unspecified disorder of adult personality and behaviour"),
    ("F70", "Mild mental retardation"),
    ("F71", "Moderate mental retardation"),
    ("F72", "Severe mental retardation"),
    ("F73", "Profound mental retardation"),
    ("F78", "Other mental retardation"),
    ("F79", "Unspecified mental retardation"),
    ("F80", "Specific developmental disorders of speech and language"),
    ("F81", "Specific developmental disorders of scholastic skills"),
    ("F82", "Specific developmental disorder of motor function"),
    ("F83", "Mixed specific developmental disorders"),
    ("F84", "Pervasive developmental disorders"),
    ("F88", "Other disorders of psychological development"),
    ("F89", "Unspecified disorder of psychological development"),
    ("F90", "Hyperkinetic disorders"),
    ("F91", "Conduct disorders"),
    ("F92", "Mixed disorders of conduct and emotions"),
    ("F93", "Emotional disorders with onset specific to childhood"),
    ("F94", "Disorders of social functioning with onset specific to childhood and adolescence"),
    ("F95", "Tic disorders"),
    ("F98", "Other behavioural and emotional disorders with onset usually occurring in childhood and adolescence"),
    ("F99", "Mental disorder, not otherwise specified"),
]

VOCABULARIES["icd10_f"] = (
    "ICD-10 chapter V (F00-F99), mental and behavioural disorders, three-character level (WHO ICD-10 titles).",
    [(code, f"{code} {title}", title) for code, title in ICD10_F],
)
